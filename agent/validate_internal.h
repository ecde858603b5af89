/* Helpers shared by validate.c and validate_rules.c (not for other modules). */
#ifndef VALIDATE_INTERNAL_H
#define VALIDATE_INTERNAL_H

int validate__digit(char c);
/* HH:MM, 00:00..23:59. */
int validate__time(const char *t);
/* RFC 3339 UTC: YYYY-MM-DDTHH:MM:SS[.f]Z. */
int validate__instant(const char *s);
/* Today in China Standard Time (SCHEMA §1), YYYY-MM-DD. */
void validate__today(char out[11]);

#endif
