/* swsync-agent history: every signed change to one record, read from the
 * station's log and from inbox/ logs (FORMAT §5 records), streamed one
 * frame at a time. Values of personal and sensitive columns stay hidden
 * unless --reveal. */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "cli.h"
#include "rec.h"

static const char usage[] =
    "usage: swsync-agent [--dir DIR] history RECORD_ID [--json] [--reveal]\n"
    "\n"
    "List every signed change to the record RECORD_ID (any table) found in\n"
    "the station's log and in the *.log files of the folder's inbox/\n"
    "subfolder, in the order of the files: the frame's seq and time, the\n"
    "record's own time (its HLC, UTC), the author (operator), the signer\n"
    "(first 16 hex digits of its key), upsert or delete, and the columns\n"
    "written with their values. Values of personal and sensitive columns\n"
    "show as (changed) unless --reveal. Every frame's signature is checked;\n"
    "a frame that fails is reported and skipped. Changes not sealed yet\n"
    "are counted at the end. --json prints one JSON object per change.\n"
    "\n"
    "Exit codes: 0 done (even if no change was found); 1 a log could not\n"
    "be read or held a bad frame; 2 bad command line.\n";

#define INBOX_MAX 1024 /* *.log files read from inbox/ at most */

typedef struct hist {
    uint8_t id[SWLOG_UUID_BYTES];
    int json, reveal;
    uint64_t found;
    int bad;
    swlog_reader *rd;
} hist;

/* Text with control characters replaced: author names come from frames. */
static void print_clean(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fputc(p[i] < 0x20 || p[i] == 0x7f ? '?' : p[i], stdout);
}

static void json_bytes(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s == NULL)
        return;
    memcpy(s, p, n);
    s[n] = '\0';
    /* An embedded NUL ends the text: FORMAT §5.4 text is UTF-8 without it
     * in practice; the value is shown, not re-signed. */
    rec_json_str(stdout, s);
    free(s);
}

static void print_value(const swlog_value *v, int json)
{
    switch (v->type) {
    case SWLOG_NULL:
        fputs(json ? "null" : "NULL", stdout);
        break;
    case SWLOG_INT:
        printf("%" PRId64, v->i);
        break;
    case SWLOG_REAL:
        printf("%.17g", v->r);
        break;
    case SWLOG_TEXT:
        if (json) {
            json_bytes(v->p, v->len);
        } else {
            fputc('"', stdout);
            print_clean(v->p, v->len);
            fputc('"', stdout);
        }
        break;
    default:
        if (json)
            printf("{\"blob_bytes\":%zu}", v->len);
        else
            printf("(blob, %zu bytes)", v->len);
        break;
    }
}

static int one_record(hist *h, const char *file, const swlog_frame *f,
                      const swlog_record *rec, swlog_error *err)
{
    char table[SWLOG_MAX_NAME + 1];
    memcpy(table, rec->table, rec->table_len);
    table[rec->table_len] = '\0';
    const schema_table *t = schema_find(schema_current(), table);
    char ftime[32], rtime[32], signer[2 * SWLOG_PUBKEY_BYTES + 1];
    cli_time_text((int64_t)(f->hlc >> 16), ftime);
    cli_time_text((int64_t)(rec->hlc >> 16), rtime);
    swlog_hex(f->signer, SWLOG_PUBKEY_BYTES, signer);
    signer[16] = '\0';
    const char *kind = rec->kind == SWLOG_DELETE ? "delete" : "upsert";
    h->found++;
    if (h->json) {
        fputs("{\"file\":", stdout);
        rec_json_str(stdout, file);
        printf(",\"seq\":%" PRIu64 ",\"frame_time\":\"%s\",\"time\":\"%s\","
               "\"hlc\":%" PRIu64 ",\"author\":",
               f->seq, ftime, rtime, rec->hlc);
        json_bytes(f->u.changeset.author, f->u.changeset.author_len);
        printf(",\"signer\":\"%s\",\"table\":", signer);
        rec_json_str(stdout, table);
        printf(",\"kind\":\"%s\",\"columns\":[", kind);
    } else {
        printf("%s seq %" PRIu64 "  sealed %s  by ", file, f->seq, ftime);
        print_clean(f->u.changeset.author, f->u.changeset.author_len);
        printf("  signer %s\n  %s %s at %s\n", signer, kind, table, rtime);
    }
    int rc = 0, n = 0;
    swlog_column col;
    while (rec->kind == SWLOG_UPSERT &&
           (rc = swlog_reader_value(h->rd, &col, err)) == 1) {
        char name[SWLOG_MAX_NAME + 1];
        memcpy(name, col.name, col.name_len);
        name[col.name_len] = '\0';
        int ci = t != NULL ? schema_column_index(t, name) : -1;
        /* A column this build does not know is treated as sensitive. */
        int hide = !h->reveal &&
                   (ci < 0 || t->columns[ci].sens != SCHEMA_PLAIN);
        if (h->json) {
            printf("%s{\"name\":", n ? "," : "");
            rec_json_str(stdout, name);
            if (hide) {
                fputs(",\"hidden\":true}", stdout);
            } else {
                fputs(",\"value\":", stdout);
                print_value(&col.value, 1);
                fputc('}', stdout);
            }
        } else {
            printf("    %s = ", name);
            if (hide)
                fputs("(changed)", stdout);
            else
                print_value(&col.value, 0);
            fputc('\n', stdout);
        }
        n++;
    }
    if (h->json)
        fputs("]}\n", stdout);
    return rc < 0 ? rc : SWLOG_OK;
}

static int one_file(hist *h, const char *path, const char *label)
{
    swlog_log *log = NULL;
    swlog_error e = {0};
    if (swlog_log_open(path, SWLOG_READ, &log, &e) != SWLOG_OK) {
        fprintf(stderr, "swsync-agent history: %s: %s\n", path, e.msg);
        h->bad = 1;
        return 0;
    }
    const uint8_t *body;
    size_t len;
    uint64_t off;
    int rc;
    while ((rc = swlog_log_next(log, &body, &len, &off, &e)) == 1) {
        swlog_frame f;
        swlog_error fe = {0};
        if (swlog_frame_decode(body, len, 0, &f, &fe) != SWLOG_OK) {
            fprintf(stderr, "swsync-agent history: %s: frame at offset %"
                            PRIu64 " skipped: %s (%s)\n",
                    path, off, fe.msg, swlog_code_name(fe.code));
            h->bad = 1;
            continue;
        }
        if (f.type != SWLOG_TYPE_CHANGESET)
            continue;
        if (swlog_reader_init(h->rd, &f, &fe) != SWLOG_OK) {
            h->bad = 1;
            continue;
        }
        swlog_record rec;
        int r;
        while ((r = swlog_reader_next(h->rd, &rec, &fe)) == 1) {
            if (memcmp(rec.row_id, h->id, SWLOG_UUID_BYTES) != 0)
                continue;
            if (one_record(h, label, &f, &rec, &fe) != SWLOG_OK) {
                r = -1;
                break;
            }
        }
        if (r < 0) {
            fprintf(stderr, "swsync-agent history: %s: frame at offset %"
                            PRIu64 ": %s\n", path, off, fe.msg);
            h->bad = 1;
        }
    }
    if (rc < 0) {
        fprintf(stderr, "swsync-agent history: %s: %s (%s)\n", path, e.msg,
                swlog_code_name(e.code));
        h->bad = 1;
    }
    swlog_log_close(log);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.log files of inbox/, sorted by name. */
static void inbox(hist *h, const char *dir)
{
    char path[CLI_PATH_MAX];
    if (cli_path(path, dir, "inbox") != 0)
        return;
    DIR *d = opendir(path);
    if (d == NULL)
        return;
    char **names = calloc(INBOX_MAX, sizeof *names);
    size_t n = 0;
    struct dirent *de;
    while (names != NULL && (de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 4, ".log") != 0 ||
            de->d_name[0] == '.')
            continue;
        if (n == INBOX_MAX) {
            fprintf(stderr, "swsync-agent history: %s: more than %d logs; "
                            "the rest are not read\n", path, INBOX_MAX);
            break;
        }
        if ((names[n] = strdup(de->d_name)) != NULL)
            n++;
    }
    closedir(d);
    if (names == NULL)
        return;
    qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        char file[CLI_PATH_MAX], label[CLI_PATH_MAX];
        if (cli_path(file, path, names[i]) == 0 &&
            cli_path(label, "inbox", names[i]) == 0)
            one_file(h, file, label);
        free(names[i]);
    }
    free(names);
}

/* Changes to the record still in the outbox. */
static uint64_t unsealed(sqlite3 *db, const char *id)
{
    uint64_t upto = 0, n = 0;
    swlog_error e = {0};
    sqlite3_stmt *st = NULL;
    if (capture_sealed_upto(db, &upto, &e) != SWLOG_OK ||
        sqlite3_prepare_v2(db, "SELECT count(*) FROM _sw_outbox WHERE "
                               "row_id = ? AND hlc > ?",
                           -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)upto);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

int cmd_history(int argc, char **argv)
{
    hist h = {0};
    const cli_opt opts[] = {{"json", CLI_FLAG, &h.json},
                            {"reveal", CLI_FLAG, &h.reveal}};
    const char *pos[1];
    size_t npos;
    if (cli_want_help(argc, argv, usage))
        return CLI_OK;
    const char *dir = cli_dir(&argc, argv);
    int rc = cli_parse("history", argc, argv, opts, 2, pos, 1, &npos);
    if (rc != CLI_OK)
        return rc;
    if (npos != 1)
        return cli_fail("history", CLI_EUSAGE, "give one RECORD_ID (see "
                                               "--help)");
    if (swlog_uuid_parse(pos[0], h.id) != SWLOG_OK)
        return cli_fail("history", CLI_EUSAGE,
                        "'%.40s' is not a record id (a UUID like "
                        "01a2068a-d565-72a3-9147-5de8c008640b)", pos[0]);
    char idtext[37];
    swlog_uuid_format(h.id, idtext);
    cli_station s;
    swlog_error e = {0};
    if (cli_station_load(dir, CLI_OPEN_KEY_OPTIONAL, &s, &e) != SWLOG_OK) {
        cli_station_close(&s);
        return cli_fail_err("history", &e, NULL);
    }
    h.rd = malloc(sizeof *h.rd);
    if (h.rd == NULL) {
        cli_station_close(&s);
        return cli_fail("history", CLI_EFAIL, "out of memory");
    }
    FILE *probe = fopen(s.log_path, "rb");
    if (probe != NULL) {
        fclose(probe);
        one_file(&h, s.log_path, "station.log");
    }
    inbox(&h, s.dir);
    uint64_t more = unsealed(replica_db(s.r), idtext);
    if (!h.json) {
        if (h.found == 0)
            printf("no signed change to %s\n", idtext);
        if (more > 0)
            printf("%" PRIu64 " more change%s not sealed yet (swsync-agent "
                   "seal)\n", more, more == 1 ? "" : "s");
    }
    free(h.rd);
    cli_station_close(&s);
    return h.bad ? CLI_EFAIL : CLI_OK;
}
