/* Error codes of the sync client, beside swlog's (format/include/swlog.h
 * reserves -100 and below for code outside format/). */
#ifndef CLIENT_CODES_H
#define CLIENT_CODES_H

enum client_code {
    CLIENT_ENET = -100,    /* no answer: connect, cut, timeout (retry) */
    CLIENT_ETLS = -101,    /* the hub's certificate does not verify */
    CLIENT_EHTTP = -102,   /* the hub answered an error status */
    CLIENT_ESTOP = -103,   /* stopped by a signal (SIGTERM, SIGINT) */
    CLIENT_EPROTO = -104,  /* the answer does not follow PROTOCOL */
    CLIENT_ERECEIPT = -105,/* the receipt does not verify */
    CLIENT_EREFUSED = -106,/* the hub refused a frame (see the state) */
    CLIENT_EFEED = -107,   /* the hub's head disagrees with the log */
};

/* "CLIENT_ENET", or swlog_code_name() for the other codes. */
const char *client_code_name(int code);
/* 1 when trying again later may succeed (network, busy, 5xx, 408). */
int client_code_transient(int code, long http_status);

#endif
