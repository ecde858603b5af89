/* Fault-injecting TCP proxy for the sync tests: forwards connections on
 * 127.0.0.1 to a target port and, on the connections chosen, cuts them
 * after N bytes in either direction, stalls them, or delays every chunk.
 * TLS passes through untouched (the proxy never looks inside).
 *
 * usage: swsync_test_faultproxy --target PORT --port-file FILE
 *          [--cut-up N] [--cut-down N] [--stall-down N] [--delay-ms D]
 *          [--faulty K]
 *   --cut-up N     close both sides once N bytes went client -> server
 *   --cut-down N   close both sides once N bytes went server -> client
 *   --stall-down N after N bytes server -> client, forward nothing more
 *                  (either way) but keep the connection open
 *   --delay-ms D   sleep D ms before forwarding each chunk
 *   --faulty K     faults apply to the first K connections only (default:
 *                  all); later ones are forwarded cleanly
 *   --stats FILE   append "up down" (bytes) of each connection that ends
 *   --stall-file F create F when a connection stalls
 *   --listen-port P listen on port P (default: a free port); a client
 *                  that keys its state by the hub's address keeps it
 *                  across proxies started one after another
 *   --rate-bps R   a slow link: each direction carries at most R bits/s
 *   --latency-ms L a long link: bytes arrive L ms after they were sent
 *                  (one way; a round trip costs 2 L)
 * --rate-bps and --latency-ms emulate a link: bytes read are queued with
 * the time they would arrive (serialised at R, then L later) and written
 * then; a direction stops reading while LINK_QUEUE bytes are queued, so
 * the sender sees back-pressure as on a real link. They cannot be mixed
 * with the faults above (a test wants one or the other).
 * Byte counts are per connection. The listening port is written to FILE
 * (via a rename, so a reader never sees half a number). Runs until killed. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 32
#define LINK_QUEUE (256 * 1024) /* bytes queued per direction, at most */
#define LINK_CHUNK 1460         /* bytes read at once on an emulated link */

/* One direction of an emulated link: a FIFO of chunks, each with the time
 * (ns, CLOCK_MONOTONIC) it arrives at the other side. */
typedef struct chunk {
    struct chunk *next;
    long long at;
    size_t len;
    char data[];
} chunk;

typedef struct lane {
    chunk *head, *tail;
    size_t queued;
    long long free_at; /* when the link has sent everything queued */
    int eof;           /* the sender closed: close after the queue drains */
} lane;

typedef struct conn {
    int c, s;            /* client side, server side; -1 when closed */
    int faulty, stalled;
    unsigned long long up, down;
    lane lanes[2];       /* [1] client -> server, [0] server -> client */
} conn;

static long long cut_up = -1, cut_down = -1, stall_down = -1;
static long delay_ms;
static long long rate_bps, latency_ms;
static const char *stats_file, *stall_file;

static int write_all(int fd, const char *p, size_t n);

static void drop(conn *k)
{
    if (stats_file != NULL && k->c >= 0) {
        FILE *f = fopen(stats_file, "a");
        if (f != NULL) {
            fprintf(f, "%llu %llu\n", k->up, k->down);
            fclose(f);
        }
    }
    if (k->c >= 0)
        close(k->c);
    if (k->s >= 0)
        close(k->s);
    k->c = k->s = -1;
    for (int d = 0; d < 2; d++) {
        lane *l = &k->lanes[d];
        while (l->head != NULL) {
            chunk *n = l->head->next;
            free(l->head);
            l->head = n;
        }
        *l = (lane){0};
    }
}

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int link_mode(void)
{
    return rate_bps > 0 || latency_ms > 0;
}

/* Emulated link: read what the sender has into the lane's queue, stamped
 * with its arrival time. */
static void link_read(conn *k, int up)
{
    lane *l = &k->lanes[up];
    int from = up ? k->c : k->s;
    if (l->eof || l->queued >= LINK_QUEUE)
        return;
    chunk *ch = malloc(sizeof *ch + LINK_CHUNK);
    if (ch == NULL) {
        drop(k);
        return;
    }
    ssize_t r = read(from, ch->data, LINK_CHUNK);
    if (r <= 0) {
        free(ch);
        if (r < 0 && errno == EINTR)
            return;
        l->eof = 1;
        return;
    }
    long long t = now_ns();
    long long start = l->free_at > t ? l->free_at : t;
    long long wire = rate_bps > 0 ? (long long)r * 8 * 1000000000LL / rate_bps
                                  : 0;
    l->free_at = start + wire;
    ch->at = l->free_at + latency_ms * 1000000LL;
    ch->len = (size_t)r;
    ch->next = NULL;
    if (l->tail != NULL)
        l->tail->next = ch;
    else
        l->head = ch;
    l->tail = ch;
    l->queued += ch->len;
    *(up ? &k->up : &k->down) += (unsigned long long)r;
}

/* Emulated link: write every chunk that has arrived; close the
 * connection once a closed sender's queue is drained. Returns the ns
 * until the next chunk arrives, or -1 when none waits. */
static long long link_deliver(conn *k)
{
    long long next = -1, t = now_ns();
    for (int up = 0; up < 2 && k->c >= 0; up++) {
        lane *l = &k->lanes[up];
        int to = up ? k->s : k->c;
        while (l->head != NULL && l->head->at <= t) {
            chunk *ch = l->head;
            if (write_all(to, ch->data, ch->len) != 0) {
                drop(k);
                return -1;
            }
            l->head = ch->next;
            if (l->head == NULL)
                l->tail = NULL;
            l->queued -= ch->len;
            free(ch);
        }
        if (l->head == NULL && l->eof) {
            drop(k);
            return -1;
        }
        if (l->head != NULL && (next < 0 || l->head->at - t < next))
            next = l->head->at - t;
    }
    return next;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Move bytes from one side to the other, applying the faults. */
static void pump(conn *k, int up)
{
    char buf[16384];
    int from = up ? k->c : k->s, to = up ? k->s : k->c;
    unsigned long long *count = up ? &k->up : &k->down;
    long long cut = k->faulty ? (up ? cut_up : cut_down) : -1;
    long long stall = k->faulty && !up ? stall_down : -1;
    if (k->stalled) {
        /* Nothing is forwarded any more; a side that leaves ends it. */
        if (read(from, buf, sizeof buf) <= 0)
            drop(k);
        return;
    }
    size_t want = sizeof buf;
    if (cut >= 0 && (unsigned long long)cut - *count < want)
        want = (size_t)((unsigned long long)cut - *count);
    if (stall >= 0 && (unsigned long long)stall - *count < want)
        want = (size_t)((unsigned long long)stall - *count);
    ssize_t r = want > 0 ? read(from, buf, want) : 0;
    if (r <= 0 && want > 0) {
        drop(k);
        return;
    }
    if (r > 0) {
        if (delay_ms > 0) {
            struct timespec ts = {delay_ms / 1000, delay_ms % 1000 * 1000000L};
            nanosleep(&ts, NULL);
        }
        if (write_all(to, buf, (size_t)r) != 0) {
            drop(k);
            return;
        }
        *count += (unsigned long long)r;
    }
    if (cut >= 0 && *count >= (unsigned long long)cut)
        drop(k);
    else if (stall >= 0 && *count >= (unsigned long long)stall) {
        k->stalled = 1;
        FILE *f = stall_file != NULL ? fopen(stall_file, "w") : NULL;
        if (f != NULL)
            fclose(f);
    }
}

int main(int argc, char **argv)
{
    int target = 0, faulty = -1, listen_port = 0;
    const char *port_file = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (strcmp(a, "--target") == 0)
            target = atoi(v);
        else if (strcmp(a, "--port-file") == 0)
            port_file = v;
        else if (strcmp(a, "--cut-up") == 0)
            cut_up = atoll(v);
        else if (strcmp(a, "--cut-down") == 0)
            cut_down = atoll(v);
        else if (strcmp(a, "--stall-down") == 0)
            stall_down = atoll(v);
        else if (strcmp(a, "--delay-ms") == 0)
            delay_ms = atol(v);
        else if (strcmp(a, "--stats") == 0)
            stats_file = v;
        else if (strcmp(a, "--stall-file") == 0)
            stall_file = v;
        else if (strcmp(a, "--faulty") == 0)
            faulty = atoi(v);
        else if (strcmp(a, "--listen-port") == 0)
            listen_port = atoi(v);
        else if (strcmp(a, "--rate-bps") == 0)
            rate_bps = atoll(v);
        else if (strcmp(a, "--latency-ms") == 0)
            latency_ms = atoll(v);
        else
            return fprintf(stderr, "faultproxy: unknown option %s\n", a), 2;
    }
    if (target <= 0 || port_file == NULL)
        return fprintf(stderr, "faultproxy: --target and --port-file "
                               "needed\n"), 2;
    if (rate_bps < 0 || latency_ms < 0 || latency_ms > 60000 ||
        (link_mode() && (cut_up >= 0 || cut_down >= 0 || stall_down >= 0 ||
                         delay_ms > 0)))
        return fprintf(stderr, "faultproxy: --rate-bps/--latency-ms are "
                               "not combined with faults; latency <= 60000 "
                               "ms\n"), 2;
    signal(SIGPIPE, SIG_IGN);
    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {0};
    socklen_t alen = sizeof a;
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (listen_port < 0 || listen_port > 65535)
        return fprintf(stderr, "faultproxy: --listen-port 0..65535\n"), 2;
    a.sin_port = htons((unsigned short)listen_port);
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(ls, (struct sockaddr *)&a, sizeof a) != 0 || listen(ls, 16) != 0 ||
        getsockname(ls, (struct sockaddr *)&a, &alen) != 0) {
        perror("faultproxy: listen");
        return 1;
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
    FILE *f = fopen(tmp, "w");
    if (f == NULL || fprintf(f, "%d\n", ntohs(a.sin_port)) < 0 ||
        fclose(f) != 0 || rename(tmp, port_file) != 0) {
        perror("faultproxy: port file");
        return 1;
    }
    conn conns[MAX_CONNS];
    for (int i = 0; i < MAX_CONNS; i++)
        conns[i].c = conns[i].s = -1;
    int accepted = 0;
    for (;;) {
        struct pollfd p[1 + 2 * MAX_CONNS];
        int who[1 + 2 * MAX_CONNS], n = 0, timeout = -1;
        if (link_mode())
            for (int i = 0; i < MAX_CONNS; i++) {
                if (conns[i].c < 0)
                    continue;
                long long w = link_deliver(&conns[i]);
                if (w >= 0) {
                    int ms = (int)(w / 1000000LL) + 1;
                    if (timeout < 0 || ms < timeout)
                        timeout = ms;
                }
            }
        p[n].fd = ls;
        p[n].events = POLLIN;
        who[n++] = -1;
        for (int i = 0; i < MAX_CONNS; i++) {
            if (conns[i].c < 0)
                continue;
            /* An emulated lane that is full or closed is not read. */
            lane *lu = &conns[i].lanes[1], *ld = &conns[i].lanes[0];
            int ru = !link_mode() || (!lu->eof && lu->queued < LINK_QUEUE);
            int rd = !link_mode() || (!ld->eof && ld->queued < LINK_QUEUE);
            p[n].fd = ru ? conns[i].c : -1;
            p[n].events = POLLIN;
            who[n++] = 2 * i;
            p[n].fd = rd ? conns[i].s : -1;
            p[n].events = POLLIN;
            who[n++] = 2 * i + 1;
        }
        if (poll(p, (nfds_t)n, timeout) < 0) {
            if (errno == EINTR)
                continue;
            return 1;
        }
        for (int j = 1; j < n; j++) {
            conn *k = &conns[who[j] / 2];
            if (k->c < 0 || !(p[j].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (link_mode())
                link_read(k, who[j] % 2 == 0);
            else
                pump(k, who[j] % 2 == 0);
        }
        if (p[0].revents & POLLIN) {
            int c = accept(ls, NULL, NULL);
            if (c < 0)
                continue;
            int slot = -1;
            for (int i = 0; i < MAX_CONNS && slot < 0; i++)
                if (conns[i].c < 0)
                    slot = i;
            struct sockaddr_in t = {0};
            t.sin_family = AF_INET;
            t.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            t.sin_port = htons((unsigned short)target);
            int s = slot < 0 ? -1 : socket(AF_INET, SOCK_STREAM, 0);
            if (s < 0 || connect(s, (struct sockaddr *)&t, sizeof t) != 0) {
                close(c);
                if (s >= 0)
                    close(s);
                continue;
            }
            conns[slot] = (conn){c, s, faulty < 0 || accepted < faulty, 0, 0,
                                 0, {{0}, {0}}};
            accepted++;
        }
    }
}
