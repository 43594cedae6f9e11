/*
 * milter_load.c - milter-load: drives a milter over its socket the way
 * Postfix does, from many connections at once, and reports throughput,
 * latency, the replies seen and what the milter process cost.
 *
 * One thread per connection: each claims messages from a shared counter,
 * sends them Postfix-style (reusing the connection -m times) and keeps
 * its own tallies and histograms, merged after the join.
 *
 * With several -s, one "connection" is one socket to each milter of a
 * chain, driven as Postfix drives smtpd_milters: every envelope stage
 * goes to each milter in turn, then the content goes whole to each
 * milter in turn, later ones seeing the header edits of earlier ones
 * (hdrlist.c). A message is done when the last milter has answered. Threads rather
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

#include "hdrlist.h"
#include "mproto.h"
#include "msgfile.h"
#include "procstat.h"
#include "report.h"
#include "stats.h"

#define MAX_RCPTS 64
#define MAX_MACROS 64
#define MAX_THREADS 1024
#define SHOW_MAX 16384
#define MAX_CHAIN 8
#define MAX_PIDS 64

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
    const char *sockspecs[MAX_CHAIN];   /* the chain, in Postfix's order */
    size_t nmilters;
    unsigned concurrency;
    unsigned per_conn;
    unsigned long total;
    double seconds;
    unsigned timeout_ms;
    msgfile_t *msgs[MSGFILE_MAX];
    size_t nmsgs;
    pid_t pids[MAX_PIDS];       /* every process of the milters */
    size_t npids;
    const char *from;
    const char *rcpts[MAX_RCPTS];
    size_t nrcpts;
    macro_t macros[MAX_MACROS];
    size_t nmacros;
    int show_mods;
    const char *json;
    int quickack;
    int nodelay;
    int flush_each;             /* send every command at once (not Postfix) */
} opts_t;

/* What one message's milters share: the --show-mods record and the
 * header block with the chain's edits so far. */
typedef struct {
    char *mods_seen;            /* non-NULL while recording --show-mods */
    size_t mods_len;
    hdrlist_t *hl;              /* NULL with a single milter */
} msgstate_t;

typedef struct {
    int fd;
    int inet;
    size_t idx;                 /* place in the chain */
    mproto_dec_t *dec;
    mproto_buf_t out;
    mproto_optneg_t neg;
    msgstate_t *ms;
    int edits_seen;             /* a later milter must see our edits */
    int out_conn, out_msg;      /* accepted: no more events this
                                 * connection / this message */
} conn_t;

typedef struct {
    pthread_t tid;
    unsigned id;
    report_tally_t t;
} worker_t;

static opts_t opt;
static struct sockaddr_storage g_addr[MAX_CHAIN];
static socklen_t g_addrlen[MAX_CHAIN];
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

static int parse_sockspec(size_t k, const char *spec, char *err,
                          size_t errlen)
{
    memset(&g_addr[k], 0, sizeof g_addr[k]);
    if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
        struct sockaddr_un *un = (struct sockaddr_un *)&g_addr[k];
        const char *path = strchr(spec, ':') + 1;
        if (strlen(path) >= sizeof un->sun_path) {
            snprintf(err, errlen, "socket path too long: %s", path);
            return -1;
        }
        un->sun_family = AF_UNIX;
        strcpy(un->sun_path, path);
        g_addrlen[k] = sizeof *un;
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
    memcpy(&g_addr[k], ai->ai_addr, ai->ai_addrlen);
    g_addrlen[k] = ai->ai_addrlen;
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
    const struct sockaddr_storage *a = &g_addr[c->idx];
    c->inet = a->ss_family != AF_UNIX;
    c->fd = socket(a->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    if (connect(c->fd, (const struct sockaddr *)a, g_addrlen[c->idx]) < 0) {
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

/* Postfix writes milter commands into a VSTREAM buffer of this size and
 * does not flush it after a command whose reply it does not wait for
 * (SMFIP_NR_*, ABORT): the buffer goes out when Postfix next reads from
 * the milter, when it fills, or when smtpd hands the milters to cleanup
 * after DATA. So macros, a quiet MAIL FROM and the RCPT TO after it, or
 * a quiet header block and the end of message, reach the milter in one
 * write. We do the same. */
#define POSTFIX_BUFSIZE 4096

static int send_out(conn_t *c);

/* A command with no reply to wait for: keep it, as Postfix does. */
static int send_quiet(conn_t *c)
{
    if (opt.flush_each || c->out.len >= POSTFIX_BUFSIZE)
        return send_out(c);
    return 0;
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

/* Counts a modification; a chain's later milters see header edits.
 * -1 when the chain's header block is full. */
static int record_mod(conn_t *c, report_tally_t *t, const mproto_pkt_t *pkt)
{
    msgstate_t *ms = c->ms;
    t->mods[(unsigned char)pkt->cmd]++;
    if (c->edits_seen && hdrlist_apply(ms->hl, pkt) < 0)
        return -1;
    if (ms->mods_seen == NULL)
        return 0;
    char line[2048], tag[16] = "";     /* a whole RSA-2048 DKIM-Signature */
    mproto_reply_format(pkt, line, sizeof line);
    if (opt.nmilters > 1)
        snprintf(tag, sizeof tag, "[%zu] ", c->idx + 1);
    int n = snprintf(ms->mods_seen + ms->mods_len, SHOW_MAX - ms->mods_len,
                     "  %s%s\n", tag, line);
    if (n > 0 && ms->mods_len + (size_t)n < SHOW_MAX)
        ms->mods_len += (size_t)n;
    return 0;
}

/* Sends what is queued in c->out and, unless the milter said it will not
 * reply (nr), reads replies up to a final one, stored in *final. */
static int exchange(conn_t *c, report_tally_t *t, int nr, char *final)
{
    *final = SMFIR_CONTINUE;
    if (nr)
        return send_quiet(c);
    int r = send_out(c);
    if (r < 0)
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
        if (pkt.cmd != SMFIR_PROGRESS && record_mod(c, t, &pkt) < 0)
            return R_ERR_IO;
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

/* ---- one milter, one stage ------------------------------------------- */

/* CONNECT, or HELO when helo is set, to one milter. */
static int stage_greet(conn_t *c, report_tally_t *t, unsigned id, int helo,
                       char *final)
{
    uint32_t p = c->neg.protocol;
    *final = SMFIR_CONTINUE;
    if (!helo) {
        if (p & SMFIP_NOCONNECT)
            return 0;
        if (put_stage_macros(c, SMFIM_CONNECT, SMFIC_CONNECT, "", "") < 0 ||
            mproto_put_connect(&c->out, "client.example.net", SMFIA_INET,
                               (uint16_t)(40000 + id % 20000),
                               "192.0.2.10") < 0)
            return R_ERR_IO;
        return exchange(c, t, p & SMFIP_NR_CONN, final);
    }
    if (p & SMFIP_NOHELO)
        return 0;
    const char *name = "client.example.net";
    if (put_stage_macros(c, SMFIM_HELO, SMFIC_HELO, "", "") < 0 ||
        mproto_put_strs(&c->out, SMFIC_HELO, &name, 1) < 0)
        return R_ERR_IO;
    return exchange(c, t, p & SMFIP_NR_HELO, final);
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

/* MAIL (rcpt NULL) or one RCPT. */
static int stage_addr(conn_t *c, report_tally_t *t, const char *qid,
                      const char *rcpt, char *final)
{
    uint32_t p = c->neg.protocol;
    char addr[512];
    *final = SMFIR_CONTINUE;
    if (p & (rcpt ? SMFIP_NORCPT : SMFIP_NOMAIL))
        return 0;
    snprintf(addr, sizeof addr, "<%s>", rcpt ? rcpt : opt.from);
    const char *args[] = {addr};
    if (put_stage_macros(c, rcpt ? SMFIM_ENVRCPT : SMFIM_ENVFROM,
                         rcpt ? SMFIC_RCPT : SMFIC_MAIL, qid,
                         rcpt ? rcpt : "") < 0 ||
        mproto_put_strs(&c->out, rcpt ? SMFIC_RCPT : SMFIC_MAIL, args, 1) < 0)
        return R_ERR_IO;
    return exchange(c, t, p & (rcpt ? SMFIP_NR_RCPT : SMFIP_NR_MAIL), final);
}

static int stage_data(conn_t *c, report_tally_t *t, const char *qid,
                      char *final)
{
    uint32_t p = c->neg.protocol;
    *final = SMFIR_CONTINUE;
    if (p & SMFIP_NODATA)
        return 0;
    return bare_stage(c, t, SMFIM_DATA, SMFIC_DATA, qid, p & SMFIP_NR_DATA,
                      final);
}

/* The header fields: the message's own, or in a chain the block with
 * the earlier milters' edits. */
static int send_headers(conn_t *c, report_tally_t *t, const msgfile_t *m,
                        const char *qid, char *final)
{
    uint32_t p = c->neg.protocol;
    const hdrlist_t *hl = c->ms->hl;
    int r;
    *final = SMFIR_CONTINUE;
    for (size_t i = 0; i < (hl ? hdrlist_count(hl) : m->nhdr) &&
                       !(p & SMFIP_NOHDRS); i++) {
        const char *v = hl ? hdrlist_value(hl, i) : m->hdr[i].value;
        if (!(p & SMFIP_HDR_LEADSPC) && *v == ' ')
            v++;                /* Postfix strips it unless asked not to */
        const char *nv[] = {hl ? hdrlist_name(hl, i) : m->hdr[i].name, v};
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

/* Headers, body and end of message: what the cleanup server sends. */
static int send_content(conn_t *c, report_tally_t *t, const msgfile_t *m,
                        const char *qid, char *final)
{
    int r = send_headers(c, t, m, qid, final);
    if (r < 0 || *final != SMFIR_CONTINUE)
        return r;
    return send_body(c, t, m, qid, final);
}

/* ---- the chain -------------------------------------------------------- */

typedef struct {
    conn_t c[MAX_CHAIN];
    size_t n;
    msgstate_t ms;
} chain_t;

typedef enum { ST_CONNECT, ST_HELO, ST_MAIL, ST_DATA, ST_CONTENT } stage_t;

typedef struct {
    unsigned id;                /* worker, for the client port */
    const char *qid;
    const msgfile_t *m;
} stagearg_t;

static int one_stage(conn_t *c, report_tally_t *t, stage_t st,
                     const stagearg_t *a, char *final)
{
    switch (st) {
    case ST_CONNECT: return stage_greet(c, t, a->id, 0, final);
    case ST_HELO: return stage_greet(c, t, a->id, 1, final);
    case ST_MAIL: return stage_addr(c, t, a->qid, NULL, final);
    case ST_DATA: return stage_data(c, t, a->qid, final);
    default: return send_content(c, t, a->m, a->qid, final);
    }
}

static int gone(const conn_t *c)
{
    return c->out_conn || c->out_msg;
}

/* One stage to each milter still in, in chain order. A milter that
 * accepts leaves (Postfix sends it nothing more for the connection or
 * the message); any other reply but continue ends the message for all.
 * 0 with *final the last reply seen, 1 when a milter ended the message
 * (*final says how), or an error. */
static int chain_stage(chain_t *ch, report_tally_t *t, stage_t st,
                       const stagearg_t *a, char *final)
{
    char last = SMFIR_CONTINUE;
    for (size_t i = 0; i < ch->n; i++) {
        conn_t *c = &ch->c[i];
        if (gone(c))
            continue;
        int r = one_stage(c, t, st, a, final);
        if (r < 0)
            return r;
        if (*final == SMFIR_ACCEPT)
            *(st <= ST_HELO ? &c->out_conn : &c->out_msg) = 1;
        else if (*final != SMFIR_CONTINUE)
            return 1;
        last = *final;
    }
    *final = last;
    return 0;
}

/* Each recipient to each milter in turn. A milter that refuses one (as
 * Postfix does) keeps it from the rest; the message goes on while one
 * recipient is left. */
static int chain_rcpts(chain_t *ch, report_tally_t *t, const char *qid,
                       char *final)
{
    size_t accepted = 0;
    char refusal = SMFIR_CONTINUE;
    for (size_t k = 0; k < opt.nrcpts; k++) {
        int refused = 0;
        for (size_t i = 0; i < ch->n && !refused; i++) {
            conn_t *c = &ch->c[i];
            if (gone(c))
                continue;
            int r = stage_addr(c, t, qid, opt.rcpts[k], final);
            if (r < 0)
                return r;
            if (*final == SMFIR_ACCEPT) {
                c->out_msg = 1;
            } else if (*final == SMFIR_REJECT || *final == SMFIR_TEMPFAIL ||
                       *final == SMFIR_REPLYCODE) {
                refused = 1;
                refusal = *final;
            } else if (*final != SMFIR_CONTINUE) {
                return 1;       /* discard and the like: whole message */
            }
        }
        if (refused)
            t->rcpt_rejects++;
        else
            accepted++;
    }
    if (accepted == 0) {
        *final = refusal;       /* every recipient refused */
        return 1;
    }
    return 0;
}

/* After a stage: the message ends when a milter ended it, or accepted
 * when no milter is left to ask. */
static int settle(chain_t *ch, int r, char *final)
{
    if (r != 0)
        return r;
    for (size_t i = 0; i < ch->n; i++)
        if (!gone(&ch->c[i]))
            return 0;
    *final = SMFIR_ACCEPT;
    return 1;
}

/* What smtpd has buffered for each milter goes out before cleanup
 * takes the milters over (Postfix's milter8_send flushes). */
static int chain_flush(chain_t *ch)
{
    for (size_t i = 0; i < ch->n; i++) {
        conn_t *c = &ch->c[i];
        int r;
        if (c->fd >= 0 && c->out.len > 0 && (r = send_out(c)) < 0)
            return r;
    }
    return 0;
}

/* One message, MAIL to the last milter's final reply; *final tells how
 * it ended. */
static int send_message(chain_t *ch, report_tally_t *t, const msgfile_t *m,
                        const char *qid, char *final)
{
    stagearg_t a = {.qid = qid, .m = m};
    int r;
    for (size_t i = 0; i < ch->n; i++)
        ch->c[i].out_msg = 0;
    if (ch->ms.hl && hdrlist_reset(ch->ms.hl, m) < 0)
        return R_ERR_IO;
    if ((r = settle(ch, chain_stage(ch, t, ST_MAIL, &a, final), final)) != 0 ||
        (r = settle(ch, chain_rcpts(ch, t, qid, final), final)) != 0 ||
        (r = settle(ch, chain_stage(ch, t, ST_DATA, &a, final), final)) != 0)
        return r < 0 ? r : 0;
    if ((r = chain_flush(ch)) < 0)      /* smtpd hands over to cleanup */
        return r;
    r = chain_stage(ch, t, ST_CONTENT, &a, final);
    return r < 0 ? r : 0;
}

static int chain_init(chain_t *ch)
{
    ch->n = opt.nmilters;
    if (ch->n > 1 && (ch->ms.hl = hdrlist_new()) == NULL)
        return -1;
    for (size_t i = 0; i < ch->n; i++) {
        conn_t *c = &ch->c[i];
        *c = (conn_t){.fd = -1, .idx = i, .ms = &ch->ms,
                      .edits_seen = i + 1 < ch->n,
                      .dec = mproto_dec_new(MPROTO_MAX_PACKET)};
        mproto_buf_init(&c->out);
        if (c->dec == NULL)
            return -1;
    }
    return 0;
}

static void chain_close(chain_t *ch)
{
    for (size_t i = 0; i < ch->n; i++)
        conn_close(&ch->c[i]);
}

/* QUIT to every milter, then close. */
static void chain_quit(chain_t *ch)
{
    for (size_t i = 0; i < ch->n; i++) {
        conn_t *c = &ch->c[i];
        if (c->fd >= 0 && mproto_put(&c->out, SMFIC_QUIT, NULL, 0) == 0)
            send_out(c);
        conn_close(c);
    }
}

/* Postfix resets its milters between transactions of one SMTP session
 * with ABORT; no reply is expected. */
static int chain_abort(chain_t *ch)
{
    for (size_t i = 0; i < ch->n; i++) {
        conn_t *c = &ch->c[i];
        if (c->out_conn)
            continue;
        int r = mproto_put(&c->out, SMFIC_ABORT, NULL, 0) < 0 ? R_ERR_IO
                                                              : send_quiet(c);
        if (r < 0)
            return r;
    }
    return 0;
}

static void chain_free(chain_t *ch)
{
    chain_close(ch);
    for (size_t i = 0; i < ch->n; i++) {
        mproto_dec_free(ch->c[i].dec);
        mproto_buf_free(&ch->c[i].out);
    }
    hdrlist_free(ch->ms.hl);
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

/* Opens, negotiates and greets every milter of the chain; 0 with the
 * connections ready, 1 when the milters ended the session at
 * CONNECT/HELO (*final), or an error. */
static int conn_setup(chain_t *ch, worker_t *w, char *final)
{
    uint64_t t0 = now_us();
    stagearg_t a = {.id = w->id};
    int r = 0;
    for (size_t i = 0; i < ch->n; i++) {
        ch->c[i].out_conn = ch->c[i].out_msg = 0;
        if (conn_open(&ch->c[i]) < 0) {
            w->t.err_connect++;
            chain_close(ch);
            struct timespec pause = {0, 100 * 1000 * 1000};
            nanosleep(&pause, NULL);    /* a dead milter must not spin us */
            return R_ERR_IO;
        }
    }
    for (size_t i = 0; i < ch->n && r == 0; i++)
        r = negotiate(&ch->c[i]);
    if (r == 0)
        r = settle(ch, chain_stage(ch, &w->t, ST_CONNECT, &a, final), final);
    if (r == 0)
        r = settle(ch, chain_stage(ch, &w->t, ST_HELO, &a, final), final);
    if (r < 0) {
        count_error(&w->t, r);
        chain_close(ch);
        return r;
    }
    w->t.conns++;
    stats_add(w->t.setup, now_us() - t0);
    return r;
}

static void end_message(msgstate_t *ms, worker_t *w, char final, uint64_t t0)
{
    stats_add(w->t.lat, now_us() - t0);
    w->t.finals[(unsigned char)final]++;
    w->t.msgs_done++;
    if (ms->mods_seen != NULL) {
        int expected = 0;
        if (atomic_compare_exchange_strong(&g_show_taken, &expected, 1))
            memcpy(g_show, ms->mods_seen, ms->mods_len + 1);
        free(ms->mods_seen);
        ms->mods_seen = NULL;
    }
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    chain_t ch = {0};
    unsigned sent_on_conn = 0;
    unsigned long seq = 0;
    int ok = chain_init(&ch) == 0;
    while (ok && claim_message()) {
        char final = SMFIR_CONTINUE;
        if (ch.c[0].fd < 0) {
            int r = conn_setup(&ch, w, &final);
            if (r < 0)
                continue;
            sent_on_conn = 0;
            if (r == 1) {       /* refused at connect: every message too */
                w->t.finals[(unsigned char)final]++;
                chain_close(&ch);
                continue;
            }
        }
        char qid[32];
        snprintf(qid, sizeof qid, "%03X%07lX", w->id & 0xfffu, seq++);
        const msgfile_t *m = opt.msgs[(w->id + seq) % opt.nmsgs];
        if (opt.show_mods && !atomic_load(&g_show_taken))
            ch.ms.mods_seen = calloc(1, SHOW_MAX);
        uint64_t t0 = now_us();
        int r = send_message(&ch, &w->t, m, qid, &final);
        if (r < 0) {
            count_error(&w->t, r);
            chain_close(&ch);
            free(ch.ms.mods_seen);
            ch.ms.mods_seen = NULL;
            continue;
        }
        end_message(&ch.ms, w, final, t0);
        /* connfail and shutdown end the session, as in Postfix */
        if (++sent_on_conn >= opt.per_conn || final == SMFIR_CONN_FAIL ||
            final == SMFIR_SHUTDOWN) {
            chain_quit(&ch);
        } else if ((r = chain_abort(&ch)) < 0) {
            count_error(&w->t, r);
            chain_close(&ch);
        }
    }
    if (ch.c[0].fd >= 0)
        chain_quit(&ch);
    chain_free(&ch);
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
"  -s SPEC          unix:/path | inet:PORT@HOST | inet6:PORT@HOST;\n"
"                   repeat for a chain of milters, in smtpd_milters order\n"
"  -c N             concurrent connections (default 8)\n"
"  -m N             messages per connection (default 10)\n"
"  -n N             send N messages in total, or\n"
"  -t SECONDS       send for this long\n"
"  -f PATH          RFC 5322 message file, or a directory of them;\n"
"                   repeatable (default: a built-in 4 KB message)\n"
"  -p PID           a milter process, for CPU time and peak RSS; repeat\n"
"                   for every process of the chain (summed)\n"
"  -P PIDFILE       the same, read from a pid file; repeatable\n"
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
"  --flush-each     write every command at once, also those the milter will\n"
"                   not answer (Postfix keeps those buffered until it next\n"
"                   reads from the milter or hands over to cleanup)\n"
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
    enum { O_FROM = 256, O_RCPT, O_MACRO, O_SHOW, O_JSON, O_NOQA, O_NOND, O_FLUSH };
    static const struct option lo[] = {
        {"from", required_argument, NULL, O_FROM},
        {"rcpt", required_argument, NULL, O_RCPT},
        {"macro", required_argument, NULL, O_MACRO},
        {"show-mods", no_argument, NULL, O_SHOW},
        {"json", required_argument, NULL, O_JSON},
        {"no-quickack", no_argument, NULL, O_NOQA},
        {"no-nodelay", no_argument, NULL, O_NOND},
        {"flush-each", no_argument, NULL, O_FLUSH},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    char *macro_args[MAX_MACROS];
    size_t nmacro_args = 0;
    const char *pidfiles[MAX_PIDS];
    size_t npidfiles = 0;
    char err[512];
    int ch;

    opt = (opts_t){.concurrency = 8, .per_conn = 10, .timeout_ms = 30000,
                   .from = "sender@example.org", .quickack = 1,
                   .nodelay = 1};
    while ((ch = getopt_long(argc, argv, "s:c:m:n:t:f:p:P:T:h", lo,
                             NULL)) != -1) {
        switch (ch) {
        case 's':
            if (opt.nmilters == MAX_CHAIN)
                die("%s: at most %d milters in a chain", optarg, MAX_CHAIN);
            opt.sockspecs[opt.nmilters++] = optarg;
            break;
        case 'c': opt.concurrency = (unsigned)num_arg(optarg, MAX_THREADS);
                  break;
        case 'm': opt.per_conn = (unsigned)num_arg(optarg, 1000000); break;
        case 'n': opt.total = num_arg(optarg, 1000000000); break;
        case 't': opt.seconds = (double)num_arg(optarg, 86400); break;
        case 'f': load_path(optarg); break;
        case 'p':
        case 'P':
            if (opt.npids + npidfiles == MAX_PIDS)
                die("%s: at most %d processes", optarg, MAX_PIDS);
            if (ch == 'p')
                opt.pids[opt.npids++] = (pid_t)num_arg(optarg, 4194304);
            else
                pidfiles[npidfiles++] = optarg;
            break;
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
        case O_FLUSH: opt.flush_each = 1; break;
        case 'h': fputs(usage_text, stdout); exit(0);
        default: fputs(usage_text, stderr); exit(64);
        }
    }
    if (opt.nmilters == 0 || (opt.total == 0) == (opt.seconds == 0) ||
        optind != argc) {
        fputs(usage_text, stderr);
        exit(64);
    }
    for (size_t i = 0; i < opt.nmilters; i++)
        if (parse_sockspec(i, opt.sockspecs[i], err, sizeof err) < 0)
            die("%s", err);
    for (size_t i = 0; i < npidfiles; i++)
        if (procstat_pidfile(pidfiles[i], &opt.pids[opt.npids++], err,
                             sizeof err) < 0)
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

/* CPU and peak RSS summed over the milters' processes: what the side
 * of a comparison costs, however many processes it runs. */
static int milter_sample(procstat_t *sum)
{
    char err[256];
    *sum = (procstat_t){0};
    for (size_t i = 0; i < opt.npids; i++) {
        procstat_t ps;
        if (procstat_read(opt.pids[i], &ps, err, sizeof err) < 0) {
            fprintf(stderr, "milter-load: %s\n", err);
            return 0;
        }
        sum->cpu_seconds += ps.cpu_seconds;
        sum->hwm_kb += ps.hwm_kb > 0 ? ps.hwm_kb : 0;
        sum->rss_kb += ps.rss_kb > 0 ? ps.rss_kb : 0;
    }
    return opt.npids > 0;
}

/* "spec1,spec2": the chain as the report names it. */
static void join_specs(char *out, size_t outlen)
{
    size_t pos = 0;
    out[0] = '\0';
    for (size_t i = 0; i < opt.nmilters; i++) {
        int n = snprintf(out + pos, outlen - pos, "%s%s", i ? "," : "",
                         opt.sockspecs[i]);
        if (n < 0 || (size_t)n >= outlen - pos)
            break;
        pos += (size_t)n;
    }
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
    static char specs[MAX_CHAIN * 128];
    join_specs(specs, sizeof specs);
    report_run_t run = {.sockspec = specs, .nmilters = opt.nmilters,
        .npids = opt.npids,
        .concurrency = opt.concurrency, .per_conn = opt.per_conn,
        .quickack = opt.quickack, .nodelay = opt.nodelay,
        .show_mods = opt.show_mods, .pid = (long)opt.pids[0]};
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
