/*
 * policy_load.c - policy-load: drives a Postfix policy server (SMTPD
 * access policy delegation) the way many smtpd processes do, over kept-open
 * connections and with many distinct keys, and reports requests/s,
 * latency, the actions seen and what the server process cost.
 *
 * Each smtpd holds one policy connection and waits for one reply at a
 * time, so every connection has at most one request in flight. A few
 * threads (one per core) each multiplex their share of the connections
 * with epoll; a request costs the generator one send(2), one recv(2) and
 * a share of an epoll_wait(2), and is built by preq without formatting
 * calls, so the generator stays cheaper than the fastest server it
 * measures. Request n's keys are a hash of n and the seed (preq.h), so a
 * run with -n sends the same key sequence whatever the interleaving.
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
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sockspec.h"

#include "ppolicy.h"
#include "preq.h"
#include "procstat.h"
#include "report.h"
#include "stats.h"

#define THREADS_MAX 1024
#define SHOW_LIMIT 100
#define EVENTS_MAX 64
#define EXPIRE_EVERY_US 10000   /* deadlines are checked this often */

enum { E_PROTO = -1, E_TIMEOUT = -2, E_IO = -3, E_CLOSED = -4 };

typedef struct {
    const char *spec;
    unsigned conns, per_conn, timeout_ms, show, threads;
    unsigned long total, seconds;
    preq_space_t space;
    pid_t pid;
    const char *json;
} opts_t;

/* One connection of a worker and the request in flight on it. */
typedef struct {
    int fd;
    unsigned sent;              /* requests answered on this connection */
    int live;                   /* a request is in flight */
    int reused, retried;
    uint64_t n, t0, deadline;
    char in[PPOLICY_MAX_REPLY];
    size_t inlen;
    char req[PREQ_MAX];
    size_t reqlen;
} slot_t;

/* A worker thread: its share of the connections, its epoll set and its
 * own tallies (merged after the join, so nothing is shared per request
 * but the request counter). */
typedef struct {
    report_tally_t t;
    unsigned id;
    unsigned nconns, live;
    unsigned long serial;       /* connections opened */
    int ep;
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

/* The vDSO answers this without a system call; microseconds are as
 * precise as a p99 of a few tens of microseconds needs. */
static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
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

/* close(2) also takes the descriptor out of the epoll set. */
static void slot_close(slot_t *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    s->inlen = 0;
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

/* A non-blocking connect bounded by -T (a full listen queue must not
 * hang a worker), then the socket joins the worker's epoll set. */
static int slot_open(slot_t *s, worker_t *w)
{
    uint64_t t0 = mono_us();
    s->fd = socket(peer.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
                   0);
    if (s->fd < 0)
        return E_IO;
    int r = connect(s->fd, (struct sockaddr *)&peer, peerlen);
    if (r < 0 && errno == EINPROGRESS) {
        int soerr = 0;
        socklen_t len = sizeof soerr;
        r = wait_ready(s->fd, POLLOUT, t0 + opt.timeout_ms * 1000ull);
        if (r == 0 && (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &len)
                       < 0 || soerr != 0))
            r = E_IO;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
    if (r == 0 && epoll_ctl(w->ep, EPOLL_CTL_ADD, s->fd, &ev) < 0)
        r = E_IO;
    if (r < 0) {
        slot_close(s);
        return r;
    }
    if (peer.ss_family != AF_UNIX) {
        /* a request is one small write; Nagle would hold it back */
        int one = 1;
        setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    s->sent = 0;
    w->serial++;
    w->t.conns++;
    stats_add(w->t.setup, mono_us() - t0);
    return 0;
}

/* A send that fails on a kept-open connection the server closed is
 * E_CLOSED: the caller retries it on a new one, as Postfix does. */
static int send_request(slot_t *s)
{
    size_t off = 0;
    while (off < s->reqlen) {
        ssize_t n = send(s->fd, s->req + off, s->reqlen - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int r = wait_ready(s->fd, POLLOUT, s->deadline);
            if (r < 0)
                return r;
        } else if (errno != EINTR) {
            return off == 0 && s->reused && (errno == EPIPE ||
                   errno == ECONNRESET) ? E_CLOSED : E_IO;
        }
    }
    return 0;
}

/* ---- worker ---------------------------------------------------------- */

static int claim(uint64_t *n, uint64_t now)
{
    *n = atomic_fetch_add_explicit(&next_req, 1, memory_order_relaxed);
    return opt.total ? *n < opt.total : now < stop_at_us;
}

static void count_failure(report_tally_t *t, int r)
{
    uint64_t *slot = r == E_PROTO ? &t->err_proto
                   : r == E_TIMEOUT ? &t->err_timeout : &t->err_io;
    (*slot)++;
}

static void show_pair(const slot_t *s, const ppolicy_reply_t *rep)
{
    pthread_mutex_lock(&show_lock);
    if (show_done < opt.show && show_text != NULL) {
        int n = snprintf(show_text + show_len, show_cap - show_len,
                         "--- request %u\n%s--- reply\naction=%.*s\n\n",
                         show_done + 1, s->req, (int)rep->action_len,
                         rep->action);
        if (n > 0 && (size_t)n < show_cap - show_len)
            show_len += (size_t)n;
        show_done++;
    }
    pthread_mutex_unlock(&show_lock);
}

/* Sends request s->n (opening a connection when there is none); 0, or
 * -1 when that failed (counted). */
static int launch(slot_t *s, worker_t *w)
{
    if (s->fd < 0 && slot_open(s, w) < 0) {
        w->t.err_connect++;
        struct timespec pause = {0, 100 * 1000 * 1000};
        nanosleep(&pause, NULL);        /* a dead server must not spin us */
        return -1;
    }
    s->reused = s->sent > 0;
    s->reqlen = preq_build(s->req, &opt.space, s->n,
                           &(preq_conn_t){w->id, w->serial, s->sent});
    s->t0 = mono_us();
    s->deadline = s->t0 + opt.timeout_ms * 1000ull;
    int r = send_request(s);
    if (r == E_CLOSED && !s->retried) {
        slot_close(s);
        s->retried = 1;
        return launch(s, w);
    }
    if (r < 0) {
        count_failure(&w->t, r == E_CLOSED ? E_IO : r);
        slot_close(s);
        return -1;
    }
    return 0;
}

/* Claims and sends the next request; s->live says whether one is in
 * flight, and the worker counts the connections still running. */
static void next(slot_t *s, worker_t *w, uint64_t now)
{
    int was = s->live;
    s->retried = 0;
    s->live = 0;
    while (claim(&s->n, now)) {
        if (launch(s, w) == 0) {
            s->live = 1;
            break;
        }
        now = mono_us();
    }
    if (!s->live)
        slot_close(s);
    w->live += (unsigned)s->live - (unsigned)was;
}

static void fail(slot_t *s, worker_t *w, int r)
{
    count_failure(&w->t, r);
    slot_close(s);
    next(s, w, mono_us());
}

static void answered(slot_t *s, worker_t *w, const ppolicy_reply_t *rep)
{
    char word[PPOLICY_WORD_MAX];
    uint64_t now = mono_us();

    stats_add(w->t.lat, now - s->t0);
    s->inlen = 0;
    s->sent++;
    w->t.msgs_done++;
    ppolicy_action_word(rep->action, rep->action_len, word, sizeof word);
    report_tally_word(&w->t, word);
    if (opt.show)
        show_pair(s, rep);
    if (opt.per_conn && s->sent >= opt.per_conn)
        slot_close(s);
    next(s, w, now);
}

/* Reads what arrived for s and acts on a whole reply. */
static void on_input(slot_t *s, worker_t *w)
{
    ppolicy_reply_t rep;
    char err[128];
    ssize_t n = recv(s->fd, s->in + s->inlen, sizeof s->in - s->inlen,
                     MSG_DONTWAIT);

    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        if (s->reused && s->inlen == 0 && !s->retried) {
            /* The server closed the kept-open connection as we reused
             * it: like Postfix, try once more on a new one. */
            slot_close(s);
            s->retried = 1;
            if (launch(s, w) < 0)
                next(s, w, mono_us());
            return;
        }
        fail(s, w, E_IO);
        return;
    }
    s->inlen += (size_t)n;
    int r = ppolicy_decode_reply(s->in, s->inlen, &rep, err, sizeof err);
    if (r == 0 && s->inlen < sizeof s->in)
        return;
    if (r <= 0 || rep.consumed != s->inlen)
        fail(s, w, E_PROTO);    /* also bytes after the reply */
    else
        answered(s, w, &rep);
}

/* Fails the requests past their deadline. */
static void expire(slot_t *slots, worker_t *w, uint64_t now)
{
    for (unsigned i = 0; i < w->nconns; i++)
        if (slots[i].live && now >= slots[i].deadline)
            fail(&slots[i], w, E_TIMEOUT);
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    slot_t *slots = calloc(w->nconns, sizeof *slots);
    struct epoll_event ev[EVENTS_MAX];

    for (unsigned i = 0; slots != NULL && i < w->nconns; i++)
        slots[i].fd = -1;
    w->ep = epoll_create1(EPOLL_CLOEXEC);
    if (slots == NULL || w->ep < 0) {
        w->t.err_io++;
        goto out;
    }
    for (unsigned i = 0; i < w->nconns; i++)
        next(&slots[i], w, mono_us());
    uint64_t check_at = mono_us() + EXPIRE_EVERY_US;
    while (w->live > 0) {
        uint64_t now = mono_us();
        int timeout = now >= check_at ? 0 : (int)((check_at - now + 999) / 1000);
        int n = epoll_wait(w->ep, ev, EVENTS_MAX, timeout);
        if (n < 0 && errno != EINTR) {
            w->t.err_io++;
            break;
        }
        for (int i = 0; i < n; i++)
            on_input(ev[i].data.ptr, w);
        if ((now = mono_us()) >= check_at) {
            expire(slots, w, now);
            check_at = now + EXPIRE_EVERY_US;
        }
    }
out:
    for (unsigned i = 0; slots != NULL && i < w->nconns; i++)
        slot_close(&slots[i]);
    if (w->ep >= 0)
        close(w->ep);
    free(slots);
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
"                   with epoll (default: one per online CPU)\n"
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

enum { O_STAGE = 256, O_SENDERS, O_CLIENTS, O_RCPTS, O_SASL, O_SEED,
       O_JSON, O_SHOW };

/* The size of the key space an option sets (O_SENDERS..O_SASL). */
static unsigned *space_size(int option)
{
    unsigned *size[] = {&opt.space.senders, &opt.space.clients,
                        &opt.space.recipients, &opt.space.sasl_users};
    return size[option - O_SENDERS];
}

static void parse_options(int argc, char **argv)
{
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
    opt = (opts_t){.conns = 8, .timeout_ms = 10000,
                   .space = {.senders = 100, .clients = 100,
                             .recipients = 100, .seed = 1}};
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
            opt.space.eom = optarg[0] == 'e';
            break;
        case O_SENDERS: case O_CLIENTS: case O_RCPTS: case O_SASL:
            *space_size(ch) = (unsigned)number(optarg, ch == O_SASL ? 0 : 1,
                                               16000000);
            break;
        case O_SEED: opt.space.seed = number(optarg, 0, 0xffffff); break;
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
    show_cap = opt.show * (PREQ_MAX + PPOLICY_MAX_REPLY + 64);
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
        .stage = opt.space.eom ? "eom" : "rcpt", .senders = opt.space.senders,
        .clients = opt.space.clients, .recipients = opt.space.recipients,
        .sasl_users = opt.space.sasl_users};
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
