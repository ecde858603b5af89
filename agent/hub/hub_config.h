/* The hub's configuration file, hub.conf: `key = value` lines (agent/hub/
 * README.md "Configuration"). Relative paths are taken from the folder of the
 * configuration file. */
#ifndef HUB_CONFIG_H
#define HUB_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "swlog.h"

#define HUB_CONFIG_MAX_TRUST 16
#define HUB_CONFIG_PATH_MAX 1024

typedef struct hub_config {
    char listen[64];                       /* IPv4 or IPv6 literal */
    unsigned port;                         /* 0: any free port */
    char tls_cert[HUB_CONFIG_PATH_MAX];    /* PEM */
    char tls_key[HUB_CONFIG_PATH_MAX];     /* PEM, unencrypted */
    char hub_key[HUB_CONFIG_PATH_MAX];     /* FORMAT §13 key file */
    char passphrase_env[64];               /* sealed hub_key: env variable */
    char data[HUB_CONFIG_PATH_MAX];        /* data folder */
    char own_log[HUB_CONFIG_PATH_MAX];     /* the hub key's feed */
    uint8_t root[SWLOG_PUBKEY_BYTES];
    int have_root;
    char trust_log[HUB_CONFIG_MAX_TRUST][HUB_CONFIG_PATH_MAX];
    size_t ntrust;
    char unit[SWLOG_MAX_UNIT + 1];
    uint64_t max_push_bytes;
    unsigned max_push_frames;
    uint64_t memory_budget;      /* bytes of request bodies, all at once */
    unsigned connection_limit;
    unsigned connection_timeout; /* seconds */
    uint64_t max_clock_skew_ms;
    unsigned max_parked;         /* parked frames kept (newest) */
    unsigned shutdown_grace;     /* seconds SIGTERM waits for requests */
    /* ms between the server's commits of what batches merged into
     * replica.db (README "Durability and recovery"; hub_flush) */
    unsigned replica_commit_ms;
    /* Relay upward (agent/hub/README.md "Relay"): empty url = no relay. */
    char upstream_url[HUB_CONFIG_PATH_MAX]; /* https://host:port */
    char upstream_ca[HUB_CONFIG_PATH_MAX];  /* CA file of its certificate */
    char upstream_key[65];  /* its signing key, 64 hex; "" = pin */
    unsigned relay_interval; /* seconds between passes (60) */
} hub_config;

/* Defaults for everything (PROTOCOL §5); paths empty. */
void hub_config_defaults(hub_config *c);
/* Read path into c (on top of the defaults): SWLOG_EINVAL with the line
 * number for an unknown key or a bad value, SWLOG_EIO when unreadable.
 * Checks that the required keys are present. */
int hub_config_load(hub_config *c, const char *path, swlog_error *err);

#endif
