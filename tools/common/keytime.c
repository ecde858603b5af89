/* UTC time parsing and printing for the key tool (FORMAT §1.4). */
#include "keytime.h"

#include "fmt.h"

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
    /* fmt_ms prints the milliseconds always; operators type whole seconds,
     * so ".000" is dropped to show back what they typed. */
    char t[FMT_TIME_BYTES];
    fmt_ms(ms, t);
    size_t n = strlen(t);
    if (n > 5 && strcmp(t + n - 5, ".000Z") == 0)
        memcpy(t + n - 5, "Z", 2);
    snprintf(out, KEYTIME_BYTES, "%s", t);
}

uint64_t keytime_now(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec < 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
