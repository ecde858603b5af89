/* swsync-agent, the station's command line: one file per command
 * (cmd_<name>.c, each exporting `int cmd_<name>(int argc, char **argv)`,
 * registered in main.c's table). This header is what the commands share:
 * the station folder, its configuration, its key, messages and the
 * progress line. Layout of the folder and of station.conf: agent/README.md
 * "Station folder". */
#ifndef CLI_H
#define CLI_H

#include <stdint.h>

#include "keyfile.h"
#include "replica.h"
#include "swlog.h"

/* Exit codes of every command (each --help lists them). */
enum cli_exit {
    CLI_OK = 0,
    CLI_EFAIL = 1,    /* the operation failed (I/O, database, log, network) */
    CLI_EUSAGE = 2,   /* bad command line */
    CLI_EINVALID = 3, /* input refused by validation: nothing written */
};

#define CLI_PATH_MAX 4096

/* An initialised station folder, with its configuration (station.conf). */
typedef struct cli_station {
    char dir[CLI_PATH_MAX];
    char unit[SWLOG_MAX_UNIT + 1];   /* the station's unit code */
    char hub_url[1024];              /* "" when none is configured */
    char hub_ca[CLI_PATH_MAX];       /* the CA file that signs the hub */
    char hub_key[2 * SWLOG_PUBKEY_BYTES + 1]; /* hex, "" when unknown */
    char key_path[CLI_PATH_MAX];     /* station.key (FORMAT §13) */
    char replica_path[CLI_PATH_MAX]; /* replica.db */
    char log_path[CLI_PATH_MAX];     /* station.log: the station's feed */
    uint8_t pk[SWLOG_PUBKEY_BYTES];  /* the station's public key */
    replica *r;                      /* the open replica */
} cli_station;

/* The folder: `--dir DIR` or `--dir=DIR` anywhere in argv (removed from
 * argv, *argc updated), else $SWSYNC_DIR, else ".". */
const char *cli_dir(int *argc, char **argv);

/* Read DIR/station.conf and open the replica (migrating it forward). A
 * folder that is not initialised: SWLOG_EARG with "run swsync-agent init". */
int cli_station_open(const char *dir, cli_station *st, swlog_error *err);
void cli_station_close(cli_station *st); /* closes the replica; idempotent */

/* The station's secret key from its key file; a sealed file's passphrase
 * from $SWSYNC_PASSPHRASE_FILE / the terminal (never echoed, never
 * logged). Free with keyfile_key_free (wipes). */
int cli_station_key(const cli_station *st, keyfile_key **out,
                    swlog_error *err);

/* Print "swsync-agent CMD: <message>" on stderr, then return code. */
int cli_fail(const char *cmd, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same for a swlog_error: its message, its code name, and hint (may be
 * NULL) on a second line saying what to do. Returns CLI_EFAIL. */
int cli_fail_err(const char *cmd, const swlog_error *err, const char *hint);

/* A progress line on stderr, only when stderr is a terminal; redrawn at
 * most ~10 times a second; cli_progress_end clears it. total 0 = unknown. */
typedef struct cli_progress {
    int tty;
    const char *what;
    uint64_t total, done;
    int64_t last_ms;
    int64_t start_ms;
} cli_progress;
void cli_progress_start(cli_progress *p, const char *what, uint64_t total);
void cli_progress_update(cli_progress *p, uint64_t done);
void cli_progress_end(cli_progress *p);

#endif
