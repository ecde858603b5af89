/* swsync-hub change, add and transfer (author_cmd.c). Exit codes: 0 done,
 * 1 failed, 2 bad command line or unknown row/unit, 3 refused by
 * validation (nothing written). */
#ifndef AUTHOR_CMD_H
#define AUTHOR_CMD_H

#include "hub_config.h"

int author_cmd_change(const hub_config *cfg, int add, int npos,
                      const char *const *pos, const char *operator_);
int author_cmd_transfer(const hub_config *cfg, const char *case_id,
                        const char *to, const char *operator_);
/* main() of these commands: argv[1] is the command. */
int author_cmd_main(int argc, char **argv);

#endif
