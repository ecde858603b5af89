/* swsync-hub conflicts / resolve (conflict_cmd.h). Values of personal (P)
 * and sensitive (S) columns are shown only with --reveal (conflicts), and
 * never in resolve's output or in any error message. */
#include "conflict_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "cli.h"
#include "hub_author.h"
#include "hub_config.h"
#include "hub_conflicts.h"
#include "rec.h"
#include "schema.h"

static const schema_column *column_of(const char *tbl, const char *col)
{
    const schema_table *t = schema_find(schema_current(), tbl);
    int i = t ? schema_column_index(t, col) : -1;
    return i < 0 ? NULL : &t->columns[i];
}

/* A value for people: hidden for P/S columns unless reveal. */
static const char *shown(const hub_conflict *c, sqlite3_value *v, int win,
                         int reveal)
{
    if (win && c->win_kind == 2)
        return "(row deleted)";
    const schema_column *k = column_of(c->tbl, c->col);
    if (!reveal && (k == NULL || k->sens != SCHEMA_PLAIN))
        return k != NULL && k->sens == SCHEMA_PERSONAL ? "(hidden: personal)"
                                                       : "(hidden: sensitive)";
    if (sqlite3_value_type(v) == SQLITE_NULL)
        return "(empty)";
    const char *s = (const char *)sqlite3_value_text(v);
    return s ? s : "(empty)";
}

static void hex(char *out, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", p[i]);
}

typedef struct list_ctx {
    int json, reveal;
    unsigned long n;
} list_ctx;

static int list_cb(void *vctx, const hub_conflict *c)
{
    list_ctx *x = vctx;
    char ws[65], ls[65], wf[65], lf[65];
    hex(ws, c->win_signer, SWLOG_PUBKEY_BYTES);
    hex(ls, c->lose_signer, SWLOG_PUBKEY_BYTES);
    hex(wf, c->win_frame, SWLOG_HASH_BYTES);
    hex(lf, c->lose_frame, SWLOG_HASH_BYTES);
    const char *wv = shown(c, c->win_value, 1, x->reveal);
    const char *lv = shown(c, c->lose_value, 0, x->reveal);
    if (x->json) {
        printf("%s{\"id\":\"%s\",\"table\":", x->n ? "," : "", c->id);
        rec_json_str(stdout, c->tbl);
        printf(",\"row\":");
        rec_json_str(stdout, c->row_id);
        printf(",\"column\":");
        rec_json_str(stdout, c->col);
        printf(",\"winner\":{\"kind\":\"%s\",\"hlc\":%llu,\"signer\":\"%s\","
               "\"frame\":\"%s\",\"value\":",
               c->win_kind == 2 ? "delete" : "write",
               (unsigned long long)c->win_hlc, ws, wf);
        rec_json_str(stdout, wv);
        printf("},\"loser\":{\"kind\":\"write\",\"hlc\":%llu,\"signer\":"
               "\"%s\",\"frame\":\"%s\",\"value\":",
               (unsigned long long)c->lose_hlc, ls, lf);
        rec_json_str(stdout, lv);
        printf("}}");
    } else {
        printf("%s  %s.%s  row %s\n", c->id, c->tbl, c->col, c->row_id);
        printf("  winner: %s hlc %llu signer %.16s frame %.16s value %s\n",
               c->win_kind == 2 ? "delete" : "write",
               (unsigned long long)c->win_hlc, ws, wf, wv);
        printf("  loser:  write hlc %llu signer %.16s frame %.16s value %s\n",
               (unsigned long long)c->lose_hlc, ls, lf, lv);
    }
    x->n++;
    return 0;
}

/* The conflict with a given id, its values copied. */
typedef struct find_ctx {
    const char *id;
    int found;
    hub_conflict c;
    char *win_value, *lose_value;
    int win_null, lose_null, oom;
} find_ctx;

static char *dup_value(sqlite3_value *v, int *is_null, int *oom)
{
    *is_null = sqlite3_value_type(v) == SQLITE_NULL;
    if (*is_null)
        return NULL;
    const char *s = (const char *)sqlite3_value_text(v);
    char *d = strdup(s ? s : "");
    if (d == NULL)
        *oom = 1;
    return d;
}

static int find_cb(void *vctx, const hub_conflict *c)
{
    find_ctx *x = vctx;
    if (strcmp(c->id, x->id) != 0)
        return 0;
    x->found = 1;
    x->c = *c;
    x->c.win_value = x->c.lose_value = NULL;
    x->win_value = dup_value(c->win_value, &x->win_null, &x->oom);
    x->lose_value = dup_value(c->lose_value, &x->lose_null, &x->oom);
    return 1;
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

static int cmd_list(hub *h, int json, int reveal)
{
    list_ctx x = {json, reveal, 0};
    swlog_error err = {0};
    if (json)
        printf("[");
    int rc = hub_conflicts_each(hub_author_db(h), list_cb, &x, &err);
    if (json)
        printf("]\n");
    if (rc != SWLOG_OK) {
        fprintf(stderr, "swsync-hub conflicts: %s\n", err.msg);
        return 1;
    }
    if (!json)
        printf("%lu conflict%s waiting for review%s\n", x.n,
               x.n == 1 ? "" : "s",
               x.n ? "; resolve one with: swsync-hub resolve --config "
                     "HUB.CONF ID --keep winner|loser|VALUE"
                   : "");
    return 0;
}

static int cmd_resolve(hub *h, const char *id, const char *keep,
                       const char *op)
{
    sqlite3 *db = hub_author_db(h);
    find_ctx x;
    memset(&x, 0, sizeof x);
    x.id = id;
    swlog_error err = {0};
    int rc = 1;
    rec_row r;
    int have_row = 0;
    if (hub_conflicts_each(db, find_cb, &x, &err) != SWLOG_OK) {
        fprintf(stderr, "swsync-hub resolve: %s\n", err.msg);
        goto out;
    }
    if (x.oom) {
        fprintf(stderr, "swsync-hub resolve: out of memory\n");
        goto out;
    }
    if (!x.found) {
        fprintf(stderr, "swsync-hub resolve: no conflict waiting for review "
                        "has id '%.40s' (list them with swsync-hub conflicts "
                        "--config HUB.CONF); nothing was written\n", id);
        rc = 2;
        goto out;
    }
    const hub_conflict *c = &x.c;
    if (c->win_kind == 2) {
        fprintf(stderr, "swsync-hub resolve: conflict %s: the row %s of %s "
                        "was deleted, and a deletion is final (MERGE §3.2): "
                        "there is no value to write; nothing was written\n",
                id, c->row_id, c->tbl);
        rc = 2;
        goto out;
    }
    const schema_table *t = schema_find(schema_current(), c->tbl);
    int ci = t ? schema_column_index(t, c->col) : -1;
    if (ci < 0) {
        fprintf(stderr, "swsync-hub resolve: conflict %s names %s.%s, which "
                        "this build does not know; nothing was written\n",
                id, c->tbl, c->col);
        goto out;
    }
    if (rec_row_init(&r, t) != 0)
        goto out;
    have_row = 1;
    const char *cmd = "hub resolve";
    int found = rec_row_load(cmd, db, &r, c->row_id);
    if (found <= 0) {
        if (found == 0)
            fprintf(stderr, "swsync-hub resolve: conflict %s: no %s row %s in "
                            "the hub replica; nothing was written\n",
                    id, c->tbl, c->row_id);
        goto out;
    }
    unsigned char cols[SCHEMA_MAX_COLUMNS] = {0};
    const char *what;
    if (strcmp(keep, "winner") == 0 || strcmp(keep, "loser") == 0) {
        int win = keep[0] == 'w';
        if (rec_row_set(&r, ci, win ? x.win_value : x.lose_value) != 0)
            goto out;
        cols[ci] = 1;
        what = win ? "the winner's value" : "the loser's value";
    } else {
        size_t n = strlen(c->col) + strlen(keep) + 2;
        char *arg = malloc(n);
        if (arg == NULL)
            goto out;
        snprintf(arg, n, "%s=%s", c->col, keep);
        const char *args[1] = {arg};
        int a = rec_assign(cmd, &r, 1, args, 1, cols);
        free(arg);
        if (a != CLI_OK) {
            rc = a;
            goto out;
        }
        what = "a new value";
    }
    rec_normalise(&r, cols);
    int errors = rec_validate(cmd, &r, db);
    if (errors > 0) {
        fprintf(stderr, "swsync-hub resolve: %d problem%s in the %s row with "
                        "the chosen value: nothing was written\n",
                errors, errors == 1 ? "" : "s", t->name);
        rc = 3;
        goto out;
    }
    /* The write's replaced HLC is the column's version in the hub replica
     * (hub_author_change): it covers both sides, since the hub merged both. */
    uint64_t ver = 0;
    if (capture_column_version(db, c->tbl, c->row_id, c->col, &ver, &err) !=
        SWLOG_OK) {
        fprintf(stderr, "swsync-hub resolve: %s\n", err.msg);
        goto out;
    }
    if (ver < c->win_hlc || ver < c->lose_hlc) {
        fprintf(stderr, "swsync-hub resolve: conflict %s: the hub replica's "
                        "version of %s.%s (%llu) is older than the conflict's "
                        "writes; the replica is inconsistent (run swsync-hub "
                        "--check); nothing was written\n",
                id, c->tbl, c->col, (unsigned long long)ver);
        goto out;
    }
    hub_author_out o;
    if (hub_author_change(h, t, r.id, (const char *const *)r.v, cols, op, &o,
                          &err) != SWLOG_OK) {
        fprintf(stderr, "swsync-hub resolve: %s\n", err.msg);
        goto out;
    }
    printf("resolved %s: %s.%s of row %s takes %s, in the hub's feed at seq "
           "%llu, for %s\n",
           id, c->tbl, c->col, c->row_id, what,
           (unsigned long long)o.last_seq,
           strcmp(o.to, "*") == 0 ? "every station of the county" : o.to);
    rc = 0;
out:
    if (have_row)
        rec_row_clear(&r);
    free(x.win_value);
    free(x.lose_value);
    return rc;
}

int conflict_cmd_main(int argc, char **argv)
{
    const char *sub = argv[1], *conf = NULL, *op = "county", *keep = NULL;
    const char *id = NULL;
    int json = 0, reveal = 0, resolve = strcmp(sub, "resolve") == 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            conf = argv[++i];
        else if (resolve && strcmp(argv[i], "--operator") == 0 &&
                 i + 1 < argc)
            op = argv[++i];
        else if (resolve && strcmp(argv[i], "--keep") == 0 && i + 1 < argc)
            keep = argv[++i];
        else if (!resolve && strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (!resolve && strcmp(argv[i], "--reveal") == 0)
            reveal = 1;
        else if (resolve && id == NULL && strncmp(argv[i], "--", 2) != 0)
            id = argv[i];
        else {
            fprintf(stderr, "swsync-hub %s: unknown argument '%.60s' (see "
                            "--help)\n", sub, argv[i]);
            return 2;
        }
    }
    if (conf == NULL || (resolve && (id == NULL || keep == NULL)) ||
        !cli_operator_ok(op)) {
        fprintf(stderr, "swsync-hub %s: needs --config FILE%s (see --help)\n",
                sub, resolve ? ", ID and --keep winner|loser|VALUE" : "");
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
    hub *h = NULL;
    if (open_hub(&cfg, &h) != 0)
        return 1;
    int rc = resolve ? cmd_resolve(h, id, keep, op) : cmd_list(h, json, reveal);
    hub_close(h);
    return rc;
}
