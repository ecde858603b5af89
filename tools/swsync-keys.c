/* swsync-keys: the key lifecycle, one subcommand a step (spec/SECURITY.md
 * "Key lifecycle"): key files (FORMAT §13), certificates, rotations and
 * revocations appended to the signer's feed (FORMAT §7). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "keyfeed.h"
#include "keyfile.h"
#include "keyshow.h"
#include "keytime.h"
#include "keytool.h"
#include "passphrase.h"
#include "swlog.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char usage_main[] =
    "usage: swsync-keys COMMAND [OPTIONS]\n"
    "\n"
    "  new        create a key pair in a new key file\n"
    "  pub        print the public key of a key file\n"
    "  root-init  start the root's feed with its self-signed certificate\n"
    "  certify    certify a hub's or a station's key\n"
    "  rotate     hand a key's feed over to its successor\n"
    "  revoke     revoke a key you certified\n"
    "  show       list the key frames of logs in words\n"
    "\n"
    "swsync-keys COMMAND --help describes each. Passphrases never go on the\n"
    "command line: --passphrase-env VAR names an environment variable,\n"
    "--passphrase-fd N a descriptor to read one line from; otherwise a\n"
    "terminal is asked, with echo off.\n"
    "\n"
    "Exit codes: 0 done; 1 system failure (I/O, memory); 2 bad command line;\n"
    "3 key file refused; 4 log refused (not a valid feed of the key, torn,\n"
    "corrupt); 5 refused by the key rules (roles, ended or revoked keys).\n"
    "See spec/SECURITY.md.\n";

static const char usage_new[] =
    "usage: swsync-keys new --out KEYFILE [--passphrase-env VAR |\n"
    "         --passphrase-fd N | --passphrase-prompt]\n"
    "         [--kdf interactive|moderate|sensitive]\n"
    "\n"
    "Create a fresh Ed25519 key pair in KEYFILE (mode 0600; an existing file\n"
    "is never replaced) and print its public key in hex. With a passphrase\n"
    "option the key is sealed under it (Argon2id, default cost 'moderate');\n"
    "without one it is stored plain. --passphrase-prompt asks twice.\n";

static const char usage_pub[] =
    "usage: swsync-keys pub KEYFILE\n"
    "\n"
    "Print the public key of KEYFILE in hex. Needs no passphrase.\n";

static const char usage_root_init[] =
    "usage: swsync-keys root-init --key ROOTKEY --unit CODE --log ROOT.log\n"
    "         [--valid-days N] [--passphrase-env VAR | --passphrase-fd N]\n"
    "\n"
    "Write the root key's self-signed certificate (role root, unit CODE,\n"
    "valid from now for N days, default 3650) as seq 1 of the root's feed\n"
    "in ROOT.log, created if missing. Refused if the log holds frames.\n";

static const char usage_certify[] =
    "usage: swsync-keys certify --issuer KEY --issuer-log LOG\n"
    "         --subject PUBHEX|KEYFILE --role province|county|station\n"
    "         --unit CODE [--from ISO --until ISO | --valid-days N]\n"
    "         [--certs LOG]... [--create] [--cut-torn-tail]\n"
    "         [--passphrase-env VAR | --passphrase-fd N]\n"
    "\n"
    "Append a certificate of SUBJECT to the issuer's feed (LOG, which must\n"
    "hold the issuer's frames only, as a valid chain), at its next seq.\n"
    "The root certifies province and county hubs; a county hub certifies\n"
    "stations. The issuer's role comes from its certificate: the root's is\n"
    "in its own log; for a hub give --certs with the log holding it (the\n"
    "root's), and the logs of any rotations leading to the issuer's key.\n"
    "Validity: from now for N days (default 365 for a station, 1825 for a\n"
    "hub), or --from/--until as 2026-03-01 or 2026-03-01T08:30:00Z (UTC).\n"
    "--create: LOG does not exist yet and this is the key's first frame.\n"
    "--cut-torn-tail: cut an interrupted append off LOG's end first.\n";

static const char usage_rotate[] =
    "usage: swsync-keys rotate --old OLDKEY --new NEWKEY --log OLDLOG\n"
    "         [--create] [--cut-torn-tail] [--old-passphrase-env VAR |\n"
    "         --old-passphrase-fd N] [--new-passphrase-env VAR |\n"
    "         --new-passphrase-fd N]\n"
    "\n"
    "Append to the old key's feed (OLDLOG) a rotation frame signed by both\n"
    "keys. It is the old feed's last frame; the new key starts its own\n"
    "feed, in a new log, at seq 1, and inherits the old key's certificate.\n"
    "Create NEWKEY first with 'swsync-keys new'. Both passphrases may come\n"
    "from one descriptor, one a line, new first. --create: OLDLOG does\n"
    "not exist because the old key never signed a frame.\n";

static const char usage_revoke[] =
    "usage: swsync-keys revoke --issuer KEY --issuer-log LOG\n"
    "         --subject PUBHEX|KEYFILE\n"
    "         --reason compromised|retired|superseded|unspecified\n"
    "         (--from-seq N | --from-time ISO) [--certs LOG]...\n"
    "         [--cut-torn-tail] [--passphrase-env VAR | --passphrase-fd N]\n"
    "\n"
    "Append a revocation of SUBJECT to the issuer's feed: SUBJECT's frames\n"
    "with seq >= N, or with an HLC time at or after ISO, are invalid (both\n"
    "may be given). Only the key that certified SUBJECT (its certificate is\n"
    "in LOG) may revoke it; for the successor of a rotated key give --certs\n"
    "with the log holding the rotation.\n";

static const char usage_show[] =
    "usage: swsync-keys show LOG...\n"
    "\n"
    "List the certificates, rotations and revocations of each LOG in words,\n"
    "checking every frame's signature and each feed's chain. Exit code 4 if\n"
    "a log is damaged or not a valid chain (frames before the damage are\n"
    "listed).\n";

static int want_help(int argc, char **argv, const char *text)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(text, stdout);
            return 1;
        }
    }
    return 0;
}

static int missing(const char *cmd, const char *opt)
{
    return kt_report(KT_EUSAGE, cmd, "--%s is required (see --help)", opt);
}

/* ---- new, pub ----------------------------------------------------------- */

static int cmd_new(int argc, char **argv)
{
    const char *out = NULL, *env = NULL, *fd = NULL, *kdf_name = NULL;
    int prompt = 0;
    const kt_opt opts[] = {{"out", KT_VALUE, &out},
                           {"passphrase-env", KT_VALUE, &env},
                           {"passphrase-fd", KT_VALUE, &fd},
                           {"passphrase-prompt", KT_FLAG, &prompt},
                           {"kdf", KT_VALUE, &kdf_name}};
    size_t npos;
    int rc = kt_parse("new", argc, argv, opts, N(opts), NULL, 0, &npos);
    if (rc != KT_OK)
        return rc;
    if (out == NULL)
        return missing("new", "out");
    if ((env != NULL) + (fd != NULL) + prompt > 1)
        return kt_report(KT_EUSAGE, "new", "give one passphrase source");
    keyfile_kdf kdf;
    keyfile_kdf_level("moderate", &kdf);
    if (kdf_name != NULL && !keyfile_kdf_level(kdf_name, &kdf))
        return kt_report(KT_EUSAGE, "new", "--kdf: interactive, moderate or "
                                           "sensitive, not '%s'", kdf_name);
    int sealed = env != NULL || fd != NULL || prompt;
    char *pw = NULL;
    size_t pw_len = 0;
    swlog_error e = {0};
    if (sealed) {
        passphrase_src src = {env, -1};
        uint64_t n;
        if (fd != NULL && (!kt_u64(fd, &n) || n > 1024))
            return kt_report(KT_EUSAGE, "new", "--passphrase-fd wants a "
                                               "descriptor number");
        if (fd != NULL)
            src.fd = (int)n;
        if ((rc = passphrase_get(&src, out, 1, &pw, &pw_len, &e)) != 0)
            return kt_report(kt_exit_for(rc, KT_EUSAGE), out, "%s", e.msg);
    }
    keyfile_key *k = NULL;
    if ((rc = keyfile_generate(&k, &e)) == SWLOG_OK)
        rc = keyfile_save(out, k, sealed ? &kdf : NULL, pw, pw_len, &e);
    passphrase_free(pw);
    if (rc != SWLOG_OK) {
        keyfile_key_free(k);
        return kt_report(rc == KEYFILE_EEXIST ? KT_EKEY : KT_ESYS, out, "%s",
                         e.msg);
    }
    char hex[65];
    kt_hex(k->pk, hex);
    keyfile_key_free(k);
    printf("%s\n", hex);
    return KT_OK;
}

static int cmd_pub(int argc, char **argv)
{
    const char *pos[1];
    size_t npos;
    int rc = kt_parse("pub", argc, argv, NULL, 0, pos, 1, &npos);
    if (rc != KT_OK)
        return rc;
    if (npos != 1)
        return kt_report(KT_EUSAGE, "pub", "give one KEYFILE (see --help)");
    uint8_t pk[SWLOG_PUBKEY_BYTES];
    if ((rc = kt_public(pos[0], 0, pk)) != KT_OK)
        return rc;
    char hex[65];
    kt_hex(pk, hex);
    printf("%s\n", hex);
    return KT_OK;
}

/* ---- signing commands --------------------------------------------------- */

/* Sign with the key at path, append to log; kf describes log. */
typedef int (*encode_fn)(const keyfile_key *k, const swlog_head *h,
                         const void *arg, swlog_buf *out, swlog_error *err);

static int sign_and_append(const char *key_path, const kt_pass *pass,
                           const char *log, const keyfeed *kf,
                           const uint8_t pk[SWLOG_PUBKEY_BYTES],
                           encode_fn encode, const void *arg, uint64_t *seq)
{
    keyfile_key *k = NULL;
    int rc = kt_secret(key_path, pass, &k);
    if (rc != KT_OK)
        return rc;
    if (memcmp(k->pk, pk, SWLOG_PUBKEY_BYTES) != 0) {
        keyfile_key_free(k);
        return kt_report(KT_EKEY, key_path, "changed while in use");
    }
    swlog_head h;
    kt_head(kf, &h);
    swlog_buf body;
    swlog_buf_init(&body);
    swlog_error e = {0};
    rc = encode(k, &h, arg, &body, &e);
    keyfile_key_free(k);
    if (rc != SWLOG_OK)
        rc = kt_report(kt_exit_for(rc, KT_EUSAGE), log,
                       "cannot encode the frame: %s", e.msg);
    else
        rc = kt_append(log, kf, &body);
    swlog_buf_clear(&body);
    *seq = h.seq;
    return rc;
}

struct cert_arg {
    const uint8_t *subject;
    uint8_t role;
    uint64_t from, until;
    const char *unit;
};

static int encode_cert(const keyfile_key *k, const swlog_head *h,
                       const void *arg, swlog_buf *out, swlog_error *err)
{
    const struct cert_arg *c = arg;
    return swlog_cert_encode(k->sk, h, c->subject, c->role, c->from, c->until,
                             c->unit, out, err);
}

/* FORMAT §1.3 unit codes, checked before anyone types a passphrase. */
static int unit_ok(const char *u)
{
    size_t n = strlen(u);
    if (n == 0 || n > SWLOG_MAX_UNIT)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = u[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
              (c >= 'A' && c <= 'Z') || c == '-'))
            return 0;
    }
    return 1;
}

static int bad_unit(const char *cmd, const char *unit)
{
    return kt_report(KT_EUSAGE, cmd,
                     "--unit '%s': a unit code is 1 to %u letters, digits or "
                     "'-'", unit, SWLOG_MAX_UNIT);
}

static int cmd_root_init(int argc, char **argv)
{
    const char *key = NULL, *unit = NULL, *log = NULL, *days = NULL;
    kt_pass pass = {0};
    const kt_opt opts[] = {{"key", KT_VALUE, &key},
                           {"unit", KT_VALUE, &unit},
                           {"log", KT_VALUE, &log},
                           {"valid-days", KT_VALUE, &days},
                           {"passphrase-env", KT_VALUE, &pass.env},
                           {"passphrase-fd", KT_VALUE, &pass.fd}};
    size_t npos;
    int rc = kt_parse("root-init", argc, argv, opts, N(opts), NULL, 0, &npos);
    if (rc != KT_OK)
        return rc;
    if (key == NULL || unit == NULL || log == NULL)
        return missing("root-init", key == NULL    ? "key"
                                    : unit == NULL ? "unit"
                                                   : "log");
    if (!unit_ok(unit))
        return bad_unit("root-init", unit);
    uint64_t n = 3650;
    if (days != NULL && (!kt_u64(days, &n) || n == 0 || n > 36500))
        return kt_report(KT_EUSAGE, "root-init", "--valid-days: 1 to 36500");
    uint8_t pk[SWLOG_PUBKEY_BYTES];
    if ((rc = kt_public(key, 0, pk)) != KT_OK)
        return rc;
    keyfeed kf;
    keyfeed_init(&kf);
    rc = kt_own_log(&kf, log, pk, 1, 0);
    if (rc == KT_OK && kf.frames > 0)
        rc = kt_report(KT_ERULE, log,
                       "already holds %zu frame(s) of this key's feed; "
                       "root-init writes the first", kf.frames);
    uint64_t now = keytime_now(), seq = 0;
    struct cert_arg c = {pk, SWLOG_ROLE_ROOT, now, now + n * KEYTIME_DAY_MS,
                         unit};
    if (rc == KT_OK)
        rc = sign_and_append(key, &pass, log, &kf, pk, encode_cert, &c, &seq);
    keyfeed_clear(&kf);
    if (rc != KT_OK)
        return rc;
    char hex[65], until[KEYTIME_BYTES];
    kt_hex(pk, hex);
    keytime_format(c.until, until);
    printf("%s: seq %" PRIu64 ": root %s, unit %s, valid until %s\n", log,
           seq, hex, unit, until);
    return KT_OK;
}

/* spec/SECURITY.md "Who certifies whom". NULL when allowed. */
static const char *role_rule(uint8_t issuer, uint8_t subject)
{
    if (issuer == SWLOG_ROLE_ROOT)
        return subject == SWLOG_ROLE_PROVINCE || subject == SWLOG_ROLE_COUNTY
                   ? NULL
                   : "the root certifies province and county hubs only "
                     "(a county hub certifies its stations)";
    if (issuer == SWLOG_ROLE_COUNTY)
        return subject == SWLOG_ROLE_STATION
                   ? NULL
                   : "a county hub certifies stations only (the root "
                     "certifies hubs)";
    return "only the root and county hubs certify keys";
}

/* The issuer's standing: a feed not ended, not revoked, and (when cert is
 * not NULL) a known role. */
static int issuer_check(const char *cmd, const keyfeed *kf,
                        const uint8_t pk[SWLOG_PUBKEY_BYTES],
                        const keyfeed_cert **cert)
{
    char hex[65];
    kt_hex(pk, hex);
    if (kf->ended)
        return kt_report(KT_ERULE, cmd,
                         "the issuer's feed ended with its rotation at seq "
                         "%" PRIu64 "; sign with its successor's key",
                         kf->next.seq - 1);
    for (size_t i = 0; i < kf->nrevs; i++)
        if (memcmp(kf->revs[i].subject, pk, SWLOG_PUBKEY_BYTES) == 0)
            return kt_report(KT_ERULE, cmd, "the issuer %s was revoked (%s)",
                             hex, keyfeed_reason_name(kf->revs[i].reason));
    if (cert == NULL)
        return KT_OK;
    *cert = keyfeed_cert_of(kf, pk);
    if (*cert == NULL)
        return kt_report(KT_ERULE, cmd,
                         "cannot tell the role of the issuer %s: no "
                         "certificate of it in its log or the --certs logs. "
                         "Give --certs with the log of the key that "
                         "certified it (for a county hub: the root's log)",
                         hex);
    const keyfeed_cert *c = *cert;
    if (c->role == SWLOG_ROLE_ROOT &&
        memcmp(c->issuer, c->subject, SWLOG_PUBKEY_BYTES) != 0)
        return kt_report(KT_ERULE, cmd, "the issuer's root certificate is "
                                        "not self-signed");
    return KT_OK;
}

static int validity(const char *from, const char *until, const char *days,
                    uint8_t role, uint64_t *vf, uint64_t *vu)
{
    if (days != NULL && (from != NULL || until != NULL))
        return kt_report(KT_EUSAGE, "certify",
                         "give --valid-days or --from/--until, not both");
    if ((from != NULL) != (until != NULL))
        return kt_report(KT_EUSAGE, "certify",
                         "--from and --until go together");
    if (from != NULL) {
        if (!keytime_parse(from, vf) || !keytime_parse(until, vu))
            return kt_report(KT_EUSAGE, "certify",
                             "--from/--until: a UTC date as 2026-03-01 or "
                             "2026-03-01T08:30:00Z");
        if (*vu <= *vf)
            return kt_report(KT_EUSAGE, "certify", "--until must be after "
                                                   "--from");
        return KT_OK;
    }
    uint64_t n = role == SWLOG_ROLE_STATION ? 365 : 1825;
    if (days != NULL && (!kt_u64(days, &n) || n == 0 || n > 36500))
        return kt_report(KT_EUSAGE, "certify", "--valid-days: 1 to 36500");
    *vf = keytime_now();
    *vu = *vf + n * KEYTIME_DAY_MS;
    return KT_OK;
}

/* Warnings only: the auditor judges (spec/SECURITY.md). */
static void window_warnings(const keyfeed_cert *ic, uint64_t vf, uint64_t vu)
{
    char t[KEYTIME_BYTES];
    keytime_format(ic->valid_until, t);
    if (ic->valid_until <= keytime_now())
        fprintf(stderr, "swsync-keys: certify: warning: the issuer's own "
                        "certificate expired at %s\n", t);
    else if (vu > ic->valid_until || vf < ic->valid_from)
        fprintf(stderr, "swsync-keys: certify: warning: the certificate "
                        "runs outside the issuer's own (until %s)\n", t);
}

static int cmd_certify(int argc, char **argv)
{
    const char *issuer = NULL, *ilog = NULL, *subject = NULL, *role = NULL,
               *unit = NULL, *from = NULL, *until = NULL, *days = NULL;
    int create = 0, cut = 0;
    kt_list certs = {0};
    kt_pass pass = {0};
    const kt_opt opts[] = {
        {"issuer", KT_VALUE, &issuer},  {"issuer-log", KT_VALUE, &ilog},
        {"subject", KT_VALUE, &subject}, {"role", KT_VALUE, &role},
        {"unit", KT_VALUE, &unit},       {"from", KT_VALUE, &from},
        {"until", KT_VALUE, &until},     {"valid-days", KT_VALUE, &days},
        {"certs", KT_LIST, &certs},      {"create", KT_FLAG, &create},
        {"cut-torn-tail", KT_FLAG, &cut},
        {"passphrase-env", KT_VALUE, &pass.env},
        {"passphrase-fd", KT_VALUE, &pass.fd}};
    size_t npos;
    int rc = kt_parse("certify", argc, argv, opts, N(opts), NULL, 0, &npos);
    if (rc != KT_OK)
        return rc;
    const char *need = issuer == NULL    ? "issuer"
                       : ilog == NULL    ? "issuer-log"
                       : subject == NULL ? "subject"
                       : role == NULL    ? "role"
                       : unit == NULL    ? "unit"
                                         : NULL;
    if (need != NULL)
        return missing("certify", need);
    uint8_t srole = keyfeed_role_parse(role);
    if (srole == 0 || srole == SWLOG_ROLE_ROOT)
        return kt_report(KT_EUSAGE, "certify", "--role: province, county or "
                                               "station, not '%s'", role);
    if (!unit_ok(unit))
        return bad_unit("certify", unit);
    uint64_t vf = 0, vu = 0;
    if ((rc = validity(from, until, days, srole, &vf, &vu)) != KT_OK)
        return rc;
    uint8_t ipk[SWLOG_PUBKEY_BYTES], spk[SWLOG_PUBKEY_BYTES];
    if ((rc = kt_public(issuer, 0, ipk)) != KT_OK ||
        (rc = kt_public(subject, 1, spk)) != KT_OK)
        return rc;
    if (memcmp(ipk, spk, SWLOG_PUBKEY_BYTES) == 0)
        return kt_report(KT_ERULE, "certify", "a key cannot certify itself "
                                              "(only the root, by root-init)");
    keyfeed kf;
    keyfeed_init(&kf);
    const keyfeed_cert *ic = NULL;
    const char *why = NULL;
    uint64_t seq = 0;
    if ((rc = kt_own_log(&kf, ilog, ipk, create, cut)) != KT_OK ||
        (rc = kt_context_logs(&kf, &certs)) != KT_OK ||
        (rc = issuer_check("certify", &kf, ipk, &ic)) != KT_OK)
        goto done;
    if ((why = role_rule(ic->role, srole)) != NULL) {
        rc = kt_report(KT_ERULE, "certify", "the issuer is a %s key: %s",
                       keyfeed_role_name(ic->role), why);
        goto done;
    }
    if (ic->role != SWLOG_ROLE_ROOT || vu > ic->valid_until)
        window_warnings(ic, vf, vu);
    if (strncmp(unit, ic->unit, strlen(ic->unit)) != 0)
        fprintf(stderr, "swsync-keys: certify: warning: unit %s does not "
                        "start with the issuer's unit %s\n", unit, ic->unit);
    struct cert_arg c = {spk, srole, vf, vu, unit};
    rc = sign_and_append(issuer, &pass, ilog, &kf, ipk, encode_cert, &c, &seq);
done:
    keyfeed_clear(&kf);
    if (rc != KT_OK)
        return rc;
    char hex[65], t0[KEYTIME_BYTES], t1[KEYTIME_BYTES];
    kt_hex(spk, hex);
    keytime_format(vf, t0);
    keytime_format(vu, t1);
    printf("%s: seq %" PRIu64 ": certified %s as %s, unit %s, valid %s to "
           "%s\n", ilog, seq, hex, role, unit, t0, t1);
    return KT_OK;
}

struct rot_arg {
    const keyfile_key *new_key;
};

static int encode_rot(const keyfile_key *k, const swlog_head *h,
                      const void *arg, swlog_buf *out, swlog_error *err)
{
    const struct rot_arg *r = arg;
    return swlog_rotation_encode(k->sk, r->new_key->sk, h, out, err);
}

static int cmd_rotate(int argc, char **argv)
{
    const char *old = NULL, *new_path = NULL, *log = NULL;
    int cut = 0, create = 0;
    kt_pass op = {0}, np = {0};
    const kt_opt opts[] = {{"old", KT_VALUE, &old},
                           {"new", KT_VALUE, &new_path},
                           {"log", KT_VALUE, &log},
                           {"create", KT_FLAG, &create},
                           {"cut-torn-tail", KT_FLAG, &cut},
                           {"old-passphrase-env", KT_VALUE, &op.env},
                           {"old-passphrase-fd", KT_VALUE, &op.fd},
                           {"new-passphrase-env", KT_VALUE, &np.env},
                           {"new-passphrase-fd", KT_VALUE, &np.fd}};
    size_t npos;
    int rc = kt_parse("rotate", argc, argv, opts, N(opts), NULL, 0, &npos);
    if (rc != KT_OK)
        return rc;
    if (old == NULL || new_path == NULL || log == NULL)
        return missing("rotate", old == NULL        ? "old"
                                 : new_path == NULL ? "new"
                                                    : "log");
    uint8_t opk[SWLOG_PUBKEY_BYTES], npk[SWLOG_PUBKEY_BYTES];
    if ((rc = kt_public(old, 0, opk)) != KT_OK ||
        (rc = kt_public(new_path, 0, npk)) != KT_OK)
        return rc;
    if (memcmp(opk, npk, SWLOG_PUBKEY_BYTES) == 0)
        return kt_report(KT_EUSAGE, "rotate", "--old and --new are the same "
                                              "key");
    keyfeed kf;
    keyfeed_init(&kf);
    keyfile_key *nk = NULL;
    uint64_t seq = 0;
    if ((rc = kt_own_log(&kf, log, opk, create, cut)) != KT_OK)
        goto done;
    if (kf.ended) {
        rc = kt_report(KT_ERULE, "rotate", "the old key's feed already ended "
                                           "with a rotation at seq %" PRIu64,
                       kf.next.seq - 1);
        goto done;
    }
    if ((rc = kt_secret(new_path, &np, &nk)) != KT_OK)
        goto done;
    struct rot_arg r = {nk};
    rc = sign_and_append(old, &op, log, &kf, opk, encode_rot, &r, &seq);
done:
    keyfile_key_free(nk);
    keyfeed_clear(&kf);
    if (rc != KT_OK)
        return rc;
    char oh[65], nh[65];
    kt_hex(opk, oh);
    kt_hex(npk, nh);
    printf("%s: seq %" PRIu64 ": rotated %s to %s; the old feed ends here, "
           "the new key's feed starts at seq 1 in a new log\n",
           log, seq, oh, nh);
    return KT_OK;
}

struct rev_arg {
    const uint8_t *subject;
    uint64_t from_seq, from_time;
    uint8_t reason;
};

static int encode_rev(const keyfile_key *k, const swlog_head *h,
                      const void *arg, swlog_buf *out, swlog_error *err)
{
    const struct rev_arg *r = arg;
    return swlog_revocation_encode(k->sk, h, r->subject, r->from_seq,
                                   r->from_time, r->reason, out, err);
}

/* Did issuer certify key, or a key that key succeeded by rotation? */
static int issued_by(const keyfeed *kf, const uint8_t *issuer,
                     const uint8_t *key)
{
    for (int depth = 0; depth < 64; depth++) {
        for (size_t i = 0; i < kf->ncerts; i++)
            if (memcmp(kf->certs[i].issuer, issuer, SWLOG_PUBKEY_BYTES) ==
                    0 &&
                memcmp(kf->certs[i].subject, key, SWLOG_PUBKEY_BYTES) == 0)
                return 1;
        size_t i = kf->nrots;
        while (i-- > 0)
            if (memcmp(kf->rots[i].new_key, key, SWLOG_PUBKEY_BYTES) == 0)
                break;
        if (i == SIZE_MAX)
            return 0;
        key = kf->rots[i].old_key;
    }
    return 0;
}

static int cmd_revoke(int argc, char **argv)
{
    const char *issuer = NULL, *ilog = NULL, *subject = NULL, *reason = NULL,
               *fseq = NULL, *ftime = NULL;
    int cut = 0;
    kt_list certs = {0};
    kt_pass pass = {0};
    const kt_opt opts[] = {
        {"issuer", KT_VALUE, &issuer},   {"issuer-log", KT_VALUE, &ilog},
        {"subject", KT_VALUE, &subject}, {"reason", KT_VALUE, &reason},
        {"from-seq", KT_VALUE, &fseq},   {"from-time", KT_VALUE, &ftime},
        {"certs", KT_LIST, &certs},      {"cut-torn-tail", KT_FLAG, &cut},
        {"passphrase-env", KT_VALUE, &pass.env},
        {"passphrase-fd", KT_VALUE, &pass.fd}};
    size_t npos;
    int rc = kt_parse("revoke", argc, argv, opts, N(opts), NULL, 0, &npos);
    if (rc != KT_OK)
        return rc;
    const char *need = issuer == NULL    ? "issuer"
                       : ilog == NULL    ? "issuer-log"
                       : subject == NULL ? "subject"
                       : reason == NULL  ? "reason"
                                         : NULL;
    if (need != NULL)
        return missing("revoke", need);
    struct rev_arg r = {NULL, 0, 0, keyfeed_reason_parse(reason)};
    if (r.reason == 0)
        return kt_report(KT_EUSAGE, "revoke",
                         "--reason: compromised, retired, superseded or "
                         "unspecified, not '%s'", reason);
    if (fseq == NULL && ftime == NULL)
        return kt_report(KT_EUSAGE, "revoke",
                         "say from when: --from-seq N or --from-time ISO");
    if (fseq != NULL && (!kt_u64(fseq, &r.from_seq) || r.from_seq == 0))
        return kt_report(KT_EUSAGE, "revoke", "--from-seq: a seq >= 1");
    if (ftime != NULL && (!keytime_parse(ftime, &r.from_time) ||
                          r.from_time == 0))
        return kt_report(KT_EUSAGE, "revoke",
                         "--from-time: a UTC time as 2026-03-01 or "
                         "2026-03-01T08:30:00Z");
    uint8_t ipk[SWLOG_PUBKEY_BYTES], spk[SWLOG_PUBKEY_BYTES];
    if ((rc = kt_public(issuer, 0, ipk)) != KT_OK ||
        (rc = kt_public(subject, 1, spk)) != KT_OK)
        return rc;
    r.subject = spk;
    if (memcmp(ipk, spk, SWLOG_PUBKEY_BYTES) == 0)
        return kt_report(KT_ERULE, "revoke",
                         "a key cannot revoke itself; its issuer revokes it");
    keyfeed kf;
    keyfeed_init(&kf);
    uint64_t seq = 0;
    if ((rc = kt_own_log(&kf, ilog, ipk, 0, cut)) != KT_OK ||
        (rc = kt_context_logs(&kf, &certs)) != KT_OK)
        goto done;
    if (!issued_by(&kf, ipk, spk)) {
        rc = kt_report(KT_ERULE, "revoke",
                       "the issuer never certified this subject (no "
                       "certificate in %s); only the key that issued a "
                       "certificate revokes it. For a rotated key's "
                       "successor give --certs with the log holding the "
                       "rotation", ilog);
        goto done;
    }
    /* Having issued the certificate is standing enough: the issuer's own
     * role was checked when it certified. */
    if ((rc = issuer_check("revoke", &kf, ipk, NULL)) != KT_OK)
        goto done;
    rc = sign_and_append(issuer, &pass, ilog, &kf, ipk, encode_rev, &r, &seq);
done:
    keyfeed_clear(&kf);
    if (rc != KT_OK)
        return rc;
    char hex[65];
    kt_hex(spk, hex);
    printf("%s: seq %" PRIu64 ": revoked %s (%s)\n", ilog, seq, hex, reason);
    return KT_OK;
}


int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
        const char *usage;
    } cmds[] = {{"new", cmd_new, usage_new},
                {"pub", cmd_pub, usage_pub},
                {"root-init", cmd_root_init, usage_root_init},
                {"certify", cmd_certify, usage_certify},
                {"rotate", cmd_rotate, usage_rotate},
                {"revoke", cmd_revoke, usage_revoke},
                {"show", keyshow_cmd, usage_show}};
    if (argc < 2) {
        fputs(usage_main, stderr);
        return KT_EUSAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage_main, stdout);
        return KT_OK;
    }
    if (swlog_init() != SWLOG_OK)
        return kt_report(KT_ESYS, NULL, "libsodium cannot start");
    for (size_t i = 0; i < N(cmds); i++)
        if (strcmp(argv[1], cmds[i].name) == 0) {
            if (want_help(argc - 2, argv + 2, cmds[i].usage))
                return KT_OK;
            int rc = cmds[i].fn(argc - 2, argv + 2);
            if (fflush(stdout) != 0 && rc == KT_OK)
                rc = kt_report(KT_ESYS, NULL, "cannot write the output");
            return rc;
        }
    return kt_report(KT_EUSAGE, NULL,
                     "unknown command '%s'; try swsync-keys --help",
                     argv[1]);
}
