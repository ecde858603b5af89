/* Reading a key file's passphrase: from an environment variable, from a file
 * descriptor, or from the terminal with echo off. Never from the command
 * line, where every user of the machine could read it. */
#ifndef PASSPHRASE_H
#define PASSPHRASE_H

#include <stddef.h>

#include "swlog.h"

typedef struct passphrase_src {
    const char *env; /* name of an environment variable, or NULL */
    int fd;          /* a descriptor to read one line from, or -1 */
} passphrase_src;

/* Get a passphrase into locked memory (*out NUL-terminated, *len bytes):
 * from src->env, else src->fd (one line, without its "\n" or "\r\n"), else
 * the terminal when standard input is one (prompt names what; confirm asks
 * twice). KEYFILE_ENOPASS when there is no source, SWLOG_EARG for an empty
 * or overlong (> KEYFILE_PASS_MAX bytes) passphrase, an unset variable or
 * two prompts that differ. Release with passphrase_free. */
int passphrase_get(const passphrase_src *src, const char *what, int confirm,
                   char **out, size_t *len, swlog_error *err);
/* Wipe and release; NULL is fine. */
void passphrase_free(char *p);

#endif
