/* Listing key frames (FORMAT §7.2-§7.4) of logs in words. */
#include "keyshow.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "keyfeed.h"
#include "keytime.h"
#include "keytool.h"

struct counts {
    size_t frames, certs, rots, revs;
};

static void show_cert(const char *path, const swlog_frame *f)
{
    char by[65], of[65], t0[KEYTIME_BYTES], t1[KEYTIME_BYTES];
    const char *role = keyfeed_role_name(f->u.cert.role);
    kt_hex(f->signer, by);
    kt_hex(f->u.cert.subject, of);
    keytime_format(f->u.cert.valid_from, t0);
    keytime_format(f->u.cert.valid_until, t1);
    int self = memcmp(f->signer, f->u.cert.subject, SWLOG_PUBKEY_BYTES) == 0;
    printf("%s: seq %" PRIu64 ": certificate: %s certifies %s as %s, unit "
           "%s, valid %s to %s\n",
           path, f->seq, by, self ? "itself" : of, role != NULL ? role : "?",
           f->u.cert.unit, t0, t1);
}

static void show_rotation(const char *path, const swlog_frame *f)
{
    char old[65], nk[65];
    kt_hex(f->signer, old);
    kt_hex(f->u.rotation.new_key, nk);
    printf("%s: seq %" PRIu64 ": rotation: %s hands its feed over to %s "
           "(signed by both)\n",
           path, f->seq, old, nk);
}

static void show_revocation(const char *path, const swlog_frame *f)
{
    char by[65], of[65], t[KEYTIME_BYTES];
    const char *reason = keyfeed_reason_name(f->u.revocation.reason);
    kt_hex(f->signer, by);
    kt_hex(f->u.revocation.subject, of);
    printf("%s: seq %" PRIu64 ": revocation: %s revokes %s, reason %s, "
           "effective",
           path, f->seq, by, of, reason != NULL ? reason : "?");
    if (f->u.revocation.from_seq != 0)
        printf(" from seq %" PRIu64, f->u.revocation.from_seq);
    if (f->u.revocation.from_seq != 0 && f->u.revocation.from_time != 0)
        printf(" and");
    if (f->u.revocation.from_time != 0) {
        keytime_format(f->u.revocation.from_time, t);
        printf(" from %s", t);
    }
    printf("\n");
}

static void show_frame(const char *path, const swlog_frame *f,
                       struct counts *n)
{
    n->frames++;
    if (f->type == SWLOG_TYPE_CERT) {
        n->certs++;
        show_cert(path, f);
    } else if (f->type == SWLOG_TYPE_ROTATION) {
        n->rots++;
        show_rotation(path, f);
    } else if (f->type == SWLOG_TYPE_REVOCATION) {
        n->revs++;
        show_revocation(path, f);
    }
}

static int show_log(const char *path)
{
    swlog_log *log = NULL;
    swlog_error e = {0};
    int rc = swlog_log_open(path, SWLOG_READ, &log, &e);
    if (rc != SWLOG_OK)
        return kt_report(kt_exit_for(rc, KT_ELOG), NULL, "%s", e.msg);
    swlog_chains *ch = swlog_chains_new();
    if (ch == NULL) {
        swlog_log_close(log);
        return kt_report(KT_ESYS, path, "out of memory");
    }
    struct counts n = {0};
    const uint8_t *body;
    size_t len;
    uint64_t at = 0;
    while ((rc = swlog_log_next(log, &body, &len, &at, &e)) == 1) {
        swlog_frame f;
        if ((rc = swlog_frame_decode(body, len, 0, &f, &e)) != SWLOG_OK) {
            e.offset += at + 8;
            break;
        }
        if ((rc = swlog_chains_add(ch, &f, &e)) != SWLOG_OK) {
            e.offset = at;
            break;
        }
        show_frame(path, &f, &n);
    }
    printf("%s: %zu frame(s): %zu certificate(s), %zu rotation(s), %zu "
           "revocation(s), %zu other\n",
           path, n.frames, n.certs, n.rots, n.revs,
           n.frames - n.certs - n.rots - n.revs);
    if (rc == 0 && swlog_log_torn(log) > 0)
        printf("%s: %" PRIu64 " bytes of torn tail after offset %" PRIu64
               " (an append cut short)\n",
               path, swlog_log_torn(log), swlog_log_end(log));
    swlog_chains_free(ch);
    swlog_log_close(log);
    if (rc < 0)
        return kt_report(kt_exit_for(rc, KT_ELOG), path,
                         "offset %" PRIu64 ": %s: %s", e.offset,
                         swlog_code_name(rc), e.msg);
    return KT_OK;
}

int keyshow_cmd(int argc, char **argv)
{
    const char *pos[KT_LIST_MAX];
    size_t npos;
    int rc = kt_parse("show", argc, argv, NULL, 0, pos, KT_LIST_MAX, &npos);
    if (rc != KT_OK)
        return rc;
    if (npos == 0)
        return kt_report(KT_EUSAGE, "show", "give at least one LOG (see "
                                            "--help)");
    int worst = KT_OK;
    for (size_t i = 0; i < npos; i++) {
        rc = show_log(pos[i]);
        if (rc != KT_OK && (worst == KT_OK || rc == KT_ESYS))
            worst = rc;
    }
    return worst;
}
