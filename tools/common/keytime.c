/* UTC time parsing and printing for the key tool (FORMAT §1.4). */
#include "keytime.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* n decimal digits at p; 1 and *v on success. */
static int digits(const char *p, int n, unsigned *v)
{
    unsigned x = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return 0;
        x = x * 10 + (unsigned)(p[i] - '0');
    }
    *v = x;
    return 1;
}

static int leap(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int keytime_parse(const char *text, uint64_t *ms)
{
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30,
                                     31, 31, 30, 31, 30, 31};
    unsigned y, mo, d, h = 0, mi = 0, s = 0;
    size_t n = strlen(text);
    if (n < 10 || !digits(text, 4, &y) || text[4] != '-' ||
        !digits(text + 5, 2, &mo) || text[7] != '-' ||
        !digits(text + 8, 2, &d))
        return 0;
    if (n == 10) {
        /* date only: midnight UTC */
    } else if (n == 17 && text[10] == 'T' && text[13] == ':' &&
               text[16] == 'Z' && digits(text + 11, 2, &h) &&
               digits(text + 14, 2, &mi)) {
    } else if (n == 20 && text[10] == 'T' && text[13] == ':' &&
               text[16] == ':' && text[19] == 'Z' &&
               digits(text + 11, 2, &h) && digits(text + 14, 2, &mi) &&
               digits(text + 17, 2, &s)) {
    } else {
        return 0;
    }
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 ||
        s > 59)
        return 0;
    if (d > mdays[mo - 1] + (mo == 2 && leap(y)))
        return 0;
    int64_t days = days_from_civil(y, mo, d);
    *ms = ((uint64_t)days * 86400 + h * 3600u + mi * 60u + s) * 1000u;
    return 1;
}

void keytime_format(uint64_t ms, char out[KEYTIME_BYTES])
{
    uint64_t secs = ms / 1000;
    unsigned frac = (unsigned)(ms % 1000);
    int64_t y;
    unsigned mo, d;
    civil_from_days((int64_t)(secs / 86400), &y, &mo, &d);
    unsigned sod = (unsigned)(secs % 86400);
    int n = snprintf(out, KEYTIME_BYTES,
                     "%04" PRId64 "-%02u-%02uT%02u:%02u:%02u", y, mo, d,
                     sod / 3600, sod / 60 % 60, sod % 60);
    if (n > 0 && n < KEYTIME_BYTES) {
        if (frac != 0)
            snprintf(out + n, (size_t)(KEYTIME_BYTES - n), ".%03uZ", frac);
        else
            snprintf(out + n, (size_t)(KEYTIME_BYTES - n), "Z");
    }
}

uint64_t keytime_now(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec < 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
