/*
 * metrics.c - a fixed registry of atomic metrics and the Prometheus text
 * rendering; libmicrohttpd serves it. Registration happens at start,
 * before any thread reads the registry.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "metrics.h"

typedef enum { M_COUNTER, M_GAUGE, M_HISTOGRAM } mkind_t;

static const double bucket_ms[] = { 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250,
                                    500, 1000, 2500, 5000, 10000 };
#define NBUCKETS (sizeof(bucket_ms) / sizeof(bucket_ms[0]))

struct metric {
    mkind_t kind;
    char name[96], help[160], labels[160];
    _Atomic int64_t value;
    _Atomic uint64_t buckets[NBUCKETS + 1];     /* the last one: +Inf */
    _Atomic uint64_t sum_us;
};

static metric_t registry[METRICS_MAX];
static _Atomic size_t nmetrics;
static struct MHD_Daemon *httpd;

static metric_t *add(mkind_t kind, const char *name, const char *help, const char *labels)
{
    size_t i = atomic_fetch_add(&nmetrics, 1);

    if (i >= METRICS_MAX) {
        atomic_store(&nmetrics, METRICS_MAX);
        return NULL;
    }
    metric_t *m = &registry[i];
    m->kind = kind;
    snprintf(m->name, sizeof(m->name), "%s", name);
    snprintf(m->help, sizeof(m->help), "%s", help);
    snprintf(m->labels, sizeof(m->labels), "%s", labels ? labels : "");
    return m;
}

metric_t *metrics_counter(const char *name, const char *help, const char *labels)
{
    return add(M_COUNTER, name, help, labels);
}

metric_t *metrics_gauge(const char *name, const char *help, const char *labels)
{
    return add(M_GAUGE, name, help, labels);
}

metric_t *metrics_histogram(const char *name, const char *help, const char *labels)
{
    return add(M_HISTOGRAM, name, help, labels);
}

void metric_add(metric_t *m, uint64_t n)
{
    if (m != NULL)
        atomic_fetch_add_explicit(&m->value, (int64_t) n, memory_order_relaxed);
}

void metric_set(metric_t *m, int64_t v)
{
    if (m != NULL)
        atomic_store_explicit(&m->value, v, memory_order_relaxed);
}

void metric_observe_ms(metric_t *m, double ms)
{
    size_t b = 0;

    if (m == NULL)
        return;
    while (b < NBUCKETS && ms > bucket_ms[b])
        b++;
    atomic_fetch_add_explicit(&m->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->sum_us, (uint64_t) (ms * 1000.0), memory_order_relaxed);
}

/* ---- rendering ---- */

typedef struct out {
    char *buf;
    size_t len, cap;
    int failed;
} out_t;

static void put(out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(out_t *o, const char *fmt, ...)
{
    va_list ap;

    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            o->failed = 1;
            return;
        }
        if ((size_t) n < o->cap - o->len) {
            o->len += (size_t) n;
            return;
        }
        char *b = realloc(o->buf, o->cap * 2 + (size_t) n);
        if (b == NULL) {
            o->failed = 1;
            return;
        }
        o->buf = b;
        o->cap = o->cap * 2 + (size_t) n;
    }
}

/* "{labels}" or "{labels,extra}" or "". */
static void labels(out_t *o, const metric_t *m, const char *extra)
{
    if (m->labels[0] == '\0' && extra == NULL)
        return;
    put(o, "{%s%s%s}", m->labels, m->labels[0] && extra ? "," : "", extra ? extra : "");
}

static bool first_of_name(size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (strcmp(registry[j].name, registry[i].name) == 0)
            return false;
    return true;
}

static void render_one(out_t *o, size_t i)
{
    static const char *const types[] = { "counter", "gauge", "histogram" };
    const metric_t *m = &registry[i];

    if (first_of_name(i))
        put(o, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help, m->name, types[m->kind]);
    if (m->kind != M_HISTOGRAM) {
        put(o, "%s", m->name);
        labels(o, m, NULL);
        put(o, " %lld\n", (long long) atomic_load(&m->value));
        return;
    }
    uint64_t cum = 0;
    char le[32];
    for (size_t b = 0; b <= NBUCKETS; b++) {
        cum += atomic_load(&m->buckets[b]);
        if (b < NBUCKETS)
            snprintf(le, sizeof(le), "le=\"%g\"", bucket_ms[b] / 1000.0);
        else
            snprintf(le, sizeof(le), "le=\"+Inf\"");
        put(o, "%s_bucket", m->name);
        labels(o, m, le);
        put(o, " %llu\n", (unsigned long long) cum);
    }
    put(o, "%s_sum", m->name);
    labels(o, m, NULL);
    put(o, " %.6f\n%s_count", (double) atomic_load(&m->sum_us) / 1e6, m->name);
    labels(o, m, NULL);
    put(o, " %llu\n", (unsigned long long) cum);
}

char *metrics_render(void)
{
    out_t o = { malloc(4096), 0, 4096, 0 };
    size_t n = atomic_load(&nmetrics);

    if (o.buf == NULL)
        return NULL;
    o.buf[0] = '\0';
    for (size_t i = 0; i < n; i++)
        render_one(&o, i);
    if (o.failed) {
        free(o.buf);
        return NULL;
    }
    return o.buf;
}

/* ---- serving ---- */

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *size, void **state)
{
    struct MHD_Response *r;
    enum MHD_Result rc;
    char *text;

    (void) cls; (void) version; (void) data; (void) size; (void) state;
    if (strcmp(method, "GET") != 0 || strcmp(url, "/metrics") != 0) {
        static const char nf[] = "not found: try /metrics\n";
        r = MHD_create_response_from_buffer(sizeof(nf) - 1, (void *) nf,
                                            MHD_RESPMEM_PERSISTENT);
        rc = MHD_queue_response(c, MHD_HTTP_NOT_FOUND, r);
        MHD_destroy_response(r);
        return rc;
    }
    if ((text = metrics_render()) == NULL)
        return MHD_NO;
    r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4");
    rc = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return rc;
}

int metrics_serve(const char *hostport, char *err, size_t errlen)
{
    const char *colon = strrchr(hostport, ':');
    struct sockaddr_in sa = { .sin_family = AF_INET };
    char host[64];
    int port;

    if (colon == NULL || (size_t) (colon - hostport) >= sizeof(host)
        || (port = atoi(colon + 1)) < 1 || port > 65535) {
        snprintf(err, errlen, "metrics listener '%s': want 127.0.0.1:PORT", hostport);
        return -1;
    }
    memcpy(host, hostport, (size_t) (colon - hostport));
    host[colon - hostport] = '\0';
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1
        || (ntohl(sa.sin_addr.s_addr) >> 24) != 127) {
        snprintf(err, errlen, "metrics listener '%s': must be a 127.x.x.x address", hostport);
        return -1;
    }
    sa.sin_port = htons((uint16_t) port);
    httpd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
                             (uint16_t) port, NULL, NULL, answer, NULL,
                             MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &sa,
                             MHD_OPTION_CONNECTION_LIMIT, 16u,
                             MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    if (httpd == NULL) {
        snprintf(err, errlen, "cannot listen on %s for metrics", hostport);
        return -1;
    }
    return 0;
}

void metrics_stop(void)
{
    if (httpd != NULL)
        MHD_stop_daemon(httpd);
    httpd = NULL;
}
