/* swsync-agent: the station's command line. The table below names every
 * command; each lives in cmd_<name>.c (agent/README.md "Command line"). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "swlog.h"

/* One line per command: X(name on the command line, function, summary).
 * Adding a command = a cmd_<name>.c file (globbed by CMake) + one line. */
#define CLI_COMMANDS(X)                                                      \
    X("init", cmd_init, "create a station folder (key, replica, config)")   \
    X("tables", cmd_tables, "list the tables and their columns")             \
    X("add", cmd_add, "add a record (validated)")                            \
    X("change", cmd_change, "change columns of a record (validated)")        \
    X("show", cmd_show, "show one record, every column")                     \
    X("list", cmd_list, "list records (no personal or sensitive columns)")   \
    X("remove", cmd_remove, "delete a record")                               \
    X("seal", cmd_seal, "sign pending changes into the station's log")      \
    X("status", cmd_status, "pending changes, the feed's head, problems")    \
    X("history", cmd_history, "every signed change to one record")          \
    X("export", cmd_export, "write the station's frames to a bundle file")   \
    X("import-bundle", cmd_import_bundle, "merge a bundle from the county hub") \
    X("import", cmd_import, "add rows to a table from a CSV file")           \
    X("template", cmd_template, "write a table's CSV template for import")    \
    X("sync", cmd_sync, "send sealed frames to the hub, keep receipts")      \
    X("run", cmd_run, "stay in sync with the hub until stopped")

#define DECLARE(name, fn, summary) int fn(int argc, char **argv);
CLI_COMMANDS(DECLARE)
#undef DECLARE

typedef struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} command;

#define ENTRY(name, fn, summary) {name, fn, summary},
static const command commands[] = {CLI_COMMANDS(ENTRY)};
#undef ENTRY
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fputs("usage: swsync-agent [--dir DIR] COMMAND [ARGS...]\n"
          "\n"
          "The station agent: records in the replica, sealed into the\n"
          "station's signed log, synced with the county hub.\n"
          "\n",
          f);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].summary);
    fputs("\n"
          "swsync-agent COMMAND --help describes each. DIR is the station\n"
          "folder: --dir DIR, else $SWSYNC_DIR, else the current folder.\n"
          "A sealed key file's passphrase is read from the file named by\n"
          "$SWSYNC_PASSPHRASE_FILE, else asked on the terminal.\n"
          "\n"
          "Exit codes: 0 done; 1 the operation failed (I/O, database, log);\n"
          "2 bad command line; 3 input refused by validation (nothing\n"
          "written). See agent/README.md \"Command line\".\n",
          f);
}

int main(int argc, char **argv)
{
    /* The command is the first argument that is not --dir (and its
     * value); it goes first so commands see argv[0] = their name and find
     * --dir themselves (cli_dir). */
    int ci = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0) {
            i++;
            continue;
        }
        if (strncmp(argv[i], "--dir=", 6) == 0)
            continue;
        ci = i;
        break;
    }
    if (ci < 0) {
        usage(stderr);
        return CLI_EUSAGE;
    }
    const char *name = argv[ci];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 ||
        strcmp(name, "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(name, "--version") == 0) {
        printf("swsync-agent (swsync)\n");
        return CLI_OK;
    }
    for (size_t i = 0; i < NCOMMANDS; i++) {
        if (strcmp(commands[i].name, name) != 0)
            continue;
        /* argv[ci] moves to the front; the rest keep their order. */
        for (int j = ci; j > 1; j--)
            argv[j] = argv[j - 1];
        argv[1] = (char *)name;
        if (swlog_init() != 0) {
            fprintf(stderr, "swsync-agent: libsodium failed to start\n");
            return CLI_EFAIL;
        }
        /* No replica_process_init(): its raised statement-journal spill
         * makes SQLite 3.40 fail big statements with SQLITE_FULL (a merge
         * of a bundle, a multi-row update); agent/README.md "Cost of
         * capture". */
        return commands[i].fn(argc - 1, argv + 1);
    }
    fprintf(stderr, "swsync-agent: unknown command '%.40s' (see "
                    "swsync-agent --help)\n", name);
    return CLI_EUSAGE;
}
