/*
 * policy_load.c - policy-load: drives a Postfix policy server (SMTPD
 * access policy delegation) the way many smtpd processes do, over kept-open
 * connections and with many distinct keys, and reports requests/s,
 * latency, the actions seen and what the server process cost.
 *
 * One thread per connection, as each smtpd holds one policy connection
 * and waits for one reply at a time. Request n's keys (sender, client,
 * recipient, SASL user) are a hash of n and the seed, so a run with -n
 * sends the same key sequence whatever the thread interleaving.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sockspec.h"

#include "ppolicy.h"
#include "procstat.h"
#include "report.h"
#include "stats.h"

#define THREADS_MAX 1024
#define SHOW_LIMIT 100
#define REQ_MAX 4096            /* a Postfix request is about 700 bytes */

enum { E_PROTO = -1, E_TIMEOUT = -2, E_IO = -3 };
enum { K_SENDER, K_CLIENT, K_RCPT, K_SASL, K_SIZE, K_NKEYS };

typedef struct {
    const char *spec;
    unsigned conns, per_conn, timeout_ms, show, threads;
    unsigned long total, seconds;
    int eom;
    unsigned keys[4];           /* senders, clients, recipients, sasl users */
    unsigned long seed;
    pid_t pid;
    const char *json;
} opts_t;

/* One policy connection of a worker, and its buffers. */
typedef struct {
    int fd;
    unsigned sent;              /* requests on this connection */
    unsigned long serial;       /* connections opened by this worker */
    char in[PPOLICY_MAX_REPLY];
    size_t inlen;
    char req[REQ_MAX];
    size_t reqlen;
} pconn_t;

/* A worker thread: its share of the connections, multiplexed with
 * poll(2) (one thread per connection would make the generator, not the
 * server, the bottleneck), and its own tallies. */
typedef struct {
    report_tally_t t;
    unsigned id;
    unsigned nconns;
    pthread_t tid;
} worker_t;

static opts_t opt;
static atomic_ulong next_req;       /* number of the next request */
static struct sockaddr_storage peer;
static socklen_t peerlen;
static uint64_t stop_at_us;
static pthread_mutex_t show_lock = PTHREAD_MUTEX_INITIALIZER;
static char *show_text;
static size_t show_len, show_cap;
static unsigned show_done;

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- keys ------------------------------------------------------------ */

/* SplitMix64's finaliser: cheap, and every bit of the input moves the
 * output, so consecutive request numbers give unrelated keys. */
static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15u;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

/* Key k of request n; the integration test recomputes K_SENDER. */
static uint64_t key_of(uint64_t n, unsigned k)
{
    return mix64(((uint64_t)opt.seed << 40) + n * K_NKEYS + k);
}

/* ---- request --------------------------------------------------------- */

/* Texts of one request; the attribute table points into it. */
typedef struct {
    char sender[64], rcpt[64], addr[32], name[64], instance[48];
    char qid[24], size[24], port[8], sasl[32];
} reqtext_t;

static void fill_text(reqtext_t *x, uint64_t n, const worker_t *w,
                      const pconn_t *c)
{
    unsigned s = (unsigned)(key_of(n, K_SENDER) % opt.keys[0]);
    unsigned cl = (unsigned)(key_of(n, K_CLIENT) % opt.keys[1]) + 1;
    unsigned r = (unsigned)(key_of(n, K_RCPT) % opt.keys[2]);
    snprintf(x->sender, sizeof x->sender, "user%u@example.org", s);
    snprintf(x->rcpt, sizeof x->rcpt, "rcpt%u@example.com", r);
    snprintf(x->addr, sizeof x->addr, "10.%u.%u.%u", (cl >> 16) & 255,
             (cl >> 8) & 255, cl & 255);
    snprintf(x->name, sizeof x->name, "client%u.example.net", cl);
    /* Postfix: process, connection and transaction counters, in hex */
    snprintf(x->instance, sizeof x->instance, "%x.%lx.%x", 0x1000 + w->id,
             c->serial, c->sent);
    snprintf(x->qid, sizeof x->qid, "%03X%07llX", w->id & 0xfffu,
             (unsigned long long)(n & 0xfffffffu));
    snprintf(x->size, sizeof x->size, "%llu",
             (unsigned long long)(1000 + key_of(n, K_SIZE) % 100000));
    snprintf(x->port, sizeof x->port, "%u", 1024 + (unsigned)(n % 60000));
    x->sasl[0] = '\0';
    if (opt.keys[3] > 0)
        snprintf(x->sasl, sizeof x->sasl, "sasl%u",
                 (unsigned)(key_of(n, K_SASL) % opt.keys[3]));
}

/* The attributes Postfix 3.7 sends (SMTPD_POLICY_README), in its order. */
static int build_request(pconn_t *c, uint64_t n, const worker_t *w)
{
    reqtext_t x;
    fill_text(&x, n, w, c);
    const char *sasl_method = x.sasl[0] ? "PLAIN" : "";
    const ppolicy_attr_t a[] = {
        {"request", "smtpd_access_policy"},
        {"protocol_state", opt.eom ? "END-OF-MESSAGE" : "RCPT"},
        {"protocol_name", "ESMTP"}, {"helo_name", x.name},
        {"queue_id", opt.eom ? x.qid : ""}, {"sender", x.sender},
        {"recipient", x.rcpt}, {"recipient_count", opt.eom ? "1" : "0"},
        {"client_address", x.addr}, {"client_name", x.name},
        {"reverse_client_name", x.name}, {"instance", x.instance},
        {"sasl_method", sasl_method}, {"sasl_username", x.sasl},
        {"sasl_sender", ""}, {"size", x.size}, {"ccert_subject", ""},
        {"ccert_issuer", ""}, {"ccert_fingerprint", ""},
        {"encryption_protocol", ""}, {"encryption_cipher", ""},
        {"encryption_keysize", "0"}, {"etrn_domain", ""}, {"stress", ""},
        {"ccert_pubkey_fingerprint", ""}, {"client_port", x.port},
        {"policy_context", ""}, {"server_address", "192.0.2.1"},
        {"server_port", "25"},
    };
    char err[128];
    return ppolicy_encode(c->req, sizeof c->req, a, sizeof a / sizeof a[0],
                          &c->reqlen, err, sizeof err);
}

/* ---- connection ------------------------------------------------------ */

static int resolve(const char *spec, char *err, size_t errlen)
{
    sockspec_t s;
    if (sockspec_parse(spec, &s, err, errlen) < 0)
        return -1;
    memset(&peer, 0, sizeof peer);
    if (s.family == SOCKSPEC_UNIX) {
        struct sockaddr_un *un = (struct sockaddr_un *)&peer;
        un->sun_family = AF_UNIX;
        memcpy(un->sun_path, s.path, sizeof un->sun_path);
        peerlen = sizeof *un;
        return 0;
    }
    const char *host = s.host[0] ? s.host
                     : s.family == SOCKSPEC_INET ? "127.0.0.1" : "::1";
    struct sockaddr_in *in4 = (struct sockaddr_in *)&peer;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&peer;
    int ok = s.family == SOCKSPEC_INET
           ? inet_pton(AF_INET, host, &in4->sin_addr)
           : inet_pton(AF_INET6, host, &in6->sin6_addr);
    if (ok != 1) {
        snprintf(err, errlen, "%s: not a numeric address", host);
        return -1;
    }
    if (s.family == SOCKSPEC_INET) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)s.port);
        peerlen = sizeof *in4;
    } else {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)s.port);
        peerlen = sizeof *in6;
    }
    return 0;
}

static void pconn_close(pconn_t *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->inlen = 0;
}

/* Waits until fd is ready for events or the deadline passes. */
static int wait_ready(int fd, short events, uint64_t deadline)
{
    for (;;) {
        uint64_t now = mono_us();
        if (now >= deadline)
            return E_TIMEOUT;
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, (int)((deadline - now + 999) / 1000));
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return E_IO;
    }
}

/* A non-blocking connect bounded by -T: a full listen queue must not
 * hang a worker. */
static int pconn_open(pconn_t *c, worker_t *w)
{
    uint64_t t0 = mono_us();
    c->fd = socket(peer.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
                   0);
    if (c->fd < 0)
        return E_IO;
    int r = connect(c->fd, (struct sockaddr *)&peer, peerlen);
    if (r < 0 && errno == EINPROGRESS) {
        int soerr = 0;
        socklen_t len = sizeof soerr;
        r = wait_ready(c->fd, POLLOUT, t0 + opt.timeout_ms * 1000ull);
        if (r == 0 && (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len)
                       < 0 || soerr != 0))
            r = E_IO;
    }
    if (r < 0) {
        pconn_close(c);
        return r;
    }
    if (peer.ss_family != AF_UNIX) {
        /* a request is one small write; Nagle would hold it back */
        int one = 1;
        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    c->sent = 0;
    c->serial++;
    w->t.conns++;
    stats_add(w->t.setup, mono_us() - t0);
    return 0;
}

/* A kept-open connection the server closed while idle is reopened, as
 * Postfix does; bytes nobody asked for are a protocol error. */
static int pconn_check_idle(pconn_t *c)
{
    char b;
    ssize_t n = recv(c->fd, &b, 1, MSG_DONTWAIT | MSG_PEEK);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        pconn_close(c);
        return 0;
    }
    return n > 0 ? E_PROTO : 0;
}

static int send_request(pconn_t *c, uint64_t deadline)
{
    size_t off = 0;
    while (off < c->reqlen) {
        ssize_t n = send(c->fd, c->req + off, c->reqlen - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int r = wait_ready(c->fd, POLLOUT, deadline);
            if (r < 0)
                return r;
        } else if (errno != EINTR) {
            return E_IO;
        }
    }
    return 0;
}

/* ---- worker ---------------------------------------------------------- */

static int claim(uint64_t *n)
{
    *n = atomic_fetch_add(&next_req, 1);
    return opt.total ? *n < opt.total : mono_us() < stop_at_us;
}

static void count_failure(report_tally_t *t, int r)
{
    uint64_t *slot = r == E_PROTO ? &t->err_proto
                   : r == E_TIMEOUT ? &t->err_timeout : &t->err_io;
    (*slot)++;
}

static void show_pair(const pconn_t *c, const ppolicy_reply_t *rep)
{
    pthread_mutex_lock(&show_lock);
    if (show_done < opt.show && show_text != NULL) {
        int n = snprintf(show_text + show_len, show_cap - show_len,
                         "--- request %u\n%s--- reply\naction=%.*s\n\n",
                         show_done + 1, c->req, (int)rep->action_len,
                         rep->action);
        if (n > 0 && (size_t)n < show_cap - show_len)
            show_len += (size_t)n;
        show_done++;
    }
    pthread_mutex_unlock(&show_lock);
}

/* Opens a connection when there is none, and builds request n for it. */
static int prepare(pconn_t *c, worker_t *w, uint64_t n)
{
    if (c->fd < 0 && pconn_open(c, w) < 0)
        return 1;
    return build_request(c, n, w) < 0 ? E_IO : 0;
}

/* One connection of a worker and the request in flight on it. */
typedef struct {
    pconn_t c;
    uint64_t n, t0, deadline;
    int live, reused, retried;
} slot_t;

/* Sends request s->n; 0, or -1 when that failed (counted). */
static int launch(slot_t *s, worker_t *w)
{
    int r = s->c.fd >= 0 ? pconn_check_idle(&s->c) : 0;
    if (r == 0)
        r = prepare(&s->c, w, s->n);
    if (r == 1) {
        w->t.err_connect++;
        struct timespec pause = {0, 100 * 1000 * 1000};
        nanosleep(&pause, NULL);        /* a dead server must not spin us */
        return -1;
    }
    if (r == 0) {
        s->reused = s->c.sent > 0;
        s->t0 = mono_us();
        s->deadline = s->t0 + opt.timeout_ms * 1000ull;
        r = send_request(&s->c, s->deadline);
    }
    if (r < 0) {
        count_failure(&w->t, r);
        pconn_close(&s->c);
        return -1;
    }
    return 0;
}

/* Claims and sends the next request: 1 when one is in flight, 0 when the
 * run is over for this connection. */
static int next(slot_t *s, worker_t *w)
{
    s->retried = 0;
    while (claim(&s->n))
        if (launch(s, w) == 0)
            return 1;
    pconn_close(&s->c);
    return 0;
}

static void fail(slot_t *s, worker_t *w, int r)
{
    count_failure(&w->t, r);
    pconn_close(&s->c);
    s->live = next(s, w);
}

static void answered(slot_t *s, worker_t *w, const ppolicy_reply_t *rep)
{
    char word[PPOLICY_WORD_MAX];

    stats_add(w->t.lat, mono_us() - s->t0);
    s->c.inlen = 0;
    s->c.sent++;
    w->t.msgs_done++;
    ppolicy_action_word(rep->action, rep->action_len, word, sizeof word);
    report_tally_word(&w->t, word);
    if (opt.show)
        show_pair(&s->c, rep);
    if (opt.per_conn && s->c.sent >= opt.per_conn)
        pconn_close(&s->c);
    s->live = next(s, w);
}

/* Reads what arrived for s and acts on a whole reply. */
static void on_input(slot_t *s, worker_t *w)
{
    ppolicy_reply_t rep;
    char err[128];
    ssize_t n = recv(s->c.fd, s->c.in + s->c.inlen, sizeof s->c.in - s->c.inlen,
                     MSG_DONTWAIT);

    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        if (s->reused && s->c.inlen == 0 && !s->retried) {
            /* The server closed the kept-open connection as we reused
             * it: like Postfix, try once more on a new one. */
            pconn_close(&s->c);
            s->retried = 1;
            if (launch(s, w) < 0)
                s->live = next(s, w);
            return;
        }
        fail(s, w, E_IO);
        return;
    }
    s->c.inlen += (size_t)n;
    int r = ppolicy_decode_reply(s->c.in, s->c.inlen, &rep, err, sizeof err);
    if (r == 0 && s->c.inlen < sizeof s->c.in)
        return;
    if (r <= 0 || rep.consumed != s->c.inlen)
        fail(s, w, E_PROTO);
    else
        answered(s, w, &rep);
}

/* Times out requests past their deadline; the next poll(2) timeout. */
static int expire(slot_t *slots, unsigned k, worker_t *w)
{
    uint64_t now = mono_us(), soonest = now + 100000;

    for (unsigned i = 0; i < k; i++) {
        if (!slots[i].live)
            continue;
        if (now >= slots[i].deadline)
            fail(&slots[i], w, E_TIMEOUT);
        else if (slots[i].deadline < soonest)
            soonest = slots[i].deadline;
    }
    return (int)((soonest - now + 999) / 1000);
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    unsigned k = w->nconns, live = k;
    slot_t *slots = calloc(k, sizeof *slots);
    struct pollfd *pf = calloc(k, sizeof *pf);
    unsigned *idx = calloc(k, sizeof *idx);

    if (slots == NULL || pf == NULL || idx == NULL) {
        w->t.err_io++;
        goto out;
    }
    for (unsigned i = 0; i < k; i++) {
        slots[i].c.fd = -1;
        slots[i].live = next(&slots[i], w);
    }
    while (live > 0) {
        int timeout = expire(slots, k, w);
        unsigned m = 0;
        for (unsigned i = 0; i < k; i++)
            if (slots[i].live && slots[i].c.fd >= 0) {
                pf[m] = (struct pollfd){.fd = slots[i].c.fd, .events = POLLIN};
                idx[m++] = i;
            }
        if (poll(pf, m, timeout) < 0 && errno != EINTR) {
            w->t.err_io++;
            break;
        }
        for (unsigned j = 0; j < m; j++)
            if (pf[j].revents)
                on_input(&slots[idx[j]], w);
        live = 0;
        for (unsigned i = 0; i < k; i++)
            live += slots[i].live != 0;
    }
out:
    for (unsigned i = 0; slots != NULL && i < k; i++)
        pconn_close(&slots[i].c);
    free(slots);
    free(pf);
    free(idx);
    return NULL;
}

/* ---- options --------------------------------------------------------- */

static const char usage_text[] =
"usage: policy-load -s SOCKETSPEC (-n TOTAL | -t SECONDS) [options]\n"
"Sends Postfix SMTPD access policy requests over kept-open connections\n"
"and reports requests/s, latency, the actions seen and the server's cost.\n"
"\n"
"  -s SPEC          unix:/path | inet:PORT@HOST | inet6:PORT@HOST\n"
"  -c N             concurrent connections (default 8)\n"
"  -n N             send N requests in total, or\n"
"  -t SECONDS       send for this long\n"
"  -r N             requests per connection, then reconnect\n"
"                   (default 0: keep each connection for the whole run)\n"
"  --stage S        rcpt (default) or eom: protocol_state RCPT or\n"
"                   END-OF-MESSAGE\n"
"  --senders N      distinct senders user0..user<N-1>@example.org (100)\n"
"  --clients N      distinct client addresses and names (100)\n"
"  --recipients N   distinct recipients rcpt0..@example.com (100)\n"
"  --sasl-users N   distinct SASL users sasl0..; 0: no SASL (default 0)\n"
"  --seed N         seed of the key sequence (default 1)\n"
"  -p PID           the server's pid, for its CPU time and peak RSS\n"
"  -P PIDFILE       the same, read from a pid file\n"
"  -T MS            timeout for connect and every reply (default 10000)\n"
"  -w N             threads, each multiplexing its share of the connections\n"
"                   with poll(2) (default: one per online CPU)\n"
"  --json FILE      also write the results as JSON (- for stdout)\n"
"  --show N         print the first N request/reply pairs (at most 100)\n"
"  -h, --help       this text\n";

static void usage_error(const char *what, const char *arg)
{
    if (what != NULL)
        fprintf(stderr, "policy-load: %s %s\n", what, arg ? arg : "");
    fputs(usage_text, stderr);
    exit(64);
}

static unsigned long number(const char *s, unsigned long lo, unsigned long hi)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < lo ||
        v > hi)
        usage_error("bad number", s);
    return v;
}

static void parse_options(int argc, char **argv)
{
    enum { O_STAGE = 256, O_SENDERS, O_CLIENTS, O_RCPTS, O_SASL, O_SEED,
           O_JSON, O_SHOW };
#define WITH_ARG(name, val) {name, required_argument, NULL, val}
    static const struct option lo[] = {
        WITH_ARG("stage", O_STAGE), WITH_ARG("senders", O_SENDERS),
        WITH_ARG("clients", O_CLIENTS), WITH_ARG("recipients", O_RCPTS),
        WITH_ARG("sasl-users", O_SASL), WITH_ARG("seed", O_SEED),
        WITH_ARG("json", O_JSON), WITH_ARG("show", O_SHOW),
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
#undef WITH_ARG
    const char *pidfile = NULL;
    char err[256];
    int ch;
    opt = (opts_t){.conns = 8, .timeout_ms = 10000, .seed = 1,
                   .keys = {100, 100, 100, 0}};
    while ((ch = getopt_long(argc, argv, "s:c:n:t:r:p:P:T:w:h", lo, NULL)) != -1) {
        switch (ch) {
        case 's': opt.spec = optarg; break;
        case 'c': opt.conns = (unsigned)number(optarg, 1, THREADS_MAX); break;
        case 'n': opt.total = number(optarg, 1, 1000000000); break;
        case 't': opt.seconds = number(optarg, 1, 86400); break;
        case 'r': opt.per_conn = (unsigned)number(optarg, 0, 100000000); break;
        case 'p': opt.pid = (pid_t)number(optarg, 1, 4194304); break;
        case 'P': pidfile = optarg; break;
        case 'T': opt.timeout_ms = (unsigned)number(optarg, 1, 3600000); break;
        case 'w': opt.threads = (unsigned)number(optarg, 1, THREADS_MAX); break;
        case O_STAGE:
            if (strcmp(optarg, "rcpt") != 0 && strcmp(optarg, "eom") != 0)
                usage_error("--stage is rcpt or eom, not", optarg);
            opt.eom = optarg[0] == 'e';
            break;
        case O_SENDERS: case O_CLIENTS: case O_RCPTS: case O_SASL:
            opt.keys[ch - O_SENDERS] = (unsigned)number(optarg,
                ch == O_SASL ? 0 : 1, 16000000);
            break;
        case O_SEED: opt.seed = number(optarg, 0, 0xffffff); break;
        case O_JSON: opt.json = optarg; break;
        case O_SHOW: opt.show = (unsigned)number(optarg, 0, SHOW_LIMIT); break;
        case 'h': fputs(usage_text, stdout); exit(0);
        default: usage_error(NULL, NULL);
        }
    }
    if (opt.spec == NULL || (opt.total == 0) == (opt.seconds == 0) ||
        optind != argc)
        usage_error(NULL, NULL);
    if (resolve(opt.spec, err, sizeof err) < 0)
        usage_error(err, NULL);
    if (pidfile && procstat_pidfile(pidfile, &opt.pid, err, sizeof err) < 0)
        usage_error(err, NULL);
}

/* ---- main ------------------------------------------------------------ */

static double own_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int sample_server(procstat_t *ps)
{
    char err[256];
    if (opt.pid <= 0)
        return 0;
    if (procstat_read(opt.pid, ps, err, sizeof err) == 0)
        return 1;
    fprintf(stderr, "policy-load: %s\n", err);
    return 0;
}

/* Starts the workers, waits for them and merges their tallies into total;
 * the number started. */
static unsigned run(worker_t *w, report_tally_t *total)
{
    unsigned n = 0, threads = opt.threads;
    if (threads == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cpus > 0 ? (unsigned)cpus : 1;
    }
    if (threads > opt.conns)
        threads = opt.conns;
    while (n < threads) {
        w[n].id = n;
        /* Connections spread evenly over the threads. */
        w[n].nconns = opt.conns / threads + (n < opt.conns % threads);
        if (report_tally_init(&w[n].t) < 0)
            break;
        if (pthread_create(&w[n].tid, NULL, worker_main, &w[n]) != 0) {
            report_tally_free(&w[n].t);
            break;
        }
        n++;
    }
    for (unsigned i = 0; i < n; i++) {
        pthread_join(w[i].tid, NULL);
        report_tally_merge(total, &w[i].t);
        report_tally_free(&w[i].t);
    }
    return n;
}

int main(int argc, char **argv)
{
    static worker_t workers[THREADS_MAX];
    static report_tally_t total;
    procstat_t before = {0}, after = {0};
    char err[256];

    signal(SIGPIPE, SIG_IGN);
    parse_options(argc, argv);
    if (report_tally_init(&total) < 0) {
        fprintf(stderr, "policy-load: out of memory\n");
        return 1;
    }
    show_cap = opt.show * (REQ_MAX + PPOLICY_MAX_REPLY + 64);
    if (opt.show && (show_text = calloc(1, show_cap)) == NULL)
        opt.show = 0;

    int have = sample_server(&before);
    double cpu0 = own_cpu();
    uint64_t t0 = mono_us();
    stop_at_us = t0 + opt.seconds * 1000000ull;
    unsigned started = run(workers, &total);
    report_run_t r = {.sockspec = opt.spec, .concurrency = opt.conns,
        .per_conn = opt.per_conn, .nodelay = peer.ss_family != AF_UNIX,
        .elapsed = (double)(mono_us() - t0) / 1e6,
        .gen_cpu = own_cpu() - cpu0, .pid = (long)opt.pid,
        .stage = opt.eom ? "eom" : "rcpt", .senders = opt.keys[0],
        .clients = opt.keys[1], .recipients = opt.keys[2],
        .sasl_users = opt.keys[3]};
    r.have_milter = have && sample_server(&after);
    r.milter_cpu = after.cpu_seconds - before.cpu_seconds;
    r.milter_hwm_kb = after.hwm_kb;

    if (show_text != NULL)
        fputs(show_text, stdout);
    report_policy_print(stdout, &total, &r);
    unsigned want = opt.threads ? opt.threads : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
    if (want > opt.conns)
        want = opt.conns;
    int rc = started == want ? 0 : 1;
    if (rc)
        fprintf(stderr, "policy-load: started %u of %u threads\n", started, want);
    if (opt.json && report_policy_json(opt.json, &total, &r, err,
                                       sizeof err) < 0) {
        fprintf(stderr, "policy-load: %s\n", err);
        rc = 1;
    }
    uint64_t errors = total.err_connect + total.err_proto +
                      total.err_timeout + total.err_io;
    report_tally_free(&total);
    free(show_text);
    return rc ? rc : errors ? 2 : 0;
}
