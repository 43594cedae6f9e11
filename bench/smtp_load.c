/*
 * smtp_load.c - smtp-load: many parallel SMTP sessions against an MTA on
 * loopback, several messages per session, for the end-to-end benchmark
 * (Postfix with its milters, as an admin's clients see it).
 *
 * One thread per session slot. Per message it times MAIL FROM to the
 * final reply after the data, with pipelining off (every command waits
 * for its reply, the worst case a client meets) and TCP_NODELAY on so
 * that the client's small writes never wait for an ACK. Tallies,
 * histograms and the printed report are milter-load's (report.h, SMTP
 * flavour); replies are parsed by smtpreply.
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
#include <time.h>
#include <unistd.h>

#include "msgfile.h"
#include "procstat.h"
#include "report.h"
#include "smtpreply.h"
#include "stats.h"

#define SL_MAX_SESSIONS 1024
#define SL_MAX_RCPTS 64
#define SL_INBUF (SMTPREPLY_MAX_LINE * 8)

/* A message as it goes on the wire after DATA: CRLF line ends, leading
 * dots doubled (RFC 5321 4.5.2), ended by ".\r\n". Built once. */
typedef struct {
    char *data;
    size_t len;
} wire_t;

typedef struct {
    const char *target;         /* HOST:PORT as given */
    struct sockaddr_storage addr;
    socklen_t addrlen;
    unsigned sessions;
    unsigned per_session;
    unsigned long total;
    unsigned seconds;
    unsigned timeout_ms;
    const char *helo;
    const char *from;
    const char *rcpts[SL_MAX_RCPTS];
    size_t nrcpts;
    msgfile_t *msgs[MSGFILE_MAX];
    wire_t wire[MSGFILE_MAX];
    size_t nmsgs;
    pid_t pid;
    const char *json;
} sl_opts_t;

typedef struct {
    int fd;
    char in[SL_INBUF];
    size_t inlen;
} sess_t;

typedef struct {
    pthread_t tid;
    unsigned slot;
    report_tally_t t;
} slot_t;

/* Errors are negative report_err_t kinds, so -r is the counter to bump. */
enum {
    E_PROTO = -(int)REPORT_ERR_PROTO,
    E_TIMEOUT = -(int)REPORT_ERR_TIMEOUT,
    E_IO = -(int)REPORT_ERR_IO
};

static sl_opts_t o;
static atomic_ulong g_taken;
static uint64_t g_stop_us;

/* A bad command line or set-up: says why and exits 64 (EX_USAGE). */
static void __attribute__((noreturn)) bad_usage(const char *why,
                                                const char *what)
{
    fprintf(stderr, "smtp-load: %s%s%s\n", why, what ? ": " : "",
            what ? what : "");
    exit(64);
}

/* ---- wire format --------------------------------------------------- */

static int wire_append(wire_t *w, size_t *cap, const char *p, size_t n)
{
    if (w->len + n > *cap) {
        size_t ncap = (*cap + n) * 2;
        char *d = realloc(w->data, ncap);
        if (d == NULL)
            return -1;
        w->data = d;
        *cap = ncap;
    }
    memcpy(w->data + w->len, p, n);
    w->len += n;
    return 0;
}

/* Appends text with every LF turned into CRLF (folded header values are
 * kept with bare "\n" by msgfile) and a dot doubled at each line start. */
static int wire_text(wire_t *w, size_t *cap, const char *p, size_t n,
                     int *bol)
{
    for (size_t i = 0; i < n; i++) {
        int rc = 0;
        if (*bol && p[i] == '.')
            rc = wire_append(w, cap, ".", 1);
        if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
            rc |= wire_append(w, cap, "\r", 1);
        rc |= wire_append(w, cap, p + i, 1);
        if (rc)
            return -1;
        *bol = p[i] == '\n';
    }
    return 0;
}

static int wire_build(const msgfile_t *m, wire_t *w)
{
    size_t cap = msgfile_size(m) + msgfile_size(m) / 16 + 64;
    int bol = 1, rc = 0;

    w->len = 0;
    w->data = malloc(cap);
    if (w->data == NULL)
        return -1;
    for (size_t i = 0; i < m->nhdr && rc == 0; i++) {
        rc |= wire_text(w, &cap, m->hdr[i].name, strlen(m->hdr[i].name), &bol);
        rc |= wire_append(w, &cap, ":", 1);
        rc |= wire_text(w, &cap, m->hdr[i].value, strlen(m->hdr[i].value),
                        &bol);
        rc |= wire_text(w, &cap, "\r\n", 2, &bol);
    }
    rc |= wire_text(w, &cap, "\r\n", 2, &bol);
    rc |= wire_text(w, &cap, m->body, m->bodylen, &bol);
    if (!bol)
        rc |= wire_text(w, &cap, "\r\n", 2, &bol);
    rc |= wire_append(w, &cap, ".\r\n", 3);
    return rc ? -1 : 0;
}

/* ---- one session ----------------------------------------------------- */

static int wait_fd(int fd, short events, uint64_t deadline)
{
    uint64_t now = stats_now_us();
    if (now >= deadline)
        return E_TIMEOUT;
    struct pollfd pfd = {.fd = fd, .events = events};
    int ms = (int)((deadline - now) / 1000u) + 1;
    return poll(&pfd, 1, ms) < 0 && errno != EINTR ? E_IO : 0;
}

static int put_all(sess_t *s, const char *p, size_t n)
{
    uint64_t deadline = stats_now_us() + (uint64_t)o.timeout_ms * 1000u;
    while (n > 0) {
        ssize_t k = send(s->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (k > 0) {
            p += k;
            n -= (size_t)k;
        } else if (k < 0 && errno != EAGAIN && errno != EINTR) {
            return E_IO;
        } else if (wait_fd(s->fd, POLLOUT, deadline) < 0) {
            return E_TIMEOUT;
        }
    }
    return 0;
}

/* The next reply's code, waiting at most the timeout. */
static int get_reply(sess_t *s)
{
    uint64_t deadline = stats_now_us() + (uint64_t)o.timeout_ms * 1000u;
    char err[160];
    for (;;) {
        int code;
        size_t used;
        int r = smtpreply_parse(s->in, s->inlen, &code, &used, err,
                                sizeof err);
        if (r < 0)
            return E_PROTO;
        if (r == 1) {
            memmove(s->in, s->in + used, s->inlen - used);
            s->inlen -= used;
            return code;
        }
        if (s->inlen == sizeof s->in)
            return E_PROTO;
        if (wait_fd(s->fd, POLLIN, deadline) < 0)
            return E_TIMEOUT;
        ssize_t k = recv(s->fd, s->in + s->inlen, sizeof s->in - s->inlen,
                         MSG_DONTWAIT);
        if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
            return E_IO;
        if (k > 0)
            s->inlen += (size_t)k;
    }
}

/* Sends one command line and returns its reply code (or an error). */
static int command(sess_t *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int command(sess_t *s, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line)
        return E_IO;
    int r = put_all(s, line, (size_t)n);
    return r < 0 ? r : get_reply(s);
}

static void sess_close(sess_t *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    s->inlen = 0;
}

/* Connects and greets: 0, or an error (a refusal counts as protocol). */
static int sess_open(sess_t *s)
{
    int one = 1;
    s->inlen = 0;
    s->fd = socket(o.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->fd < 0 || connect(s->fd, (struct sockaddr *)&o.addr, o.addrlen)) {
        sess_close(s);
        return E_IO;
    }
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int code = get_reply(s);
    if (code == 220)
        code = command(s, "EHLO %s\r\n", o.helo);
    return code == 250 ? 0 : (code < 0 ? code : E_PROTO);
}

/* One transaction. Returns the code that ended it (final reply to the
 * data, or the refusal of MAIL, every RCPT or DATA), or an error. */
static int transaction(sess_t *s, const wire_t *w)
{
    int code = command(s, "MAIL FROM:<%s>\r\n", o.from);
    if (code != 250)
        return code;
    int accepted = 0, last = 0;
    for (size_t i = 0; i < o.nrcpts; i++) {
        last = command(s, "RCPT TO:<%s>\r\n", o.rcpts[i]);
        if (last < 0)
            return last;
        accepted += smtpreply_class(last) == 2;
    }
    if (!accepted)
        return last;
    code = command(s, "DATA\r\n");
    if (code != 354)
        return code;
    code = put_all(s, w->data, w->len);
    return code < 0 ? code : get_reply(s);
}

/* ---- workers ------------------------------------------------------- */

static int take_message(void)
{
    if (o.total > 0)
        return atomic_fetch_add(&g_taken, 1) < o.total;
    return stats_now_us() < g_stop_us;
}

static int slot_connect(sess_t *s, slot_t *sl)
{
    uint64_t t0 = stats_now_us();
    int r = sess_open(s);
    if (r == 0) {
        sl->t.conns++;
        stats_add(sl->t.setup, stats_now_us() - t0);
        return 0;
    }
    if (s->fd < 0) {
        report_tally_error(&sl->t, REPORT_ERR_CONNECT);
        /* a dead server must not make us spin */
        nanosleep(&(struct timespec){0, 100000000}, NULL);
    } else {
        report_tally_error(&sl->t, (report_err_t)-r);
    }
    sess_close(s);
    return -1;
}

static void *slot_main(void *arg)
{
    slot_t *sl = arg;
    sess_t *s = calloc(1, sizeof *s);
    unsigned done_here = 0;
    unsigned long k = sl->slot;

    if (s == NULL)
        return NULL;
    s->fd = -1;
    while (take_message()) {
        if (s->fd < 0 && slot_connect(s, sl) < 0)
            continue;
        uint64_t t0 = stats_now_us();
        int code = transaction(s, &o.wire[k++ % o.nmsgs]);
        if (code < 0) {
            report_tally_error(&sl->t, (report_err_t)-code);
            sess_close(s);
            continue;
        }
        stats_add(sl->t.lat, stats_now_us() - t0);
        sl->t.msgs_done++;
        sl->t.codes[code]++;
        done_here++;
        if (smtpreply_class(code) != 2 && command(s, "RSET\r\n") != 250)
            sess_close(s);
        if (s->fd >= 0 && done_here % o.per_session == 0) {
            command(s, "QUIT\r\n");
            sess_close(s);
        }
    }
    if (s->fd >= 0)
        command(s, "QUIT\r\n");
    sess_close(s);
    free(s);
    return NULL;
}

/* ---- options ------------------------------------------------------- */

static const char help_text[] =
"usage: smtp-load -s HOST:PORT (-n TOTAL_MSGS | -t SECONDS) [options]\n"
"Runs parallel SMTP sessions (no pipelining) against an MTA and reports\n"
"msgs/s and the time from MAIL FROM to the final reply after the data.\n"
"\n"
"  -s HOST:PORT     the SMTP server (numeric IPv4 or a name)\n"
"  -c N             parallel sessions (default 8)\n"
"  -m N             messages per session before QUIT (default 5)\n"
"  -n N | -t SECS   a fixed number of messages, or a duration\n"
"  -f PATH          RFC 5322 message file or directory, repeatable\n"
"                   (default: a built-in 4 KB message)\n"
"  -p PID           a process to charge CPU and peak RSS to (a milter)\n"
"  -T MS            timeout for every reply (default 60000)\n"
"  --helo NAME      EHLO name (default client.example.net)\n"
"  --from ADDR      envelope sender (default sender@example.org)\n"
"  --rcpt ADDR      envelope recipient, repeatable\n"
"                   (default rcpt@example.com)\n"
"  --json FILE      also write the results as JSON (- for stdout)\n"
"  -h, --help       this text\n";

static unsigned long count_arg(const char *s, unsigned long max)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 1 || v > max)
        bad_usage("not a number in range", s);
    return v;
}

static void set_target(const char *t)
{
    const char *colon = strrchr(t, ':');
    char host[256];
    if (colon == NULL || colon == t || (size_t)(colon - t) >= sizeof host)
        bad_usage("-s wants HOST:PORT, not", t);
    memcpy(host, t, (size_t)(colon - t));
    host[colon - t] = '\0';
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc != 0)
        bad_usage(gai_strerror(rc), t);
    memcpy(&o.addr, res->ai_addr, res->ai_addrlen);
    o.addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    o.target = t;
}

static void add_messages(const char *path)
{
    char err[512];
    if (msgfile_load_path(path, o.msgs, MSGFILE_MAX, &o.nmsgs, err,
                          sizeof err) < 0)
        bad_usage(err, NULL);
}

static void parse_options(int argc, char **argv)
{
    enum { OPT_HELO = 300, OPT_FROM, OPT_RCPT, OPT_JSON };
    static const struct option longs[] = {
        {"help", no_argument, NULL, 'h'}, {"helo", 1, NULL, OPT_HELO},
        {"from", 1, NULL, OPT_FROM}, {"rcpt", 1, NULL, OPT_RCPT},
        {"json", 1, NULL, OPT_JSON}, {NULL, 0, NULL, 0}};
    int c;

    o.sessions = 8;
    o.per_session = 5;
    o.timeout_ms = 60000;
    o.helo = "client.example.net";
    o.from = "sender@example.org";
    while ((c = getopt_long(argc, argv, "s:c:m:n:t:f:p:T:h", longs,
                            NULL)) != -1) {
        if (c == 's') set_target(optarg);
        else if (c == 'c') o.sessions = (unsigned)count_arg(optarg, SL_MAX_SESSIONS);
        else if (c == 'm') o.per_session = (unsigned)count_arg(optarg, 100000);
        else if (c == 'n') o.total = count_arg(optarg, 100000000);
        else if (c == 't') o.seconds = (unsigned)count_arg(optarg, 86400);
        else if (c == 'f') add_messages(optarg);
        else if (c == 'p') o.pid = (pid_t)count_arg(optarg, 4194304);
        else if (c == 'T') o.timeout_ms = (unsigned)count_arg(optarg, 3600000);
        else if (c == OPT_HELO) o.helo = optarg;
        else if (c == OPT_FROM) o.from = optarg;
        else if (c == OPT_RCPT && o.nrcpts < SL_MAX_RCPTS) o.rcpts[o.nrcpts++] = optarg;
        else if (c == OPT_JSON) o.json = optarg;
        else if (c == 'h') { fputs(help_text, stdout); exit(0); }
        else { fputs(help_text, stderr); exit(64); }
    }
    if (o.target == NULL || optind != argc || (o.total > 0) == (o.seconds > 0)) {
        fputs(help_text, stderr);
        exit(64);
    }
    if (o.nrcpts == 0)
        o.rcpts[o.nrcpts++] = "rcpt@example.com";
    if (o.nmsgs == 0 && (o.msgs[o.nmsgs++] = msgfile_builtin()) == NULL)
        bad_usage("out of memory", NULL);
    for (size_t i = 0; i < o.nmsgs; i++)
        if (wire_build(o.msgs[i], &o.wire[i]) < 0)
            bad_usage("out of memory", NULL);
}

/* ---- main ---------------------------------------------------------- */

static double own_cpu(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

static int sample_pid(procstat_t *ps)
{
    char err[256];
    if (o.pid <= 0)
        return 0;
    if (procstat_read(o.pid, ps, err, sizeof err) == 0)
        return 1;
    fprintf(stderr, "smtp-load: %s\n", err);
    return 0;
}

/* Runs every slot and folds their tallies into *all; -1 when a thread
 * could not start (the others still ran). */
static int run_slots(slot_t *slots, report_tally_t *all)
{
    unsigned n = 0;
    while (n < o.sessions) {
        slots[n].slot = n;
        if (report_tally_init(&slots[n].t) < 0)
            break;
        if (pthread_create(&slots[n].tid, NULL, slot_main, &slots[n]) != 0) {
            report_tally_free(&slots[n].t);
            break;
        }
        n++;
    }
    for (unsigned i = 0; i < n; i++) {
        pthread_join(slots[i].tid, NULL);
        report_tally_merge(all, &slots[i].t);
        report_tally_free(&slots[i].t);
    }
    if (n < o.sessions)
        fprintf(stderr, "smtp-load: only %u of %u sessions started\n", n,
                o.sessions);
    return n == o.sessions ? 0 : -1;
}

/* The run itself, with the wall clock, our CPU and the charged process
 * sampled around it into *run. */
static int timed_run(slot_t *slots, report_tally_t *all, report_run_t *run)
{
    procstat_t before = {0}, after = {0};
    int sampled = sample_pid(&before);
    double cpu_at_start = own_cpu();
    uint64_t start = stats_now_us();

    g_stop_us = start + (uint64_t)o.seconds * 1000000u;
    int rc = run_slots(slots, all);
    run->elapsed = (double)(stats_now_us() - start) / 1e6;
    run->gen_cpu = own_cpu() - cpu_at_start;
    if (sampled && sample_pid(&after)) {
        run->have_milter = 1;
        run->milter_cpu = after.cpu_seconds - before.cpu_seconds;
        run->milter_hwm_kb = after.hwm_kb;
    }
    return rc;
}

int main(int argc, char **argv)
{
    static slot_t slots[SL_MAX_SESSIONS];
    static report_tally_t all;
    char err[256];

    signal(SIGPIPE, SIG_IGN);
    parse_options(argc, argv);
    if (report_tally_init(&all) < 0)
        bad_usage("out of memory", NULL);
    report_run_t run = {.sockspec = o.target, .concurrency = o.sessions,
                        .per_conn = o.per_session, .nodelay = 1, .smtp = 1,
                        .pid = (long)o.pid};
    for (size_t i = 0; i < o.nmsgs; i++)
        run.avg_bytes += msgfile_size(o.msgs[i]) / o.nmsgs;

    int rc = timed_run(slots, &all, &run);
    report_print(stdout, &all, &run);
    if (o.json != NULL && report_json(o.json, &all, &run, err, sizeof err)) {
        fprintf(stderr, "smtp-load: %s\n", err);
        rc = -1;
    }
    uint64_t bad = report_error_count(&all);
    report_tally_free(&all);
    for (size_t i = 0; i < o.nmsgs; i++) {
        free(o.wire[i].data);
        msgfile_free(o.msgs[i]);
    }
    return rc < 0 ? 1 : (bad > 0 ? 2 : 0);
}
