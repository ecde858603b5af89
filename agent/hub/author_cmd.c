/* swsync-hub change, add and transfer: county staff write records through
 * the hub (hub_author.h). The data folder is opened as the server opens it
 * (recovery included) under its exclusive lock, so the hub must be stopped;
 * rows are read and validated in the hub replica with the station's rules
 * (rec.h, validate.h). */
#include "author_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hub_author.h"
#include "keyfile.h"
#include "rec.h"
#include "replica.h"

#define MAX_ARGS 256

static void report(const char *what, const hub_author_out *o)
{
    printf("%s: %u change-set%s (%llu record%s) in the hub's feed, seq "
           "%llu..%llu, for %s\n", what, o->frames, o->frames == 1 ? "" : "s",
           (unsigned long long)o->records, o->records == 1 ? "" : "s",
           (unsigned long long)o->first_seq,
           (unsigned long long)o->last_seq,
           strcmp(o->to, "*") == 0 ? "every station of the county" : o->to);
}

static int open_hub(const hub_config *cfg, hub **h)
{
    const char *pass = NULL;
    swlog_error err = {0};
    if (cfg->passphrase_env[0] != '\0' &&
        (pass = getenv(cfg->passphrase_env)) == NULL) {
        fprintf(stderr, "swsync-hub: passphrase_env names %s, which is not "
                        "set\n", cfg->passphrase_env);
        return 1;
    }
    if (hub_open(cfg, pass, h, &err) != SWLOG_OK) {
        fprintf(stderr, "swsync-hub: %s\n", err.msg);
        return 1;
    }
    return 0;
}

/* change TABLE ID col=value... / add TABLE col=value... */
int author_cmd_change(const hub_config *cfg, int add, int npos,
                      const char *const *pos, const char *operator_)
{
    const char *cmd = add ? "hub add" : "hub change";
    int need = add ? 2 : 3;
    if (npos < need) {
        fprintf(stderr, "swsync-hub: %s: give TABLE%s and at least one "
                        "COLUMN=VALUE (see --help)\n", cmd,
                add ? "" : ", ID");
        return 2;
    }
    const schema_table *t = rec_table(cmd, pos[0]);
    if (t == NULL)
        return 2;
    rec_row probe;
    unsigned char cols[SCHEMA_MAX_COLUMNS] = {0};
    if (rec_row_init(&probe, t) != 0)
        return 1;
    int rc = rec_assign(cmd, &probe, npos - (need - 1), pos + (need - 1),
                        !add, cols);
    rec_row_clear(&probe);
    if (rc != CLI_OK)
        return rc;
    hub *h = NULL;
    if (open_hub(cfg, &h) != 0)
        return 1;
    sqlite3 *db = hub_author_db(h);
    rec_row r;
    rc = 1;
    if (rec_row_init(&r, t) != 0)
        goto out;
    if (add) {
        replica_uuid7_text(r.id);
    } else {
        int found = rec_row_load(cmd, db, &r, pos[1]);
        if (found <= 0) {
            if (found == 0)
                fprintf(stderr, "swsync-hub: %s: no %s record with id "
                                "'%.40s' in the hub replica\n", cmd, t->name,
                        pos[1]);
            rc = found == 0 ? 2 : 1;
            goto out_row;
        }
    }
    memset(cols, 0, sizeof cols);
    rc = rec_assign(cmd, &r, npos - (need - 1), pos + (need - 1), !add, cols);
    if (rc != CLI_OK)
        goto out_row;
    rec_normalise(&r, cols);
    int errors = rec_validate(cmd, &r, db);
    if (errors > 0) {
        fprintf(stderr, "swsync-hub: %s: %d problem%s in the %s row: nothing "
                        "was written\n", cmd, errors, errors == 1 ? "" : "s",
                t->name);
        rc = 3;
        goto out_row;
    }
    hub_author_out o;
    swlog_error err = {0};
    if (hub_author_change(h, t, r.id, (const char *const *)r.v, cols,
                          operator_, &o, &err) != SWLOG_OK) {
        fprintf(stderr, "swsync-hub: %s: %s\n", cmd, err.msg);
        rc = 1;
        goto out_row;
    }
    if (add)
        printf("%s\n", r.id);
    report(add ? "added" : "changed", &o);
    rc = 0;
out_row:
    rec_row_clear(&r);
out:
    hub_close(h);
    return rc;
}

int author_cmd_transfer(const hub_config *cfg, const char *case_id,
                        const char *to, const char *operator_)
{
    hub *h = NULL;
    if (open_hub(cfg, &h) != 0)
        return 1;
    hub_author_out o;
    swlog_error err = {0};
    int rc = 0;
    if (hub_author_transfer(h, case_id, to, operator_, &o, &err) !=
        SWLOG_OK) {
        fprintf(stderr, "swsync-hub: transfer: %s\n", err.msg);
        rc = err.code == SWLOG_EINVAL ? 2 : 1;
    } else {
        report("transferred", &o);
        printf("the old owner (%s) is told the new owner once\n",
               strcmp(o.old, "*") == 0 ? "every station" : o.old);
    }
    hub_close(h);
    return rc;
}

int author_cmd_main(int argc, char **argv)
{
    const char *sub = argv[1], *conf = NULL, *op = "county", *to = NULL;
    const char *pos[MAX_ARGS];
    int npos = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            conf = argv[++i];
        else if (strcmp(argv[i], "--operator") == 0 && i + 1 < argc)
            op = argv[++i];
        else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
            to = argv[++i];
        else if (npos < MAX_ARGS && strncmp(argv[i], "--", 2) != 0)
            pos[npos++] = argv[i];
        else {
            fprintf(stderr, "swsync-hub %s: unknown argument '%.60s' (see "
                            "--help)\n", sub, argv[i]);
            return 2;
        }
    }
    int transfer = strcmp(sub, "transfer") == 0;
    if (conf == NULL || (transfer && (to == NULL || npos != 1)) ||
        (!transfer && to != NULL) || !cli_operator_ok(op)) {
        fprintf(stderr, "swsync-hub %s: needs --config FILE%s (see --help)\n",
                sub, transfer ? ", CASE_ID and --to UNIT_CODE" : "");
        return 2;
    }
    if (swlog_init() != SWLOG_OK)
        return 1;
    hub_config cfg;
    swlog_error err = {0};
    hub_config_defaults(&cfg);
    if (hub_config_load(&cfg, conf, &err) != SWLOG_OK) {
        fprintf(stderr, "swsync-hub: %s\n", err.msg);
        return 1;
    }
    if (transfer)
        return author_cmd_transfer(&cfg, pos[0], to, op);
    return author_cmd_change(&cfg, strcmp(sub, "add") == 0, npos, pos, op);
}
