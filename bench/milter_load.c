/*
 * milter_load.c - milter-load: drives a milter over its socket the way
 * Postfix does, from many connections at once, and reports throughput,
 * latency, the replies seen and what the milter process cost.
 *
 * One thread per connection: each claims messages from a shared counter,
 * sends them Postfix-style (reusing the connection -m times) and keeps
 * its own tallies and histograms, merged after the join. Threads rather
 * than an event loop because the generator waits on one milter reply at
 * a time per connection anyway; at the concurrency a milter sees from an
 * MTA (tens of connections) the threads cost little, which the report
 * shows as the generator's own CPU share.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>

#include "mproto.h"
#include "msgfile.h"
#include "procstat.h"
#include "report.h"
#include "stats.h"

#define MAX_RCPTS 64
#define MAX_MACROS 64
#define MAX_THREADS 1024
#define SHOW_MAX 16384

/* What we offer as an MTA: every v6 action and protocol flag except
 * the MDS sizes (neither Postfix nor Debian's libmilter use them). */
#define OFFER_ACTIONS SMFI_CURR_ACTS
#define OFFER_PROTO (SMFI_CURR_PROT & ~(uint32_t)(SMFIP_MDS_256K | SMFIP_MDS_1M))

typedef enum { MV_FIXED, MV_QID, MV_RCPT } macro_kind_t;

typedef struct {
    int stage;              /* SMFIM_* */
    macro_kind_t kind;      /* per message values are filled in late */
    const char *name;
    const char *value;      /* MV_FIXED only */
} macro_t;

typedef struct {
    const char *sockspec;
    unsigned concurrency;
    unsigned per_conn;
    unsigned long total;
    double seconds;
    unsigned timeout_ms;
    msgfile_t *msgs[MSGFILE_MAX];
    size_t nmsgs;
    pid_t pid;
    const char *from;
    const char *rcpts[MAX_RCPTS];
    size_t nrcpts;
    macro_t macros[MAX_MACROS];
    size_t nmacros;
    int show_mods;
    const char *json;
    int quickack;
    int nodelay;
} opts_t;

typedef struct {
    int fd;
    int inet;
    mproto_dec_t *dec;
    mproto_buf_t out;
    mproto_optneg_t neg;
    char *mods_seen;            /* non-NULL while recording --show-mods */
    size_t mods_len;
} conn_t;

typedef struct {
    pthread_t tid;
    unsigned id;
    report_tally_t t;
} worker_t;

static opts_t opt;
static struct sockaddr_storage g_addr;
static socklen_t g_addrlen;
static atomic_ulong g_claimed;
static atomic_int g_show_taken;
static char g_show[SHOW_MAX];
static struct timespec g_deadline;

enum { R_ERR_PROTO = -1, R_ERR_TIMEOUT = -2, R_ERR_IO = -3 };

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "milter-load: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(64);
}

/* ---- socket ---------------------------------------------------------- */

static int parse_sockspec(const char *spec, char *err, size_t errlen)
{
    memset(&g_addr, 0, sizeof g_addr);
    if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
        struct sockaddr_un *un = (struct sockaddr_un *)&g_addr;
        const char *path = strchr(spec, ':') + 1;
        if (strlen(path) >= sizeof un->sun_path) {
            snprintf(err, errlen, "socket path too long: %s", path);
            return -1;
        }
        un->sun_family = AF_UNIX;
        strcpy(un->sun_path, path);
        g_addrlen = sizeof *un;
        return 0;
    }
    int fam = strncmp(spec, "inet:", 5) == 0 ? AF_INET
            : strncmp(spec, "inet6:", 6) == 0 ? AF_INET6 : -1;
    const char *at = strchr(spec, '@');
    if (fam < 0 || at == NULL) {
        snprintf(err, errlen, "bad socket spec %s (unix:/path, "
                 "inet:PORT@HOST, inet6:PORT@HOST)", spec);
        return -1;
    }
    char port[16];
    const char *p = strchr(spec, ':') + 1;
    if ((size_t)(at - p) >= sizeof port || at == p) {
        snprintf(err, errlen, "bad port in %s", spec);
        return -1;
    }
    memcpy(port, p, (size_t)(at - p));
    port[at - p] = '\0';
    struct addrinfo hints = {.ai_family = fam, .ai_socktype = SOCK_STREAM};
    struct addrinfo *ai;
    int rc = getaddrinfo(at + 1, port, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", spec, gai_strerror(rc));
        return -1;
    }
    memcpy(&g_addr, ai->ai_addr, ai->ai_addrlen);
    g_addrlen = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

static void quickack(conn_t *c)
{
    int one = 1;
    if (c->inet && opt.quickack)
        setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
}

static int conn_open(conn_t *c)
{
    c->inet = g_addr.ss_family != AF_UNIX;
    c->fd = socket(g_addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    if (connect(c->fd, (struct sockaddr *)&g_addr, g_addrlen) < 0) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    if (c->inet && opt.nodelay) {
        /* Our small writes (ABORT then the next command) must not wait
         * for the milter's delayed ACK (Nagle). */
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    /* Our ACKs must not be delayed: libmilter does not set TCP_NODELAY,
     * so its second reply packet (a modification then accept) would wait
     * ~40 ms for our ACK. */
    quickack(c);
    mproto_dec_reset(c->dec);
    return 0;
}

static void conn_close(conn_t *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    mproto_optneg_clear(&c->neg);
}

static int send_out(conn_t *c)
{
    size_t off = 0;
    uint64_t deadline = now_us() + (uint64_t)opt.timeout_ms * 1000u;
    while (off < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + off, c->out.len - off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return R_ERR_IO;
        uint64_t now = now_us();
        if (now >= deadline)
            return R_ERR_TIMEOUT;
        struct pollfd pfd = {.fd = c->fd, .events = POLLOUT};
        poll(&pfd, 1, (int)((deadline - now) / 1000u) + 1);
    }
    mproto_buf_reset(&c->out);
    return 0;
}

/* Next reply packet, waiting at most the command timeout. */
static int recv_pkt(conn_t *c, mproto_pkt_t *pkt)
{
    char err[256];
    unsigned char buf[65536];
    uint64_t deadline = now_us() + (uint64_t)opt.timeout_ms * 1000u;
    for (;;) {
        int r = mproto_dec_next(c->dec, pkt, err, sizeof err);
        if (r != 0)
            return r > 0 ? 0 : R_ERR_PROTO;
        uint64_t now = now_us();
        if (now >= deadline)
            return R_ERR_TIMEOUT;
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        int pr = poll(&pfd, 1, (int)((deadline - now) / 1000u) + 1);
        if (pr <= 0)
            continue;
        ssize_t n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0)
            return R_ERR_IO;
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            return R_ERR_IO;
        }
        quickack(c);        /* Linux clears it again after a while */
        if (mproto_dec_feed(c->dec, buf, (size_t)n, err, sizeof err) < 0)
            return R_ERR_IO;
    }
}

/* ---- one stage ------------------------------------------------------- */

static int macro_wanted(const conn_t *c, int stage, const char *name)
{
    const char *list = c->neg.macros[stage];
    if (list == NULL)
        return 1;
    size_t nl = strlen(name);
    const char *bare = name;
    if (name[0] == '{' && nl > 2) {     /* "{x}" may be listed as "x" */
        bare = name + 1;
        nl -= 2;
    }
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t wl = strcspn(p, " ,");
        const char *w = p;
        if (wl > 2 && w[0] == '{') {
            w++;
            wl -= 2;
        }
        if (wl == nl && wl > 0 && strncmp(w, bare, nl) == 0)
            return 1;
        p += strcspn(p, " ,");
    }
    return 0;
}

static int put_stage_macros(conn_t *c, int stage, char cmd, const char *qid,
                            const char *rcpt)
{
    const char *nv[2 * MAX_MACROS];
    size_t n = 0;
    for (size_t i = 0; i < opt.nmacros; i++) {
        const macro_t *m = &opt.macros[i];
        if (m->stage != stage || !macro_wanted(c, stage, m->name))
            continue;
        nv[2 * n] = m->name;
        nv[2 * n + 1] = m->kind == MV_QID ? qid
                      : m->kind == MV_RCPT ? rcpt : m->value;
        n++;
    }
    return n == 0 ? 0 : mproto_put_macros(&c->out, cmd, nv, n);
}

static void record_mod(conn_t *c, report_tally_t *t, const mproto_pkt_t *pkt)
{
    t->mods[(unsigned char)pkt->cmd]++;
    if (c->mods_seen == NULL)
        return;
    char line[2048];       /* a whole RSA-2048 DKIM-Signature */
    mproto_reply_format(pkt, line, sizeof line);
    int n = snprintf(c->mods_seen + c->mods_len, SHOW_MAX - c->mods_len,
                     "  %s\n", line);
    if (n > 0 && c->mods_len + (size_t)n < SHOW_MAX)
        c->mods_len += (size_t)n;
}

/* Sends what is queued in c->out and, unless the milter said it will not
 * reply (nr), reads replies up to a final one, stored in *final. */
static int exchange(conn_t *c, report_tally_t *t, int nr, char *final)
{
    int r = send_out(c);
    *final = SMFIR_CONTINUE;
    if (r < 0 || nr)
        return r;
    for (;;) {
        mproto_pkt_t pkt;
        char err[256];
        if ((r = recv_pkt(c, &pkt)) < 0)
            return r;
        if (mproto_reply_check(&pkt, err, sizeof err) < 0)
            return R_ERR_PROTO;
        if (mproto_reply_is_final(pkt.cmd)) {
            *final = pkt.cmd;
            if (pkt.cmd == SMFIR_REPLYCODE)
                t->codes[(pkt.data[0] - '0') * 100 + (pkt.data[1] - '0') * 10
                         + (pkt.data[2] - '0')]++;
            return 0;
        }
        if (pkt.cmd != SMFIR_PROGRESS)
            record_mod(c, t, &pkt);
    }
}

/* ---- connection and message ----------------------------------------- */

static int negotiate(conn_t *c)
{
    char err[256];
    mproto_pkt_t pkt;
    if (mproto_put_optneg(&c->out, SMFI_PROT_VERSION, OFFER_ACTIONS,
                          OFFER_PROTO) < 0)
        return R_ERR_IO;
    int r = send_out(c);
    if (r < 0 || (r = recv_pkt(c, &pkt)) < 0)
        return r;
    if (mproto_parse_optneg(&pkt, &c->neg, err, sizeof err) < 0 ||
        c->neg.version < 2 || (c->neg.protocol & ~OFFER_PROTO) != 0 ||
        (c->neg.actions & ~OFFER_ACTIONS) != 0)
        return R_ERR_PROTO;
    return 0;
}

/* CONNECT and HELO; *final is the milter's verdict for the connection. */
static int conn_start(conn_t *c, report_tally_t *t, unsigned id, char *final)
{
    uint32_t p = c->neg.protocol;
    int r;
    *final = SMFIR_CONTINUE;
    if (!(p & SMFIP_NOCONNECT)) {
        if (put_stage_macros(c, SMFIM_CONNECT, SMFIC_CONNECT, "", "") < 0 ||
            mproto_put_connect(&c->out, "client.example.net", SMFIA_INET,
                               (uint16_t)(40000 + id % 20000),
                               "192.0.2.10") < 0)
            return R_ERR_IO;
        if ((r = exchange(c, t, p & SMFIP_NR_CONN, final)) < 0)
            return r;
        if (*final != SMFIR_CONTINUE)
            return 0;
    }
    if (!(p & SMFIP_NOHELO)) {
        const char *helo = "client.example.net";
        if (put_stage_macros(c, SMFIM_HELO, SMFIC_HELO, "", "") < 0 ||
            mproto_put_strs(&c->out, SMFIC_HELO, &helo, 1) < 0)
            return R_ERR_IO;
        return exchange(c, t, p & SMFIP_NR_HELO, final);
    }
    return 0;
}

/* A command without data (DATA, EOH, end of body) with its macros. */
static int bare_stage(conn_t *c, report_tally_t *t, int stage, char cmd,
                      const char *qid, uint32_t nr, char *final)
{
    if (put_stage_macros(c, stage, cmd, qid, "") < 0 ||
        mproto_put(&c->out, cmd, NULL, 0) < 0)
        return R_ERR_IO;
    return exchange(c, t, nr != 0, final);
}

static int send_envelope(conn_t *c, report_tally_t *t, const char *qid, char *final)
{
    uint32_t p = c->neg.protocol;
    char addr[512];
    int r;
    if (!(p & SMFIP_NOMAIL)) {
        snprintf(addr, sizeof addr, "<%s>", opt.from);
        const char *args[] = {addr};
        if (put_stage_macros(c, SMFIM_ENVFROM, SMFIC_MAIL, qid, "") < 0 ||
            mproto_put_strs(&c->out, SMFIC_MAIL, args, 1) < 0)
            return R_ERR_IO;
        if ((r = exchange(c, t, p & SMFIP_NR_MAIL, final)) < 0 ||
            *final != SMFIR_CONTINUE)
            return r;
    }
    size_t accepted = 0;
    for (size_t i = 0; i < opt.nrcpts && !(p & SMFIP_NORCPT); i++) {
        snprintf(addr, sizeof addr, "<%s>", opt.rcpts[i]);
        const char *args[] = {addr};
        if (put_stage_macros(c, SMFIM_ENVRCPT, SMFIC_RCPT, qid,
                             opt.rcpts[i]) < 0 ||
            mproto_put_strs(&c->out, SMFIC_RCPT, args, 1) < 0)
            return R_ERR_IO;
        if ((r = exchange(c, t, p & SMFIP_NR_RCPT, final)) < 0)
            return r;
        if (*final == SMFIR_CONTINUE) {
            accepted++;
            continue;
        }
        if (*final != SMFIR_REJECT && *final != SMFIR_TEMPFAIL &&
            *final != SMFIR_REPLYCODE)
            return 0;           /* accept or discard: whole message */
        t->rcpt_rejects++;      /* per-recipient: the message goes on */
    }
    if (accepted == 0 && opt.nrcpts > 0 && !(p & SMFIP_NORCPT))
        return 0;               /* every recipient refused: *final holds why */
    *final = SMFIR_CONTINUE;
    if (!(p & SMFIP_NODATA))
        return bare_stage(c, t, SMFIM_DATA, SMFIC_DATA, qid,
                          p & SMFIP_NR_DATA, final);
    return 0;
}

static int send_headers(conn_t *c, report_tally_t *t, const msgfile_t *m,
                        const char *qid, char *final)
{
    uint32_t p = c->neg.protocol;
    int r;
    for (size_t i = 0; i < m->nhdr && !(p & SMFIP_NOHDRS); i++) {
        const char *v = m->hdr[i].value;
        if (!(p & SMFIP_HDR_LEADSPC) && *v == ' ')
            v++;                /* Postfix strips it unless asked not to */
        const char *nv[] = {m->hdr[i].name, v};
        if (mproto_put_strs(&c->out, SMFIC_HEADER, nv, 2) < 0)
            return R_ERR_IO;
        if ((r = exchange(c, t, p & SMFIP_NR_HDR, final)) < 0 ||
            *final != SMFIR_CONTINUE)
            return r;
    }
    if (!(p & SMFIP_NOEOH))
        return bare_stage(c, t, SMFIM_EOH, SMFIC_EOH, qid, p & SMFIP_NR_EOH,
                          final);
    return 0;
}

static int send_body(conn_t *c, report_tally_t *t, const msgfile_t *m,
                     const char *qid, char *final)
{
    uint32_t p = c->neg.protocol;
    int r;
    for (size_t off = 0; off < m->bodylen && !(p & SMFIP_NOBODY);) {
        size_t n = m->bodylen - off;
        if (n > MILTER_CHUNK_SIZE)
            n = MILTER_CHUNK_SIZE;
        if (mproto_put(&c->out, SMFIC_BODY, m->body + off, n) < 0)
            return R_ERR_IO;
        off += n;
        if ((r = exchange(c, t, p & SMFIP_NR_BODY, final)) < 0)
            return r;
        if (*final == SMFIR_SKIP)
            break;              /* the milter has seen enough body */
        if (*final != SMFIR_CONTINUE)
            return 0;
    }
    return bare_stage(c, t, SMFIM_EOM, SMFIC_BODYEOB, qid, 0, final);
}

/* One message, MAIL to the final reply; *final tells how it ended. */
static int send_message(conn_t *c, report_tally_t *t, const msgfile_t *m,
                        const char *qid, char *final)
{
    int r = send_envelope(c, t, qid, final);
    if (r < 0 || *final != SMFIR_CONTINUE)
        return r;
    r = send_headers(c, t, m, qid, final);
    if (r < 0 || *final != SMFIR_CONTINUE)
        return r;
    return send_body(c, t, m, qid, final);
}

/* ---- worker ---------------------------------------------------------- */

static int claim_message(void)
{
    if (opt.total > 0)
        return atomic_fetch_add(&g_claimed, 1) < opt.total;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec < g_deadline.tv_sec ||
           (ts.tv_sec == g_deadline.tv_sec && ts.tv_nsec < g_deadline.tv_nsec);
}

static void count_error(report_tally_t *t, int r)
{
    if (r == R_ERR_PROTO)
        t->err_proto++;
    else if (r == R_ERR_TIMEOUT)
        t->err_timeout++;
    else
        t->err_io++;
}

/* Opens, negotiates and greets; 0 with the connection ready, 1 when the
 * milter ended it at CONNECT/HELO (*final), or an error. */
static int conn_setup(conn_t *c, worker_t *w, char *final)
{
    uint64_t t0 = now_us();
    if (conn_open(c) < 0) {
        w->t.err_connect++;
        struct timespec pause = {0, 100 * 1000 * 1000};
        nanosleep(&pause, NULL);    /* a dead milter must not spin us */
        return R_ERR_IO;
    }
    int r = negotiate(c);
    if (r == 0)
        r = conn_start(c, &w->t, w->id, final);
    if (r < 0) {
        count_error(&w->t, r);
        conn_close(c);
        return r;
    }
    w->t.conns++;
    stats_add(w->t.setup, now_us() - t0);
    return *final == SMFIR_CONTINUE ? 0 : 1;
}

static void end_message(conn_t *c, worker_t *w, char final, uint64_t t0)
{
    stats_add(w->t.lat, now_us() - t0);
    w->t.finals[(unsigned char)final]++;
    w->t.msgs_done++;
    if (c->mods_seen != NULL) {
        int expected = 0;
        if (atomic_compare_exchange_strong(&g_show_taken, &expected, 1))
            memcpy(g_show, c->mods_seen, c->mods_len + 1);
        free(c->mods_seen);
        c->mods_seen = NULL;
    }
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    conn_t c = {.fd = -1, .dec = mproto_dec_new(MPROTO_MAX_PACKET)};
    unsigned sent_on_conn = 0;
    unsigned long seq = 0;
    mproto_buf_init(&c.out);
    while (c.dec != NULL && claim_message()) {
        char final = SMFIR_CONTINUE;
        if (c.fd < 0) {
            int r = conn_setup(&c, w, &final);
            if (r < 0)
                continue;
            sent_on_conn = 0;
            if (r == 1) {       /* refused at connect: every message too */
                w->t.finals[(unsigned char)final]++;
                conn_close(&c);
                continue;
            }
        }
        char qid[32];
        snprintf(qid, sizeof qid, "%03X%07lX", w->id & 0xfffu, seq++);
        const msgfile_t *m = opt.msgs[(w->id + seq) % opt.nmsgs];
        if (opt.show_mods && !atomic_load(&g_show_taken))
            c.mods_seen = calloc(1, SHOW_MAX);
        uint64_t t0 = now_us();
        int r = send_message(&c, &w->t, m, qid, &final);
        if (r < 0) {
            count_error(&w->t, r);
            conn_close(&c);
            free(c.mods_seen);
            c.mods_seen = NULL;
            continue;
        }
        end_message(&c, w, final, t0);
        /* connfail and shutdown end the session, as in Postfix */
        if (++sent_on_conn >= opt.per_conn || final == SMFIR_CONN_FAIL ||
            final == SMFIR_SHUTDOWN) {
            mproto_put(&c.out, SMFIC_QUIT, NULL, 0);
            send_out(&c);
            conn_close(&c);
        } else {
            /* Postfix resets the milter between transactions of one
             * SMTP session with ABORT; no reply is expected. */
            mproto_put(&c.out, SMFIC_ABORT, NULL, 0);
            if ((r = send_out(&c)) < 0) {
                count_error(&w->t, r);
                conn_close(&c);
            }
        }
    }
    if (c.fd >= 0) {
        mproto_put(&c.out, SMFIC_QUIT, NULL, 0);
        send_out(&c);
        conn_close(&c);
    }
    mproto_dec_free(c.dec);
    mproto_buf_free(&c.out);
    return NULL;
}

/* ---- input messages -------------------------------------------------- */

static void load_path(const char *path)
{
    char err[512];
    if (msgfile_load_path(path, opt.msgs, MSGFILE_MAX, &opt.nmsgs, err,
                          sizeof err) < 0)
        die("%s", err);
}

static void free_messages(void)
{
    for (size_t i = 0; i < opt.nmsgs; i++)
        msgfile_free(opt.msgs[i]);
}

/* ---- options --------------------------------------------------------- */

static const char usage_text[] =
"usage: milter-load -s SOCKETSPEC (-n TOTAL_MSGS | -t SECONDS) [options]\n"
"Speaks the milter protocol (v6) to a milter the way Postfix does and\n"
"reports msgs/s, latency, replies, modifications and the milter's cost.\n"
"\n"
"  -s SPEC          unix:/path | inet:PORT@HOST | inet6:PORT@HOST\n"
"  -c N             concurrent connections (default 8)\n"
"  -m N             messages per connection (default 10)\n"
"  -n N             send N messages in total, or\n"
"  -t SECONDS       send for this long\n"
"  -f PATH          RFC 5322 message file, or a directory of them;\n"
"                   repeatable (default: a built-in 4 KB message)\n"
"  -p PID           the milter's pid, for its CPU time and peak RSS\n"
"  -P PIDFILE       the same, read from a pid file\n"
"  -T MS            timeout for every reply (default 30000)\n"
"  --from ADDR      envelope sender (default sender@example.org)\n"
"  --rcpt ADDR      envelope recipient, repeatable (default rcpt@example.com)\n"
"  --macro STAGE:NAME=VALUE\n"
"                   add or replace a macro; STAGE is connect, helo, mail,\n"
"                   rcpt, data, eoh or eom (e.g. mail:{auth_authen}=alice)\n"
"  --show-mods      print the modifications made to the first message\n"
"  --json FILE      also write the results as JSON (- for stdout)\n"
"  --no-quickack    do not set TCP_QUICKACK (inet): our ACKs are delayed,\n"
"                   which stalls a milter without TCP_NODELAY\n"
"  --no-nodelay     do not set TCP_NODELAY (inet): Nagle delays our writes\n"
"                   show the stall a libmilter peer causes\n"
"  -h, --help       this text\n";

static int stage_index(const char *s, size_t n)
{
    static const char *names[] = {"connect", "helo", "mail", "rcpt",
                                  "data", "eom", "eoh"};
    for (int i = 0; i < MPROTO_NSTAGES; i++)
        if (strlen(names[i]) == n && strncmp(s, names[i], n) == 0)
            return i;
    return -1;
}

static void set_macro(int stage, macro_kind_t kind, const char *name,
                      const char *value)
{
    size_t i;
    for (i = 0; i < opt.nmacros; i++)
        if (opt.macros[i].stage == stage &&
            strcmp(opt.macros[i].name, name) == 0)
            break;
    if (i == MAX_MACROS)
        die("%s: too many macros", name);
    if (i == opt.nmacros)
        opt.nmacros++;
    opt.macros[i] = (macro_t){stage, kind, name, value};
}

/* "mail:{auth_authen}=alice": points into arg, which stays alive. */
static void parse_macro_arg(char *arg)
{
    char *colon = strchr(arg, ':');
    char *eq = colon ? strchr(colon, '=') : NULL;
    int stage = colon ? stage_index(arg, (size_t)(colon - arg)) : -1;
    if (stage < 0 || eq == NULL || eq == colon + 1)
        die("bad --macro %s (want STAGE:NAME=VALUE)", arg);
    *eq = '\0';
    set_macro(stage, MV_FIXED, colon + 1, eq + 1);
}

/* What Postfix 3.7 sends by default (docs mta-facts), with test values. */
static void default_macros(void)
{
    set_macro(SMFIM_CONNECT, MV_FIXED, "j", "mx.example.org");
    set_macro(SMFIM_CONNECT, MV_FIXED, "{daemon_name}", "mx.example.org");
    set_macro(SMFIM_CONNECT, MV_FIXED, "{daemon_addr}", "192.0.2.1");
    set_macro(SMFIM_CONNECT, MV_FIXED, "v", "Postfix 3.7.11");
    set_macro(SMFIM_CONNECT, MV_FIXED, "_",
              "client.example.net [192.0.2.10]");
    set_macro(SMFIM_CONNECT, MV_FIXED, "{client_addr}", "192.0.2.10");
    set_macro(SMFIM_CONNECT, MV_FIXED, "{client_name}", "client.example.net");
    set_macro(SMFIM_CONNECT, MV_FIXED, "{client_ptr}", "client.example.net");
    set_macro(SMFIM_ENVFROM, MV_QID, "i", NULL);
    set_macro(SMFIM_ENVFROM, MV_FIXED, "{mail_addr}", opt.from);
    set_macro(SMFIM_ENVRCPT, MV_QID, "i", NULL);
    set_macro(SMFIM_ENVRCPT, MV_RCPT, "{rcpt_addr}", NULL);
    set_macro(SMFIM_DATA, MV_QID, "i", NULL);
    set_macro(SMFIM_EOH, MV_QID, "i", NULL);
    set_macro(SMFIM_EOM, MV_QID, "i", NULL);
}

static unsigned long num_arg(const char *s, unsigned long max)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || end == s || v == 0 || v > max)
        die("bad number %s", s);
    return v;
}

static void parse_args(int argc, char **argv)
{
    enum { O_FROM = 256, O_RCPT, O_MACRO, O_SHOW, O_JSON, O_NOQA, O_NOND };
    static const struct option lo[] = {
        {"from", required_argument, NULL, O_FROM},
        {"rcpt", required_argument, NULL, O_RCPT},
        {"macro", required_argument, NULL, O_MACRO},
        {"show-mods", no_argument, NULL, O_SHOW},
        {"json", required_argument, NULL, O_JSON},
        {"no-quickack", no_argument, NULL, O_NOQA},
        {"no-nodelay", no_argument, NULL, O_NOND},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    char *macro_args[MAX_MACROS];
    size_t nmacro_args = 0;
    const char *pidfile = NULL;
    char err[512];
    int ch;

    opt = (opts_t){.concurrency = 8, .per_conn = 10, .timeout_ms = 30000,
                   .from = "sender@example.org", .quickack = 1,
                   .nodelay = 1};
    while ((ch = getopt_long(argc, argv, "s:c:m:n:t:f:p:P:T:h", lo,
                             NULL)) != -1) {
        switch (ch) {
        case 's': opt.sockspec = optarg; break;
        case 'c': opt.concurrency = (unsigned)num_arg(optarg, MAX_THREADS);
                  break;
        case 'm': opt.per_conn = (unsigned)num_arg(optarg, 1000000); break;
        case 'n': opt.total = num_arg(optarg, 1000000000); break;
        case 't': opt.seconds = (double)num_arg(optarg, 86400); break;
        case 'f': load_path(optarg); break;
        case 'p': opt.pid = (pid_t)num_arg(optarg, 4194304); break;
        case 'P': pidfile = optarg; break;
        case 'T': opt.timeout_ms = (unsigned)num_arg(optarg, 3600000); break;
        case O_FROM: opt.from = optarg; break;
        case O_RCPT:
            if (opt.nrcpts == MAX_RCPTS)
                die("%s: too many recipients", optarg);
            opt.rcpts[opt.nrcpts++] = optarg;
            break;
        case O_MACRO:
            if (nmacro_args == MAX_MACROS)
                die("%s: too many macros", optarg);
            macro_args[nmacro_args++] = optarg;
            break;
        case O_SHOW: opt.show_mods = 1; break;
        case O_JSON: opt.json = optarg; break;
        case O_NOQA: opt.quickack = 0; break;
        case O_NOND: opt.nodelay = 0; break;
        case 'h': fputs(usage_text, stdout); exit(0);
        default: fputs(usage_text, stderr); exit(64);
        }
    }
    if (opt.sockspec == NULL || (opt.total == 0) == (opt.seconds == 0) ||
        optind != argc) {
        fputs(usage_text, stderr);
        exit(64);
    }
    if (parse_sockspec(opt.sockspec, err, sizeof err) < 0)
        die("%s", err);
    if (pidfile && procstat_pidfile(pidfile, &opt.pid, err, sizeof err) < 0)
        die("%s", err);
    if (opt.nrcpts == 0)
        opt.rcpts[opt.nrcpts++] = "rcpt@example.com";
    if (opt.nmsgs == 0 && (opt.msgs[opt.nmsgs++] = msgfile_builtin()) == NULL)
        die("%s", "out of memory");
    default_macros();
    for (size_t i = 0; i < nmacro_args; i++)
        parse_macro_arg(macro_args[i]);
}

/* ---- main ------------------------------------------------------------ */

static double cpu_self(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int milter_sample(procstat_t *ps)
{
    char err[256];
    if (opt.pid <= 0)
        return 0;
    if (procstat_read(opt.pid, ps, err, sizeof err) < 0) {
        fprintf(stderr, "milter-load: %s\n", err);
        return 0;
    }
    return 1;
}

static int run_workers(worker_t *w, report_tally_t *total)
{
    unsigned started = 0;
    for (; started < opt.concurrency; started++) {
        w[started].id = started;
        if (report_tally_init(&w[started].t) < 0 ||
            pthread_create(&w[started].tid, NULL, worker_main, &w[started])) {
            report_tally_free(&w[started].t);
            fprintf(stderr, "milter-load: cannot start thread %u\n", started);
            break;
        }
    }
    for (unsigned i = 0; i < started; i++) {
        pthread_join(w[i].tid, NULL);
        report_tally_merge(total, &w[i].t);
        report_tally_free(&w[i].t);
    }
    return started == opt.concurrency ? 0 : -1;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    parse_args(argc, argv);

    static worker_t workers[MAX_THREADS];
    static report_tally_t total;
    report_run_t run = {.sockspec = opt.sockspec,
        .concurrency = opt.concurrency, .per_conn = opt.per_conn,
        .quickack = opt.quickack, .nodelay = opt.nodelay,
        .show_mods = opt.show_mods, .pid = (long)opt.pid};
    procstat_t before = {0}, after = {0};
    if (report_tally_init(&total) < 0)
        die("%s", "out of memory");
    for (size_t i = 0; i < opt.nmsgs; i++)
        run.avg_bytes += msgfile_size(opt.msgs[i]);
    run.avg_bytes /= opt.nmsgs;

    int have_before = milter_sample(&before);
    double cpu0 = cpu_self();
    uint64_t t0 = now_us();
    clock_gettime(CLOCK_MONOTONIC, &g_deadline);
    g_deadline.tv_sec += (time_t)opt.seconds;
    int rc = run_workers(workers, &total);
    run.elapsed = (double)(now_us() - t0) / 1e6;
    run.gen_cpu = cpu_self() - cpu0;
    run.have_milter = have_before && milter_sample(&after);
    run.milter_cpu = after.cpu_seconds - before.cpu_seconds;
    run.milter_hwm_kb = after.hwm_kb;
    run.first_mods = atomic_load(&g_show_taken) ? g_show : NULL;

    report_print(stdout, &total, &run);
    char err[256];
    if (opt.json && report_json(opt.json, &total, &run, err, sizeof err) < 0) {
        fprintf(stderr, "milter-load: %s\n", err);
        rc = -1;
    }
    uint64_t errors = total.err_connect + total.err_proto +
                      total.err_timeout + total.err_io;
    report_tally_free(&total);
    free_messages();
    return rc < 0 ? 1 : (errors > 0 ? 2 : 0);
}
