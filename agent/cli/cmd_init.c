/* swsync-agent init: a new station folder (agent/README.md "Station
 * folder"): the key file (FORMAT §13), the replica, a copy of the hub's CA
 * and station.conf, written last so a folder with station.conf is whole. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "keyfile.h"
#include "passphrase.h"

static const char usage[] =
    "usage: swsync-agent [--dir DIR] init --unit CODE\n"
    "         [--hub-url https://HOST[:PORT] --hub-ca CA.pem]\n"
    "         [--hub-key HEX] [--passphrase-env VAR] [--operator NAME]\n"
    "\n"
    "Create the station folder DIR (mode 0700; an existing empty folder is\n"
    "used): station.key (a new Ed25519 key, mode 0600), replica.db,\n"
    "station.conf, and hub-ca.pem (a copy of CA.pem) when a hub is given.\n"
    "The station's log, station.log, is created by the first seal. A\n"
    "folder that holds any of these files is refused, never overwritten.\n"
    "\n"
    "  --unit CODE        the station's unit code (spec/SCHEMA.md §5):\n"
    "                     township division code, '-', the serial the\n"
    "                     county hub gave, e.g. 440983102000-01\n"
    "  --hub-url URL      the county hub (https:// only)\n"
    "  --hub-ca FILE      PEM file with the CA certificate(s) that sign\n"
    "                     the hub's TLS certificate (pinned)\n"
    "  --hub-key HEX      the hub's public key (64 hex digits), if known\n"
    "  --passphrase-env VAR  seal the key file under the passphrase in\n"
    "                     environment variable VAR (Argon2id); later\n"
    "                     commands read it from $SWSYNC_PASSPHRASE_FILE\n"
    "                     or the terminal\n"
    "  --operator NAME    the default operator recorded on changes\n"
    "\n"
    "Prints the station's public key: give it to the county office, which\n"
    "certifies it with 'swsync-keys certify --role station'.\n"
    "\n"
    "Exit codes: 0 done; 1 failed (nothing is left behind); 2 bad command\n"
    "line or a folder already initialised.\n";

#define CA_MAX (1024 * 1024)

/* SCHEMA §5 org_units.unit_code of a station: township code (12 digits),
 * '-', the two-digit serial from the county hub. */
static int unit_ok(const char *u)
{
    if (strlen(u) != 15 || u[12] != '-')
        return 0;
    for (int i = 0; i < 15; i++)
        if (i != 12 && (u[i] < '0' || u[i] > '9'))
            return 0;
    return 1;
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Write a new file at path (never replacing one): temp file, fsync, link
 * into place, unlink the temp. 0 or -1 with errno. */
static int write_new(const char *path, const void *p, size_t n, mode_t mode)
{
    char tmp[CLI_PATH_MAX + 16];
    if (snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >=
        (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    int rc = write_all(fd, p, n) == 0 && fsync(fd) == 0 ? 0 : -1;
    int e = errno;
    close(fd);
    if (rc == 0)
        rc = link(tmp, path);
    e = rc != 0 ? errno : e;
    unlink(tmp);
    errno = e;
    return rc;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Read the CA file: a PEM file with at least one CERTIFICATE block. */
static int read_ca(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return cli_fail("init", CLI_EUSAGE, "--hub-ca %s: %s", path,
                        strerror(errno));
    char *buf = malloc(CA_MAX + 1);
    size_t n = buf != NULL ? fread(buf, 1, CA_MAX + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (buf == NULL)
        return cli_fail("init", CLI_EFAIL, "out of memory");
    if (bad || n > CA_MAX) {
        free(buf);
        return cli_fail("init", CLI_EUSAGE,
                        "--hub-ca %s: %s", path,
                        bad ? "read failed" : "larger than 1 MiB: not a CA "
                                              "certificate file");
    }
    buf[n] = '\0';
    if (memchr(buf, '\0', n) != NULL ||
        strstr(buf, "-----BEGIN CERTIFICATE-----") == NULL ||
        strstr(buf, "-----END CERTIFICATE-----") == NULL) {
        free(buf);
        return cli_fail("init", CLI_EUSAGE,
                        "--hub-ca %s: not a PEM file with a CERTIFICATE "
                        "block (the county office gives the hub's CA "
                        "certificate as a .pem or .crt file)", path);
    }
    *out = buf;
    *len = n;
    return CLI_OK;
}

int cmd_init(int argc, char **argv)
{
    const char *unit = NULL, *hub_url = NULL, *hub_ca = NULL, *hub_key = NULL,
               *pass_env = NULL, *op = NULL;
    const cli_opt opts[] = {{"unit", CLI_VALUE, &unit},
                            {"hub-url", CLI_VALUE, &hub_url},
                            {"hub-ca", CLI_VALUE, &hub_ca},
                            {"hub-key", CLI_VALUE, &hub_key},
                            {"passphrase-env", CLI_VALUE, &pass_env},
                            {"operator", CLI_VALUE, &op}};
    size_t npos;
    if (cli_want_help(argc, argv, usage))
        return CLI_OK;
    const char *dir = cli_dir(&argc, argv);
    int rc = cli_parse("init", argc, argv, opts,
                       sizeof opts / sizeof opts[0], NULL, 0, &npos);
    if (rc != CLI_OK)
        return rc;
    if (unit == NULL)
        return cli_fail("init", CLI_EUSAGE, "--unit CODE is required (see "
                                            "--help)");
    if (!unit_ok(unit))
        return cli_fail("init", CLI_EUSAGE,
                        "--unit '%.40s' is not a station's unit code: 12 "
                        "digits of the township code, '-', the 2-digit "
                        "serial from the county hub (e.g. 440983102000-01)",
                        unit);
    if ((hub_url != NULL) != (hub_ca != NULL))
        return cli_fail("init", CLI_EUSAGE,
                        "give --hub-url and --hub-ca together (the hub's CA "
                        "is pinned), or neither");
    if (hub_url != NULL &&
        (strncmp(hub_url, "https://", 8) != 0 || strlen(hub_url) < 9 ||
         strlen(hub_url) >= 1024 || strpbrk(hub_url, " \t\r\n") != NULL))
        return cli_fail("init", CLI_EUSAGE,
                        "--hub-url must be an https:// URL without spaces "
                        "(HTTPS only, spec/SECURITY.md)");
    char hubkey[2 * SWLOG_PUBKEY_BYTES + 1] = "";
    if (hub_key != NULL) {
        size_t n = strlen(hub_key);
        int ok = n == 2 * SWLOG_PUBKEY_BYTES;
        for (size_t i = 0; ok && i < n; i++) {
            char c = hub_key[i];
            if (c >= 'A' && c <= 'F')
                c = (char)(c - 'A' + 'a');
            ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
            hubkey[i] = c;
        }
        if (!ok)
            return cli_fail("init", CLI_EUSAGE,
                            "--hub-key must be 64 hex digits (swsync-keys "
                            "pub prints them)");
        hubkey[n] = '\0';
    }
    if (op != NULL && !cli_operator_ok(op))
        return cli_fail("init", CLI_EUSAGE,
                        "--operator: 1 to %u bytes, no control characters "
                        "and no spaces at either end", SWLOG_MAX_AUTHOR);

    char conf[CLI_PATH_MAX], key[CLI_PATH_MAX], db[CLI_PATH_MAX],
        ca[CLI_PATH_MAX], logp[CLI_PATH_MAX];
    if (cli_path(conf, dir, "station.conf") || cli_path(key, dir, "station.key")
        || cli_path(db, dir, "replica.db") || cli_path(ca, dir, "hub-ca.pem")
        || cli_path(logp, dir, "station.log"))
        return cli_fail("init", CLI_EUSAGE, "folder path too long");
    const char *const mine[] = {conf, key, db, ca, logp};
    for (size_t i = 0; i < sizeof mine / sizeof mine[0]; i++) {
        struct stat sb;
        if (lstat(mine[i], &sb) == 0)
            return cli_fail("init", CLI_EUSAGE,
                            "%s exists: %s is already (or partly) a station "
                            "folder; init never overwrites it (choose "
                            "another --dir)", mine[i], dir);
    }

    char *ca_text = NULL;
    size_t ca_len = 0;
    if (hub_ca != NULL && (rc = read_ca(hub_ca, &ca_text, &ca_len)) != 0)
        return rc;

    int made_dir = 0;
    if (mkdir(dir, 0700) == 0) {
        made_dir = 1;
    } else if (errno != EEXIST) {
        free(ca_text);
        return cli_fail("init", CLI_EFAIL, "cannot create %s: %s", dir,
                        strerror(errno));
    } else {
        struct stat sb;
        if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            free(ca_text);
            return cli_fail("init", CLI_EUSAGE, "%s is not a folder", dir);
        }
        if (sb.st_mode & 077)
            fprintf(stderr,
                    "swsync-agent init: note: %s may be read by other users "
                    "(mode %03o); 'chmod 700 %s' keeps the replica private\n",
                    dir, (unsigned)(sb.st_mode & 0777), dir);
    }

    /* From here on a failure removes what this run created. */
    int made_key = 0, made_db = 0, made_ca = 0;
    char *pw = NULL;
    size_t pwlen = 0;
    keyfile_key *k = NULL;
    swlog_error e = {0};
    char hex[2 * SWLOG_PUBKEY_BYTES + 1];
    char *text = NULL;
    rc = CLI_EFAIL;
    if (pass_env != NULL) {
        passphrase_src src = {pass_env, -1};
        if (passphrase_get(&src, key, 0, &pw, &pwlen, &e) != SWLOG_OK) {
            rc = cli_fail("init", CLI_EUSAGE, "--passphrase-env: %s", e.msg);
            goto done;
        }
    }
    keyfile_kdf kdf;
    keyfile_kdf_level("moderate", &kdf);
    if (keyfile_generate(&k, &e) != SWLOG_OK ||
        keyfile_save(key, k, pw != NULL ? &kdf : NULL, pw, pwlen, &e) !=
            SWLOG_OK) {
        cli_fail_err("init", &e, NULL);
        goto done;
    }
    made_key = 1;
    swlog_hex(k->pk, SWLOG_PUBKEY_BYTES, hex);

    replica *r = NULL;
    if (replica_open(db, &r, &e) != SWLOG_OK) {
        cli_fail_err("init", &e, NULL);
        goto done;
    }
    made_db = 1;
    replica_close(r);

    if (ca_text != NULL) {
        if (write_new(ca, ca_text, ca_len, 0644) != 0) {
            cli_fail("init", CLI_EFAIL, "%s: %s", ca, strerror(errno));
            goto done;
        }
        made_ca = 1;
    }

    char created[32];
    cli_time_text(cli_now_ms(), created);
    const char *fmt =
        "# swsync station folder (agent/README.md \"Station folder\").\n"
        "# key = value lines; paths are relative to this folder.\n"
        "unit = %s\n"
        "operator = %s\n"
        "hub_url = %s\n"
        "hub_ca = %s\n"
        "hub_key = %s\n"
        "key = station.key\n"
        "replica = replica.db\n"
        "log = station.log\n"
        "created = %s\n";
    int n = snprintf(NULL, 0, fmt, unit, op != NULL ? op : "",
                     hub_url != NULL ? hub_url : "",
                     ca_text != NULL ? "hub-ca.pem" : "", hubkey, created);
    text = n > 0 ? malloc((size_t)n + 1) : NULL;
    if (text == NULL) {
        cli_fail("init", CLI_EFAIL, "out of memory");
        goto done;
    }
    snprintf(text, (size_t)n + 1, fmt, unit, op != NULL ? op : "",
             hub_url != NULL ? hub_url : "",
             ca_text != NULL ? "hub-ca.pem" : "", hubkey, created);
    if (write_new(conf, text, (size_t)n, 0600) != 0 || fsync_dir(dir) != 0) {
        cli_fail("init", CLI_EFAIL, "%s: %s", conf, strerror(errno));
        unlink(conf);
        goto done;
    }
    rc = CLI_OK;
    printf("station folder %s created for unit %s\n", dir, unit);
    printf("station public key: %s\n", hex);
    printf("key file: %s (%s)\n", key,
           pw != NULL ? "sealed under your passphrase" : "plain, mode 0600");
    printf("\nNext: give the public key to the county office; it certifies\n"
           "the station with\n"
           "  swsync-keys certify --role station --unit %s --subject %s ...\n",
           unit, hex);
    if (hub_url == NULL)
        printf("No hub is configured yet: records are kept and sealed here;\n"
               "'swsync-agent export' writes bundles for the county office.\n");

done:
    if (rc != CLI_OK) {
        char side[CLI_PATH_MAX + 8];
        if (made_ca)
            unlink(ca);
        if (made_db) {
            unlink(db);
            if (snprintf(side, sizeof side, "%s-wal", db) < (int)sizeof side)
                unlink(side);
            if (snprintf(side, sizeof side, "%s-shm", db) < (int)sizeof side)
                unlink(side);
        }
        if (made_key)
            unlink(key);
        if (made_dir)
            rmdir(dir);
    }
    free(text);
    free(ca_text);
    keyfile_key_free(k);
    passphrase_free(pw);
    return rc;
}
