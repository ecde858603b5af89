/* The one-line report of a verification problem, shared by swsync-verify
 * and swsync-dump: text and JSON. It holds file, offset, feed, seq, message
 * and code; never record contents. */
#ifndef PROBLEM_H
#define PROBLEM_H

#include <stdio.h>

#include "verify_loop.h"

/* "<prefix>station.log:18344: feed 3b6a…91 seq 12: message (SWLOG_ESIG)".
 * Returns ferror(out). */
int problem_text(FILE *out, const char *prefix, const verify_problem *p);
/* {"type":"problem","file":…,"offset":…,"feed":…,"seq":…,"severity":…,
 *  "code":…,"message":…} and a newline. Returns ferror(out). */
int problem_json(FILE *out, const verify_problem *p);

#endif
