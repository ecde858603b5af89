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
    /* Added after the first version of this header: */
    char operator_name[SWLOG_MAX_AUTHOR + 1]; /* station.conf operator */
    int has_pk;                      /* pk read from the key file */
    char key_problem[160];           /* why not ("" when has_pk) */
} cli_station;

/* The folder: `--dir DIR` or `--dir=DIR` anywhere in argv (removed from
 * argv, *argc updated), else $SWSYNC_DIR, else ".". */
const char *cli_dir(int *argc, char **argv);

/* Read DIR/station.conf and open the replica (migrating it forward). A
 * folder that is not initialised: SWLOG_EARG with "run swsync-agent init". */
int cli_station_open(const char *dir, cli_station *st, swlog_error *err);
void cli_station_close(cli_station *st); /* closes the replica; idempotent */
/* The same with flags: CLI_OPEN_NO_REPLICA leaves st->r NULL;
 * CLI_OPEN_KEY_OPTIONAL records a key file that cannot be read (mode,
 * missing, damaged) in st->key_problem instead of failing (status). */
#define CLI_OPEN_NO_REPLICA 1u
#define CLI_OPEN_KEY_OPTIONAL 2u
int cli_station_load(const char *dir, unsigned flags, cli_station *st,
                     swlog_error *err);
/* Parse station.conf text (name is used in messages) into st: `key = value`
 * lines, `#` comments, blank lines. Unknown keys, duplicates, lines without
 * '=' and overlong values are SWLOG_EINVAL naming the line. Paths are made
 * absolute against dir (st->dir, which must be set). */
#define CLI_CONF_MAX 65536 /* bytes of station.conf read at most */
int cli_conf_parse(const char *text, size_t len, const char *name,
                   cli_station *st, swlog_error *err);

/* The operator to record: --operator, else station.conf, else the
 * replica's default ("direct" would be misleading for the CLI, so
 * CLI_DEFAULT_OPERATOR). */
#define CLI_DEFAULT_OPERATOR "station"
const char *cli_operator(const cli_station *st, const char *opt);
/* An operator name: 1..SWLOG_MAX_AUTHOR bytes, no control characters, no
 * space at either end (station.conf trims them). */
int cli_operator_ok(const char *name);

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

/* ---- helpers for the commands (added after the first version) ---------- */

/* argv[0] of every command is its name ("add"); options follow anywhere.
 * 1 when --help or -h appears (before "--"): text printed on stdout. */
int cli_want_help(int argc, char **argv, const char *text);

/* Options: "--name VALUE", "--name=VALUE" and flags; "--" ends options.
 * Positional arguments go to pos (at most npos_max; more is an error).
 * Returns CLI_OK or CLI_EUSAGE (reported, naming cmd). */
enum { CLI_VALUE, CLI_FLAG };
typedef struct cli_opt {
    const char *name; /* without the leading "--" */
    int kind;         /* CLI_VALUE: const char **dst; CLI_FLAG: int *dst */
    void *dst;
} cli_opt;
int cli_parse(const char *cmd, int argc, char **argv, const cli_opt *opts,
              size_t nopts, const char **pos, size_t npos_max, size_t *npos);

/* "col=value": 0 with *col (NUL-terminated copy into colbuf) and *value
 * pointing into arg; -1 when there is no '=' or the name is empty or longer
 * than SWLOG_MAX_NAME. An empty value ("col=") means NULL for change. */
int cli_assignment(const char *arg, char colbuf[SWLOG_MAX_NAME + 1],
                   const char **value);
/* Strict integer: optional '-', digits only, no overflow. 1 on success. */
int cli_parse_int(const char *text, long long *v);
/* dir/name into out: 0, or -1 when longer than CLI_PATH_MAX. */
int cli_path(char out[CLI_PATH_MAX], const char *dir, const char *name);
/* Milliseconds since the Unix epoch (wall clock) / a monotonic clock. */
int64_t cli_now_ms(void);
int64_t cli_mono_ms(void);
/* What to do when sealing (or the key) fails with code, or NULL. */
const char *cli_seal_hint(int code);
/* "2026-11-23T03:50:12.345Z" from Unix ms into out[32]. */
void cli_time_text(int64_t ms, char out[32]);

#endif
