/* swsync-hub conflicts and resolve (conflict_cmd.c): review the conflicts
 * waiting in the hub replica (hub_conflicts.h) and resolve one by a signed
 * change-set in the hub's feed (hub_author.h). Exit codes: 0 done, 1
 * failed, 2 bad command line or unknown id, 3 the chosen value is refused
 * by validation (nothing written). */
#ifndef CONFLICT_CMD_H
#define CONFLICT_CMD_H

/* main() of these commands: argv[1] is "conflicts" or "resolve". */
int conflict_cmd_main(int argc, char **argv);

#endif
