/* The auditor's findings and its three reports (spec/SECURITY.md §8.6):
 * plain words for people, JSON lines for machines, and a self-contained
 * HTML page to hand over. Findings never hold record values or key bytes
 * beyond public keys and frame ids. */
#ifndef AUDIT_REPORT_H
#define AUDIT_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "swlog.h"

/* Kinds of finding; the names (audit_kind_name) are the JSON "kind" and
 * stable. */
enum audit_kind {
    AUDIT_K_UNREADABLE = 0, /* a file could not be read */
    AUDIT_K_DAMAGED,        /* not a log, or damage in the middle */
    AUDIT_K_ALTERED,        /* a frame changed or malformed: hash, sig */
    AUDIT_K_ORDER,          /* a feed's numbering or chain broken */
    AUDIT_K_FORK,           /* two frames, one feed and seq */
    AUDIT_K_NO_CERT,        /* trust: SECURITY §5 step 3 */
    AUDIT_K_WRONG_ISSUER,
    AUDIT_K_EXPIRED,
    AUDIT_K_NOT_YET,
    AUDIT_K_REVOKED,
    AUDIT_K_ROTATED,
    AUDIT_K_NOT_HUB,
    AUDIT_K_RECEIPT_DROPPED, /* a checkpoint the hub's history no longer
                              * matches, while a later one does */
    AUDIT_K_CP_INCONSISTENT, /* checkpoints of one hub that disagree */
    AUDIT_K_RECEIPT_INVALID, /* a station's stored receipt that does not
                              * prove what it claims (SECURITY §8.9) */
    AUDIT_K_UNIT_CODE,       /* a unit code outside the signer's
                              * (SECURITY §1.1, SCHEMA §2 item 4) */
    AUDIT_K_TORN,            /* warning: torn tail */
    AUDIT_K_COUNT
};

const char *audit_kind_name(int kind);  /* "fork" */
const char *audit_kind_title(int kind); /* "Forked feed" */

typedef struct audit_finding {
    int kind;
    int code;    /* the swlog code behind it, SWLOG_OK for trust findings */
    int warning; /* not counted as a problem */
    uint32_t file;   /* input number; UINT32_MAX: none */
    uint64_t offset; /* of the first frame concerned */
    int has_feed;
    uint8_t feed[SWLOG_PUBKEY_BYTES];
    uint64_t seq_lo, seq_hi, frames; /* the frames concerned */
    int has_ref; /* the key frame responsible, or the other fork frame */
    const char *ref_label;
    uint32_t ref_file;
    uint64_t ref_offset;
    int has_ref_feed;
    uint8_t ref_feed[SWLOG_PUBKEY_BYTES];
    uint64_t ref_seq;
    char msg[320];
} audit_finding;

typedef struct audit_summary {
    uint64_t files, unreadable, feeds, frames, copies, changesets, records;
    uint64_t key_frames, checkpoints, checkpoints_matched, ledgers, bytes;
    uint64_t trusted_frames;
    uint64_t replicas, receipts, receipts_ok; /* stations' stored receipts */
    double seconds, cpu_seconds;
    uint64_t peak_rss_kb;
} audit_summary;

/* At most this many findings are kept in detail; more are counted. */
#define AUDIT_MAX_FINDINGS 100000

typedef struct audit_report {
    audit_finding *f;
    size_t n, cap;
    uint64_t dropped; /* findings beyond AUDIT_MAX_FINDINGS */
    const char *const *files;
    uint32_t nfiles;
    const uint8_t *is_db; /* per file, or NULL: a database, whose places
                           * are row ids, not offsets */
    audit_summary s;
    int stats; /* print time and memory */
} audit_report;

void audit_report_init(audit_report *r, const char *const *files,
                       uint32_t nfiles);
void audit_report_clear(audit_report *r);
/* Store a copy; returns it (valid until the next add), or NULL when the
 * finding was only counted (cap reached, or out of memory). */
audit_finding *audit_report_add(audit_report *r, const audit_finding *f);
/* Problems (findings that are not warnings), dropped included. */
uint64_t audit_report_problems(const audit_report *r);

int audit_report_text(FILE *out, const audit_report *r);
int audit_report_json(FILE *out, const audit_report *r);
/* Write the page to path (created or replaced). 0, or -1 with errno. */
int audit_report_html(const char *path, const audit_report *r);

#endif
