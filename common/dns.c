/*
 * dns.c - blocking queries over one shared libunbound context.
 * Callers submit with ub_resolve_async and sleep on a condition variable;
 * one internal thread runs ub_process and wakes them.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/eventfd.h>

#include <unbound.h>

#include "dns.h"
#include "dnscache.h"
#include "metrics.h"

#define DNSR_DEFAULT_TIMEOUT_MS 5000
#define DNSR_MAX_NAME 253
#define DNSR_MAX_LABEL 63
/* The loop wakes at least this often, so a lost wake-up costs little. */
#define DNSR_POLL_MS 1000
#define DNSR_BACKOFF_MS 10
/* Answers kept for the calling thread's fast path (dnscache.h). */
#define DNSR_FRONT_ENTRIES 20000

struct dnsr {
    struct ub_ctx *ctx;
    int timeout_ms;
    bool dnssec;
    int wakefd;                 /* eventfd: tells the loop to stop */
    atomic_bool stopping;
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mu;         /* guards every struct query below */
    dnscache_t *cache;          /* answers with a TTL, for the fast path */
};

/*
 * One waiting caller. Two references: the caller's and the callback's.
 * The callback's is dropped by the callback, or by the caller when
 * ub_cancel succeeds (unbound then never calls back).
 */
struct query {
    dnsr_t *r;
    pthread_cond_t cond;
    int refs;
    bool done;
    bool abandoned;
    int err;
    struct ub_result *res;
};

struct dnsr_answer {
    struct ub_result *res;      /* NULL when there was no answer */
    size_t count;
    dnscache_t *cache;          /* set when RES belongs to ENTRY */
    dnscache_entry_t *entry;
};

const char *dnsr_status_name(dnsr_status_t status)
{
    switch (status) {
    case DNSR_OK:       return "ok";
    case DNSR_NXDOMAIN: return "nxdomain";
    case DNSR_NODATA:   return "nodata";
    case DNSR_SERVFAIL: return "servfail";
    case DNSR_TIMEOUT:  return "timeout";
    case DNSR_BOGUS:    return "bogus";
    case DNSR_ERROR:    return "error";
    }
    return "unknown";
}

/* ---- set-up ---------------------------------------------------------- */

static int set_opt(struct ub_ctx *ctx, const char *opt, const char *val,
                   char *err, size_t errlen)
{
    int rc = ub_ctx_set_option(ctx, opt, val);
    if (rc != 0) {
        snprintf(err, errlen, "dns: option %s %s: %s", opt, val,
                 ub_strerror(rc));
        return -1;
    }
    return 0;
}

static int set_upstreams(struct ub_ctx *ctx, const dnsr_opts_t *o,
                         char *err, size_t errlen)
{
    int rc;
    if (o->nupstreams == 0) {
        rc = ub_ctx_resolvconf(ctx, NULL);
        if (rc != 0) {
            snprintf(err, errlen, "dns: /etc/resolv.conf: %s",
                     ub_strerror(rc));
            return -1;
        }
        return 0;
    }
    for (size_t i = 0; i < o->nupstreams; i++) {
        const char *up = o->upstreams[i];
        rc = up != NULL ? ub_ctx_set_fwd(ctx, up) : UB_SYNTAX;
        if (rc != 0) {
            snprintf(err, errlen, "dns: upstream \"%s\": %s",
                     up != NULL ? up : "(null)", ub_strerror(rc));
            return -1;
        }
    }
    return 0;
}

static int set_dnssec(struct ub_ctx *ctx, const dnsr_opts_t *o,
                      char *err, size_t errlen)
{
    if (!o->dnssec)     /* no validator: no anchor, no extra queries */
        return set_opt(ctx, "module-config:", "iterator", err, errlen);
    if (o->trust_anchor == NULL || o->trust_anchor[0] == '\0') {
        snprintf(err, errlen, "dns: dnssec needs a trust anchor file");
        return -1;
    }
    if (access(o->trust_anchor, R_OK) != 0) {
        snprintf(err, errlen, "dns: trust anchor %s: %s", o->trust_anchor,
                 strerror(errno));
        return -1;
    }
    int rc = ub_ctx_add_ta_file(ctx, o->trust_anchor);
    if (rc != 0) {
        snprintf(err, errlen, "dns: trust anchor %s: %s", o->trust_anchor,
                 ub_strerror(rc));
        return -1;
    }
    return 0;
}

static int set_cache(struct ub_ctx *ctx, size_t bytes, char *err,
                     size_t errlen)
{
    if (bytes == 0)
        return 0;
    char half[32];
    snprintf(half, sizeof half, "%zu", bytes / 2 > 0 ? bytes / 2 : 1);
    if (set_opt(ctx, "msg-cache-size:", half, err, errlen) != 0)
        return -1;
    return set_opt(ctx, "rrset-cache-size:", half, err, errlen);
}

/* unbound answers these itself (RFC 6761, RFC 6303), which would hide
 * what a local or test upstream serves for them. */
static const char *const passed_zones[] = {
    "test.", "127.in-addr.arpa.", "2.0.192.in-addr.arpa.",
    "100.51.198.in-addr.arpa.", "113.0.203.in-addr.arpa.",
    "8.b.d.0.1.0.0.2.ip6.arpa.",
};

/* Must come last: removing a zone finalizes the configuration. */
static int pass_zones(struct ub_ctx *ctx, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof passed_zones / sizeof passed_zones[0];
         i++) {
        int rc = ub_ctx_zone_remove(ctx, passed_zones[i]);
        if (rc != 0) {
            snprintf(err, errlen, "dns: zone %s: %s", passed_zones[i],
                     ub_strerror(rc));
            return -1;
        }
    }
    return 0;
}

static int configure(struct ub_ctx *ctx, const dnsr_opts_t *o, char *err,
                     size_t errlen)
{
    /* Test and local resolvers live on loopback, which unbound skips
     * by default. */
    if (set_opt(ctx, "do-not-query-localhost:", "no", err, errlen) != 0)
        return -1;
    if (set_opt(ctx, "unblock-lan-zones:", "yes", err, errlen) != 0)
        return -1;
    if (set_upstreams(ctx, o, err, errlen) != 0)
        return -1;
    if (set_dnssec(ctx, o, err, errlen) != 0)
        return -1;
    if (set_cache(ctx, o->cache_bytes, err, errlen) != 0)
        return -1;
    /* A thread, not the default forked process, for the background
     * worker: filters must not fork behind libmilter's back. */
    int rc = ub_ctx_async(ctx, 1);
    if (rc != 0) {
        snprintf(err, errlen, "dns: async: %s", ub_strerror(rc));
        return -1;
    }
    return pass_zones(ctx, err, errlen);
}

/* ---- the thread that delivers answers ------------------------------- */

static void *dnsr_loop(void *arg)
{
    dnsr_t *r = arg;
    struct pollfd p[2] = {
        { .fd = ub_fd(r->ctx), .events = POLLIN },
        { .fd = r->wakefd, .events = POLLIN },
    };
    while (!atomic_load(&r->stopping)) {
        int n = poll(p, 2, DNSR_POLL_MS);
        bool failed = n < 0 && errno != EINTR;
        if (n > 0 && (p[0].revents & (POLLIN | POLLERR | POLLHUP)))
            failed = ub_process(r->ctx) != 0;
        /* Waiting callers time out on their own; back off rather than
         * spin on a broken pipe, and keep serving if it recovers. */
        if (failed)
            (void) poll(NULL, 0, DNSR_BACKOFF_MS);
    }
    return NULL;
}

static int start_loop(dnsr_t *r, char *err, size_t errlen)
{
    r->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (r->wakefd < 0) {
        snprintf(err, errlen, "dns: eventfd: %s", strerror(errno));
        return -1;
    }
    int rc = pthread_create(&r->thread, NULL, dnsr_loop, r);
    if (rc != 0) {
        snprintf(err, errlen, "dns: thread: %s", strerror(rc));
        return -1;
    }
    r->thread_started = true;
    return 0;
}

static void free_result(void *res)
{
    ub_resolve_free(res);
}

dnsr_t *dnsr_new(const dnsr_opts_t *opts, char *err, size_t errlen)
{
    if (opts == NULL) {
        snprintf(err, errlen, "dns: no options");
        return NULL;
    }
    dnsr_t *r = calloc(1, sizeof *r);
    if (r == NULL) {
        snprintf(err, errlen, "dns: out of memory");
        return NULL;
    }
    r->wakefd = -1;
    r->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms
                                         : DNSR_DEFAULT_TIMEOUT_MS;
    r->dnssec = opts->dnssec;
    pthread_mutex_init(&r->mu, NULL);
    r->cache = dnscache_new(DNSR_FRONT_ENTRIES, free_result);
    r->ctx = ub_ctx_create();
    if (r->ctx == NULL || r->cache == NULL) {
        snprintf(err, errlen, "dns: cannot create resolver context");
        dnsr_free(r);
        return NULL;
    }
    if (configure(r->ctx, opts, err, errlen) != 0
        || start_loop(r, err, errlen) != 0) {
        dnsr_free(r);
        return NULL;
    }
    return r;
}

void dnsr_free(dnsr_t *r)
{
    if (r == NULL)
        return;
    if (r->thread_started) {
        uint64_t one = 1;
        atomic_store(&r->stopping, true);
        if (write(r->wakefd, &one, sizeof one) < 0) {
            /* the loop still sees "stopping" within DNSR_POLL_MS */
        }
        pthread_join(r->thread, NULL);
    }
    /* Deletes queries still running in unbound; their callbacks are
     * never called, and their struct query was freed at cancel time. */
    if (r->ctx != NULL)
        ub_ctx_delete(r->ctx);
    if (r->wakefd >= 0)
        close(r->wakefd);
    dnscache_free(r->cache);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* ---- queries --------------------------------------------------------- */

/* RFC 1035 2.3.4 limits, plus no spaces or control bytes (they can only
 * come from a bug or an attack upstream of us). */
static bool name_ok(const char *name)
{
    if (name == NULL)
        return false;
    size_t n = strnlen(name, DNSR_MAX_NAME + 2);
    if (n > 0 && name[n - 1] == '.')
        n--;
    if (n == 0 || n > DNSR_MAX_NAME)
        return false;
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) name[i];
        if (c <= ' ' || c == 0x7f)
            return false;
        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
        } else if (++label > DNSR_MAX_LABEL) {
            return false;
        }
    }
    return label > 0;
}

/* Drops one reference; called with r->mu held. */
static void query_unref(struct query *q)
{
    if (--q->refs > 0)
        return;
    ub_resolve_free(q->res);
    pthread_cond_destroy(&q->cond);
    free(q);
}

/* Runs on the loop thread, from ub_process. */
static void on_answer(void *arg, int err, struct ub_result *res)
{
    struct query *q = arg;
    dnsr_t *r = q->r;
    pthread_mutex_lock(&r->mu);
    if (q->abandoned) {
        ub_resolve_free(res);
    } else {
        q->err = err;
        q->res = res;
        q->done = true;
        pthread_cond_signal(&q->cond);
    }
    query_unref(q);
    pthread_mutex_unlock(&r->mu);
}

static struct query *query_new(dnsr_t *r)
{
    struct query *q = calloc(1, sizeof *q);
    if (q == NULL)
        return NULL;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&q->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0) {
        free(q);
        return NULL;
    }
    q->r = r;
    q->refs = 2;
    return q;
}

static struct timespec deadline_after(int ms)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (long) (ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

/*
 * Waits for the callback until the deadline. On timeout, abandons the
 * query: if ub_cancel finds it, unbound will never call back, so the
 * callback's reference is dropped here; otherwise the callback is under
 * way on the loop thread and drops its own.
 * Returns true with q->res/q->err set when answered in time.
 */
static bool query_wait(dnsr_t *r, struct query *q, int async_id, int ms)
{
    struct timespec dl = deadline_after(ms);
    pthread_mutex_lock(&r->mu);
    int rc = 0;
    while (!q->done && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&q->cond, &r->mu, &dl);
    bool answered = q->done;
    if (!answered)
        q->abandoned = true;
    pthread_mutex_unlock(&r->mu);
    if (!answered && ub_cancel(r->ctx, async_id) == UB_NOERROR) {
        pthread_mutex_lock(&r->mu);
        query_unref(q);
        pthread_mutex_unlock(&r->mu);
    }
    return answered;
}

static dnsr_status_t status_of(const dnsr_t *r, int err,
                               const struct ub_result *res)
{
    if (err != 0 || res == NULL)
        return err == UB_SERVFAIL ? DNSR_SERVFAIL : DNSR_ERROR;
    if (r->dnssec && res->bogus)
        return DNSR_BOGUS;
    switch (res->rcode) {
    case 0:
        return res->havedata ? DNSR_OK : DNSR_NODATA;
    case 3:
        return DNSR_NXDOMAIN;
    default:
        return DNSR_SERVFAIL;
    }
}

/* Takes ownership of res (may be NULL). */
static dnsr_answer_t *answer_new(struct ub_result *res, dnsr_status_t st)
{
    dnsr_answer_t *a = calloc(1, sizeof *a);
    if (a == NULL) {
        ub_resolve_free(res);
        return NULL;
    }
    a->res = res;
    if (res != NULL && st == DNSR_OK && res->data != NULL)
        while (res->data[a->count] != NULL)
            a->count++;
    return a;
}

static dnsr_status_t finish(struct ub_result *res, dnsr_status_t st,
                            dnsr_answer_t **out)
{
    *out = answer_new(res, st);
    return *out != NULL ? st : DNSR_ERROR;
}

/* Metrics, registered on the first query (dns_metrics_init). */
static struct {
    pthread_once_t once;
    metric_t *status[DNSR_ERROR + 1];
    metric_t *latency;
    metric_t *hits;
} dm = { .once = PTHREAD_ONCE_INIT };

/* ---- the fast path: answers with a TTL, in the caller's thread ---- */

static long now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long) ts.tv_sec;
}

static dnsr_status_t from_entry(dnsr_t *r, dnscache_entry_t *e, void *res, int st,
                                dnsr_answer_t **out)
{
    dnsr_answer_t *a = calloc(1, sizeof *a);
    struct ub_result *ub = res;

    if (a == NULL) {
        dnscache_release(r->cache, e);      /* the result is the cache's */
        *out = NULL;
        return DNSR_ERROR;
    }
    a->res = ub;
    if (st == DNSR_OK && ub->data != NULL)
        while (ub->data[a->count] != NULL)
            a->count++;
    a->cache = r->cache;
    a->entry = e;
    *out = a;
    return (dnsr_status_t) st;
}

static dnsr_status_t from_cache(dnsr_t *r, const char *name, int rrtype, dnsr_answer_t **out)
{
    void *res;
    int st;
    dnscache_entry_t *e = dnscache_get(r->cache, name, rrtype, now_s(), &res, &st);

    if (e == NULL)
        return (dnsr_status_t) -1;
    metric_add(dm.hits, 1);
    return from_entry(r, e, res, st, out);
}

/* Answers worth keeping: those that say something about the name, for
 * their TTL (NXDOMAIN and NODATA carry the zone's negative TTL). */
static dnsr_status_t finish_cached(dnsr_t *r, const char *name, int rrtype,
                                   struct ub_result *res, dnsr_status_t st,
                                   dnsr_answer_t **out)
{
    dnscache_entry_t *e = NULL;

    if ((st == DNSR_OK || st == DNSR_NXDOMAIN || st == DNSR_NODATA) && res != NULL
        && res->ttl > 0)
        e = dnscache_put(r->cache, name, rrtype, res, st, (unsigned) res->ttl, now_s());
    return e != NULL ? from_entry(r, e, res, st, out) : finish(res, st, out);
}

static dnsr_status_t resolve(dnsr_t *r, const char *name, int rrtype,
                             int timeout_ms, dnsr_answer_t **out)
{
    if (out == NULL)
        return DNSR_ERROR;
    if (r == NULL || !name_ok(name) || rrtype <= 0 || rrtype > 65535)
        return finish(NULL, DNSR_ERROR, out);
    dnsr_status_t hit = from_cache(r, name, rrtype, out);
    if ((int) hit >= 0)
        return hit;
    struct query *q = query_new(r);
    if (q == NULL)
        return finish(NULL, DNSR_ERROR, out);
    int id = 0;
    int sent = ub_resolve_async(r->ctx, name, rrtype, 1 /* IN */, q,
                                on_answer, &id);
    if (sent != 0 && id == 0) {         /* never reached unbound */
        pthread_cond_destroy(&q->cond);
        free(q);
        return finish(NULL, DNSR_ERROR, out);
    }
    /* A query registered but not handed to the worker is abandoned at
     * once, through the same path as a timeout. */
    int ms = sent != 0 ? 0 : timeout_ms > 0 ? timeout_ms : r->timeout_ms;
    bool answered = query_wait(r, q, id, ms);
    pthread_mutex_lock(&r->mu);
    struct ub_result *res = q->res;
    int err = q->err;
    q->res = NULL;
    query_unref(q);
    pthread_mutex_unlock(&r->mu);
    if (sent != 0 || !answered) {
        ub_resolve_free(res);
        return finish(NULL, sent != 0 ? DNSR_ERROR : DNSR_TIMEOUT, out);
    }
    return finish_cached(r, name, rrtype, res, status_of(r, err, res), out);
}

/* ---- metrics: every query by outcome, how long it took, and how many
 * our cache answered (libunbound's own cache does not say) ---- */


static void dns_metrics_init(void)
{
    char labels[48];

    for (int s = DNSR_OK; s <= DNSR_ERROR; s++) {
        snprintf(labels, sizeof(labels), "status=\"%s\"", dnsr_status_name((dnsr_status_t) s));
        dm.status[s] = metrics_counter("postern_dns_queries_total",
                                       "DNS lookups by outcome.", labels);
    }
    dm.latency = metrics_histogram("postern_dns_query_seconds",
                                   "Time a DNS lookup took, cache hits included.", NULL);
    dm.hits = metrics_counter("postern_dns_cache_hits_total",
                              "Lookups answered from the resolver's own cache.", NULL);
}

dnsr_status_t dnsr_query_timeout(dnsr_t *r, const char *name, int rrtype,
                                 int timeout_ms, dnsr_answer_t **out)
{
    struct timespec t0, t1;
    dnsr_status_t st;

    pthread_once(&dm.once, dns_metrics_init);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    st = resolve(r, name, rrtype, timeout_ms, out);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if ((unsigned) st <= DNSR_ERROR)
        metric_add(dm.status[st], 1);
    metric_observe_ms(dm.latency, (double) (t1.tv_sec - t0.tv_sec) * 1e3
                                      + (double) (t1.tv_nsec - t0.tv_nsec) / 1e6);
    return st;
}

dnsr_status_t dnsr_query(dnsr_t *r, const char *name, int rrtype,
                         dnsr_answer_t **out)
{
    return dnsr_query_timeout(r, name, rrtype, 0, out);
}

/* ---- answers --------------------------------------------------------- */

void dnsr_answer_free(dnsr_answer_t *a)
{
    if (a == NULL)
        return;
    if (a->entry != NULL)
        dnscache_release(a->cache, a->entry);
    else
        ub_resolve_free(a->res);
    free(a);
}

size_t dnsr_answer_count(const dnsr_answer_t *a)
{
    return a != NULL ? a->count : 0;
}

const void *dnsr_answer_rdata(const dnsr_answer_t *a, size_t i, size_t *len)
{
    if (a == NULL || i >= a->count || a->res->len[i] < 0) {
        if (len != NULL)
            *len = 0;
        return NULL;
    }
    if (len != NULL)
        *len = (size_t) a->res->len[i];
    return a->res->data[i];
}

const unsigned char *dnsr_answer_packet(const dnsr_answer_t *a, size_t *len)
{
    bool have = a != NULL && a->res != NULL && a->res->answer_packet != NULL
                && a->res->answer_len > 0;
    if (len != NULL)
        *len = have ? (size_t) a->res->answer_len : 0;
    return have ? a->res->answer_packet : NULL;
}

bool dnsr_answer_secure(const dnsr_answer_t *a)
{
    return a != NULL && a->res != NULL && a->res->secure;
}

int dnsr_answer_ttl(const dnsr_answer_t *a)
{
    return a != NULL && a->res != NULL ? a->res->ttl : 0;
}

const char *dnsr_answer_why_bogus(const dnsr_answer_t *a)
{
    return a != NULL && a->res != NULL ? a->res->why_bogus : NULL;
}

/* Fixed-size rdata (A, AAAA) of record i into out. */
static int answer_fixed(const dnsr_answer_t *a, size_t i, void *out,
                        size_t want)
{
    size_t len;
    const void *rd = dnsr_answer_rdata(a, i, &len);
    if (rd == NULL || out == NULL || len != want)
        return -1;
    memcpy(out, rd, want);
    return 0;
}

int dnsr_answer_a(const dnsr_answer_t *a, size_t i, struct in_addr *addr)
{
    return answer_fixed(a, i, addr, sizeof *addr);
}

int dnsr_answer_aaaa(const dnsr_answer_t *a, size_t i,
                     struct in6_addr *addr)
{
    return answer_fixed(a, i, addr, sizeof *addr);
}

int dnsr_answer_txt(const dnsr_answer_t *a, size_t i, char *buf,
                    size_t buflen)
{
    size_t len;
    const unsigned char *rd = dnsr_answer_rdata(a, i, &len);
    return rd != NULL ? dnsr_rdata_txt(rd, len, buf, buflen) : -1;
}

int dnsr_answer_mx(const dnsr_answer_t *a, size_t i, unsigned *pref,
                   char *host, size_t hostlen)
{
    size_t len;
    const unsigned char *rd = dnsr_answer_rdata(a, i, &len);
    if (rd == NULL || len < 3)
        return -1;
    if (pref != NULL)
        *pref = (unsigned) rd[0] << 8 | rd[1];
    return dnsr_rdata_name(rd + 2, len - 2, host, hostlen);
}

int dnsr_answer_ptr(const dnsr_answer_t *a, size_t i, char *host,
                    size_t hostlen)
{
    size_t len;
    const unsigned char *rd = dnsr_answer_rdata(a, i, &len);
    return rd != NULL ? dnsr_rdata_name(rd, len, host, hostlen) : -1;
}

/* ---- rdata decoders (untrusted input) -------------------------------- */

int dnsr_rdata_txt(const unsigned char *rd, size_t len, char *buf,
                   size_t buflen)
{
    if (rd == NULL || buf == NULL || buflen == 0 || len == 0)
        return -1;
    size_t pos = 0, out = 0;
    while (pos < len) {
        size_t n = rd[pos++];
        if (n > len - pos || n >= buflen - out || out + n > INT32_MAX)
            return -1;
        memcpy(buf + out, rd + pos, n);
        out += n;
        pos += n;
    }
    buf[out] = '\0';
    return (int) out;
}

/* Appends one label byte in presentation form; false if buf is full. */
static bool put_label_byte(unsigned char c, char *buf, size_t buflen,
                           size_t *out)
{
    char tmp[5];
    size_t n;
    if (c == '.' || c == '\\' || c <= ' ' || c >= 0x7f)
        n = (size_t) snprintf(tmp, sizeof tmp, "\\%03u", c);
    else {
        tmp[0] = (char) c;
        n = 1;
    }
    if (n >= buflen - *out)
        return false;
    memcpy(buf + *out, tmp, n);
    *out += n;
    return true;
}

int dnsr_rdata_name(const unsigned char *rd, size_t len, char *buf,
                    size_t buflen)
{
    if (rd == NULL || buf == NULL || buflen < 2)
        return -1;
    size_t pos = 0, out = 0, wire = 0;
    for (;;) {
        if (pos >= len)
            return -1;
        size_t n = rd[pos++];
        if (n == 0)
            break;
        /* 0xC0 pointers and the reserved 0x40/0x80 label types */
        if (n > DNSR_MAX_LABEL || n > len - pos || (wire += n + 1) > 255)
            return -1;
        if (out > 0) {          /* separator: a plain, unescaped dot */
            if (out + 1 >= buflen)
                return -1;
            buf[out++] = '.';
        }
        for (size_t k = 0; k < n; k++)
            if (!put_label_byte(rd[pos + k], buf, buflen, &out))
                return -1;
        pos += n;
    }
    if (out == 0)
        buf[out++] = '.';
    buf[out] = '\0';
    return (int) out;
}

int dnsr_reverse_name(int af, const void *addr, char *buf, size_t buflen)
{
    static const char hex[] = "0123456789abcdef";
    if (addr == NULL || buf == NULL)
        return -1;
    const unsigned char *b = addr;
    char tmp[80];
    size_t n = 0;
    if (af == AF_INET) {
        n = (size_t) snprintf(tmp, sizeof tmp, "%u.%u.%u.%u.in-addr.arpa",
                              b[3], b[2], b[1], b[0]);
    } else if (af == AF_INET6) {
        for (int i = 15; i >= 0; i--) {
            tmp[n++] = hex[b[i] & 0xf];
            tmp[n++] = '.';
            tmp[n++] = hex[b[i] >> 4];
            tmp[n++] = '.';
        }
        memcpy(tmp + n, "ip6.arpa", sizeof "ip6.arpa");
        n += sizeof "ip6.arpa" - 1;
    } else {
        return -1;
    }
    if (n >= buflen)
        return -1;
    memcpy(buf, tmp, n + 1);
    return (int) n;
}
