/* Passphrase input for key files (spec/SECURITY.md "Key files"). */
#include "passphrase.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "keyfile.h"

#define BUF_BYTES (KEYFILE_PASS_MAX + 2)

void passphrase_free(char *p)
{
    sodium_free(p);
}

/* One line from fd, a byte at a time so nothing after it is consumed (two
 * passphrases can share a descriptor, one a line). */
static int read_line(int fd, char *buf, size_t *len, swlog_error *err)
{
    size_t n = 0;
    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return swlog_fail(err, SWLOG_EIO, 0, "cannot read the passphrase: %s",
                        strerror(errno));
        if (r == 0 || c == '\n')
            break;
        if (n > KEYFILE_PASS_MAX)
            return swlog_fail(err, SWLOG_EARG, 0, "the passphrase is longer than %u "
                                         "bytes", KEYFILE_PASS_MAX);
        buf[n++] = c;
    }
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    if (n > KEYFILE_PASS_MAX)
        return swlog_fail(err, SWLOG_EARG, 0, "the passphrase is longer than %u bytes",
                    KEYFILE_PASS_MAX);
    *len = n;
    return SWLOG_OK;
}

static int prompt(int tty, const char *text, char *buf, size_t *len,
                  swlog_error *err)
{
    struct termios old, quiet;
    if (tcgetattr(tty, &old) != 0)
        return swlog_fail(err, SWLOG_EIO, 0, "cannot set up the terminal: %s",
                    strerror(errno));
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
    quiet.c_lflag |= ICANON;
    if (write(tty, text, strlen(text)) < 0 ||
        tcsetattr(tty, TCSAFLUSH, &quiet) != 0)
        return swlog_fail(err, SWLOG_EIO, 0, "cannot prompt on the terminal: %s",
                    strerror(errno));
    int rc = read_line(tty, buf, len, err);
    tcsetattr(tty, TCSAFLUSH, &old);
    if (write(tty, "\n", 1) < 0)
        rc = rc != SWLOG_OK ? rc : swlog_fail(err, SWLOG_EIO, 0, "terminal write");
    return rc;
}

static int from_tty(const char *what, int confirm, char *buf, size_t *len,
                    swlog_error *err)
{
    int tty = isatty(STDIN_FILENO) ? open("/dev/tty", O_RDWR | O_CLOEXEC)
                                   : -1;
    if (tty < 0)
        return swlog_fail(err, KEYFILE_ENOPASS, 0,
                    "no passphrase given and no terminal to ask on; use "
                    "--passphrase-env VAR or --passphrase-fd N");
    char text[300];
    snprintf(text, sizeof text, "Passphrase for %s: ", what);
    int rc = prompt(tty, text, buf, len, err);
    if (rc == SWLOG_OK && confirm) {
        char *again = sodium_malloc(BUF_BYTES);
        size_t n = 0;
        if (again == NULL)
            rc = swlog_fail(err, SWLOG_ENOMEM, 0, "no locked memory");
        else {
            snprintf(text, sizeof text, "Again, for %s: ", what);
            rc = prompt(tty, text, again, &n, err);
            if (rc == SWLOG_OK &&
                (n != *len || sodium_memcmp(again, buf, n) != 0))
                rc = swlog_fail(err, SWLOG_EARG, 0, "the two passphrases differ");
        }
        sodium_free(again);
    }
    close(tty);
    return rc;
}

int passphrase_get(const passphrase_src *src, const char *what, int confirm,
                   char **out, size_t *len, swlog_error *err)
{
    char *buf = sodium_malloc(BUF_BYTES);
    if (buf == NULL)
        return swlog_fail(err, SWLOG_ENOMEM, 0, "no locked memory for a passphrase");
    size_t n = 0;
    int rc = SWLOG_OK;
    if (src != NULL && src->env != NULL) {
        const char *v = getenv(src->env);
        if (v == NULL)
            rc = swlog_fail(err, SWLOG_EARG, 0,
                            "the --passphrase-env variable is not set");
        else if ((n = strlen(v)) > KEYFILE_PASS_MAX)
            rc = swlog_fail(err, SWLOG_EARG, 0,
                      "the passphrase in %s is longer than %u bytes",
                      src->env, KEYFILE_PASS_MAX);
        else
            memcpy(buf, v, n + 1);
    } else if (src != NULL && src->fd >= 0) {
        rc = read_line(src->fd, buf, &n, err);
    } else {
        rc = from_tty(what, confirm, buf, &n, err);
    }
    if (rc == SWLOG_OK && n == 0)
        rc = swlog_fail(err, SWLOG_EARG, 0, "the passphrase for %s is empty", what);
    if (rc != SWLOG_OK) {
        sodium_free(buf);
        return rc;
    }
    *out = buf;
    *len = n;
    return SWLOG_OK;
}
