/* A hub's reply bundle at the station (spec/PROTOCOL.md §9.1): each
 * receipt verified exactly as a pushed one (push_answer_verify) against
 * the station's own log, then stored like a pushed one (state_ack). */
#include "reply.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "json.h"
#include "client.h"
#include "push.h"
#include "state.h"

#define REPLY_MAGIC "swsync-bundle-reply/1"

static int unhex32(const char *s, uint8_t out[32])
{
    if (strlen(s) != 64)
        return -1;
    for (size_t i = 0; i < 64; i++) {
        char c = s[i];
        int v = c >= '0' && c <= '9' ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                       : -1;
        if (v < 0)
            return -1;
        out[i / 2] = (uint8_t)(i % 2 == 0 ? v << 4 : out[i / 2] | v);
    }
    return 0;
}

/* Ids of the station's own frames, by seq (ids[seq - 1]). */
static int own_ids(const char *log_path, const uint8_t pk[32],
                   uint8_t (**ids)[SWLOG_HASH_BYTES], uint64_t *n,
                   swlog_error *err)
{
    swlog_log *log = NULL;
    uint8_t(*v)[SWLOG_HASH_BYTES] = NULL;
    uint64_t cnt = 0, cap = 0;
    int rc = swlog_log_open(log_path, SWLOG_READ, &log, err);
    while (rc == SWLOG_OK) {
        const uint8_t *body;
        size_t len;
        uint64_t off;
        int r = swlog_log_next(log, &body, &len, &off, err);
        if (r <= 0) {
            rc = r;
            break;
        }
        swlog_frame f;
        if ((rc = swlog_frame_decode(body, len, SWLOG_DECODE_NO_SIG, &f,
                                     err)) != SWLOG_OK) {
            err->offset += off;
            break;
        }
        if (memcmp(f.signer, pk, 32) != 0)
            continue;
        if (f.seq != cnt + 1) {
            rc = swlog_fail(err, SWLOG_ESEQ, off, "%s: seq %" PRIu64
                            " after %" PRIu64, log_path, f.seq, cnt);
            break;
        }
        if (cnt == cap) {
            uint64_t nc = cap ? cap * 2 : 256;
            void *p = realloc(v, (size_t)nc * sizeof *v);
            if (p == NULL) {
                rc = swlog_fail(err, SWLOG_ENOMEM, off, "out of memory");
                break;
            }
            v = p;
            cap = nc;
        }
        memcpy(v[cnt++], f.id, SWLOG_HASH_BYTES);
    }
    swlog_log_close(log);
    if (rc != SWLOG_OK) {
        free(v);
        return rc;
    }
    *ids = v;
    *n = cnt;
    return SWLOG_OK;
}

/* seq of every result of one answer line; all of the station's feed. */
static int answer_seqs(const char *line, size_t len, const uint8_t pk[32],
                       uint64_t nown, uint64_t *seq, size_t *n,
                       swlog_error *err)
{
    json_doc d = {0};
    int rc = json_parse(&d, line, len, err);
    int res = rc == SWLOG_OK ? json_member(&d, 0, "results") : -1;
    size_t k = 0;
    if (rc == SWLOG_OK && res < 0)
        rc = swlog_fail(err, SWLOG_EINVAL, 0, "an answer without results");
    for (uint32_t i = 0; rc == SWLOG_OK; i++) {
        int it = json_item(&d, res, i);
        if (it < 0)
            break;
        uint8_t feed[32];
        if (k == PUSH_MAX_FRAMES ||
            json_hex(&d, json_member(&d, it, "feed"), feed, 32) !=
                SWLOG_OK ||
            json_u64(&d, json_member(&d, it, "seq"), &seq[k]) != SWLOG_OK) {
            rc = swlog_fail(err, SWLOG_EINVAL, 0, "result %u has no feed "
                            "and seq, or there are more than %u", i,
                            PUSH_MAX_FRAMES);
        } else if (memcmp(feed, pk, 32) != 0) {
            rc = swlog_fail(err, SWLOG_EINVAL, 0, "result %u is of another "
                            "feed than this station's", i);
        } else if (seq[k] == 0 || seq[k] > nown) {
            rc = swlog_fail(err, SWLOG_EINVAL, 0, "result %u names seq %"
                            PRIu64 ", which this station's log does not "
                            "hold (%" PRIu64 " frames)", i, seq[k], nown);
        } else {
            k++;
        }
    }
    if (rc == SWLOG_OK && k == 0)
        rc = swlog_fail(err, SWLOG_EINVAL, 0, "an answer with no result");
    json_clear(&d);
    if (rc == SWLOG_OK)
        *n = k;
    return rc;
}

/* The end line (PROTOCOL §9.1): {"end":..., "pull":null} or "pull":
 * {"after":A,"frames":N,"bytes":L,"more":B,"body":"<2L hex>"}. */
static int end_line(const char *p, size_t ll, const char *path,
                    unsigned lineno, reply_stats *st, swlog_error *err)
{
    json_doc d = {0};
    char magic[32] = "";
    uint64_t bytes = 0;
    int rc = SWLOG_OK;
    if (json_parse(&d, p, ll, NULL) != SWLOG_OK ||
        json_string(&d, json_member(&d, 0, "end"), magic, sizeof magic) !=
            SWLOG_OK ||
        strcmp(magic, REPLY_MAGIC) != 0) {
        rc = swlog_fail(err, SWLOG_EMAGIC, 0, "%s:%u: not the end line of "
                        "a reply (" REPLY_MAGIC ", PROTOCOL §9.1)", path,
                        lineno);
        goto out;
    }
    int pull = json_member(&d, 0, "pull");
    if (pull < 0 || json_type_of(&d, pull) == JSON_NULL)
        goto out;
    int more = json_member(&d, pull, "more");
    if (json_type_of(&d, pull) != JSON_OBJECT ||
        json_u64(&d, json_member(&d, pull, "bytes"), &bytes) != SWLOG_OK ||
        json_u64(&d, json_member(&d, pull, "frames"), &st->pull_frames) !=
            SWLOG_OK ||
        json_u64(&d, json_member(&d, pull, "after"), &st->pull_after) !=
            SWLOG_OK ||
        (json_type_of(&d, more) != JSON_TRUE &&
         json_type_of(&d, more) != JSON_FALSE) ||
        bytes < SWLOG_FILE_HEADER_BYTES || bytes > REPLY_PULL_MAX_BYTES) {
        rc = swlog_fail(err, SWLOG_ECORRUPT, 0, "%s:%u: the pull member is "
                        "not {after, frames, bytes (32..%u), more, body} "
                        "(PROTOCOL §9.1)", path, lineno,
                        REPLY_PULL_MAX_BYTES);
        goto out;
    }
    st->pull_more = json_type_of(&d, more) == JSON_TRUE;
    if ((st->pull = malloc((size_t)bytes)) == NULL) {
        rc = swlog_fail(err, SWLOG_ENOMEM, 0, "out of memory");
        goto out;
    }
    if (json_hex(&d, json_member(&d, pull, "body"), st->pull,
                 (size_t)bytes) != SWLOG_OK) {
        free(st->pull);
        st->pull = NULL;
        rc = swlog_fail(err, SWLOG_ECORRUPT, 0, "%s:%u: the pull body is not "
                        "%llu bytes in lowercase hex (PROTOCOL §9.1)", path,
                        lineno, (unsigned long long)bytes);
        goto out;
    }
    st->pull_len = (size_t)bytes;
out:
    json_clear(&d);
    return rc;
}

int reply_import(sqlite3 *db, const char *hub_name, const char *hub_key_hex,
                 const char *log_path, const uint8_t pk[32],
                 const char *path, reply_stats *st, swlog_error *err)
{
    memset(st, 0, sizeof *st);
    char *text = NULL;
    uint8_t(*ids)[SWLOG_HASH_BYTES] = NULL;
    state_item *items = NULL;
    push_answer *a = NULL;
    state *s = NULL;
    uint64_t nown = 0;
    int rc = SWLOG_OK;
    FILE *f = fopen(path, "rb");
    struct stat sb;
    if (f == NULL || fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode) ||
        (uint64_t)sb.st_size > REPLY_MAX_BYTES) {
        rc = swlog_fail(err, SWLOG_EIO, 0, "%s: not a readable file of at "
                        "most %u bytes", path, REPLY_MAX_BYTES);
        goto done;
    }
    size_t len = (size_t)sb.st_size;
    if ((text = malloc(len + 1)) == NULL ||
        fread(text, 1, len, f) != len) {
        rc = swlog_fail(err, SWLOG_EIO, 0, "%s: cannot read it", path);
        goto done;
    }
    text[len] = '\0';
    items = calloc(PUSH_MAX_FRAMES, sizeof *items);
    a = calloc(1, sizeof *a);
    if (items == NULL || a == NULL) {
        rc = swlog_fail(err, SWLOG_ENOMEM, 0, "out of memory");
        goto done;
    }
    /* Line 1: the header and the hub that signed the receipts. */
    char *nl = memchr(text, '\n', len);
    json_doc d = {0};
    char magic[32] = "", hubhex[65] = "";
    if (nl == NULL ||
        json_parse(&d, text, (size_t)(nl - text), NULL) != SWLOG_OK ||
        json_string(&d, json_member(&d, 0, "reply"), magic, sizeof magic) !=
            SWLOG_OK ||
        strcmp(magic, REPLY_MAGIC) != 0 ||
        json_string(&d, json_member(&d, 0, "hub"), hubhex, sizeof hubhex) !=
            SWLOG_OK ||
        unhex32(hubhex, st->hub) != 0) {
        json_clear(&d);
        rc = swlog_fail(err, SWLOG_EMAGIC, 0, "%s:1: not a hub's reply "
                        "bundle (" REPLY_MAGIC ", PROTOCOL §9.1)", path);
        goto done;
    }
    json_clear(&d);
    /* The hub must be the one this station trusts: station.conf's
     * hub_key, else the key pinned by its first sync. */
    uint8_t want[32];
    if ((rc = state_open(db, hub_name, &s, err)) != SWLOG_OK)
        goto done;
    int have = 0;
    if (hub_key_hex != NULL && hub_key_hex[0] != '\0') {
        have = unhex32(hub_key_hex, want) == 0;
    } else {
        have = state_hub_key(s, want, err);
        if (have < 0) {
            rc = have;
            goto done;
        }
    }
    if (!have) {
        rc = swlog_fail(err, SWLOG_ESIG, 0, "%s: this station trusts no hub "
                        "key yet: set hub_key in station.conf (from the "
                        "county office)", path);
        goto done;
    }
    if (memcmp(want, st->hub, 32) != 0) {
        rc = swlog_fail(err, SWLOG_ESIG, 0, "%s:1: the reply is from hub "
                        "%.16s…, not this station's hub", path, hubhex);
        goto done;
    }
    if ((rc = own_ids(log_path, pk, &ids, &nown, err)) != SWLOG_OK)
        goto done;
    /* Two passes: verify every answer, then store them (nothing stored
     * when any answer fails). */
    for (int pass = 0; pass < 2 && rc == SWLOG_OK; pass++) {
        char *p = nl + 1;
        unsigned lineno = 1;
        int ended = 0;
        while (rc == SWLOG_OK && p < text + len) {
            char *e = memchr(p, '\n', (size_t)(text + len - p));
            lineno++;
            if (e == NULL) {
                rc = swlog_fail(err, SWLOG_ESHORT, (uint64_t)(p - text),
                                "%s:%u: the last line is cut: copy the "
                                "reply again", path, lineno);
                break;
            }
            size_t ll = (size_t)(e - p);
            if (ll > 6 && strncmp(p, "{\"end\"", 6) == 0) {
                ended = 1;
                if (pass == 0)
                    rc = end_line(p, ll, path, lineno, st, err);
                break;
            }
            uint64_t seq[PUSH_MAX_FRAMES];
            size_t n = 0;
            rc = answer_seqs(p, ll, pk, nown, seq, &n, err);
            uint8_t(*bid)[SWLOG_HASH_BYTES] = NULL;
            if (rc == SWLOG_OK &&
                (bid = malloc(n * sizeof *bid)) == NULL)
                rc = swlog_fail(err, SWLOG_ENOMEM, 0, "out of memory");
            for (size_t i = 0; rc == SWLOG_OK && i < n; i++)
                memcpy(bid[i], ids[seq[i] - 1], SWLOG_HASH_BYTES);
            if (rc == SWLOG_OK)
                rc = push_answer_verify(
                    p, ll, pk, seq, (const uint8_t(*)[SWLOG_HASH_BYTES])bid,
                    n, st->hub, items, a, err);
            if (rc == SWLOG_OK && pass == 1) {
                int64_t now = client_now_ms();
                if (a->n_ok > 0) {
                    uint64_t aseq;
                    uint8_t aid[SWLOG_HASH_BYTES];
                    rc = state_acked(s, pk, &aseq, aid, err);
                    /* The mark never moves back (a reply imported after
                     * later pushes). */
                    uint64_t last = seq[a->n_ok - 1];
                    if (rc == SWLOG_OK && last > aseq) {
                        aseq = last;
                        memcpy(aid, bid[a->n_ok - 1], sizeof aid);
                    }
                    if (rc == SWLOG_OK)
                        rc = state_ack(s, pk, a->ckpt, a->ckpt_len,
                                       a->ckpt_id, a->tree_size, items,
                                       a->n_ok, aseq, aid, now, err);
                    if (rc == SWLOG_OK && aseq > st->acked_seq)
                        st->acked_seq = aseq;
                }
                st->receipted += a->n_ok;
                st->accepted += a->accepted;
                st->duplicate += a->duplicate;
                if (rc == SWLOG_OK && a->bad < n) {
                    st->refused++;
                    rc = state_refused(s, pk, seq[a->bad], bid[a->bad],
                                       a->error, a->message, now, err);
                }
            }
            free(bid);
            if (rc != SWLOG_OK && err != NULL && err->msg[0] != '\0' &&
                strncmp(err->msg, path, strlen(path)) != 0) {
                /* Name the file and line of the answer that failed. */
                char m[sizeof err->msg + 4200];
                snprintf(m, sizeof m, "%s:%u: %s", path, lineno, err->msg);
                memcpy(err->msg, m, sizeof err->msg - 1);
                err->msg[sizeof err->msg - 1] = '\0';
            }
            p = e + 1;
        }
        if (rc == SWLOG_OK && !ended)
            rc = swlog_fail(err, SWLOG_ESHORT, len, "%s: no end line: the "
                            "reply is cut; copy it again", path);
    }
done:
    if (rc != SWLOG_OK) {
        free(st->pull);
        st->pull = NULL;
        st->pull_len = 0;
    }
    if (f != NULL)
        fclose(f);
    state_close(s);
    free(text);
    free(ids);
    free(items);
    free(a);
    return rc;
}
