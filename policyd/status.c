/*
 * status.c - answer "postern policyd status" on a unix socket of its own
 * (admin only, never on the policy port): counters, one key's state, the
 * most used keys of a limit. Rare and small, so a bufferevent per client,
 * a linear scan of the memory table and blocking reads of Redis (see
 * redis_query.h) are fine.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "log.h"
#include "sockspec.h"

#include "request.h"
#include "status.h"

#define TOP_MAX 100

struct status {
    struct evconnlistener *listener;
    status_view_t view;
    sockspec_t spec;
    request_t req;
};

typedef struct out {
    char *buf;
    size_t len, pos;
} out_t;

static void put(out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(out_t *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (o->pos >= o->len)
        return;
    va_start(ap, fmt);
    n = vsnprintf(o->buf + o->pos, o->len - o->pos, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->pos = o->pos + (size_t) n < o->len ? o->pos + (size_t) n : o->len - 1;
}

static const limit_t *find_limit(const limits_t *ls, const char *name)
{
    for (size_t i = 0; i < limits_count(ls); i++)
        if (strcmp(limits_get(ls, i)->name, name) == 0)
            return limits_get(ls, i);
    return NULL;
}

/* Units of the burst in use at NOW for a key whose TAT is TAT. */
static uint64_t used_units(const limit_t *l, int64_t tat, int64_t now)
{
    if (tat <= now)
        return 0;
    return (uint64_t) ((tat - now + l->gcra.interval_us - 1) / l->gcra.interval_us);
}

static void answer_key(const status_view_t *v, const request_t *cmd, int64_t now, out_t *o)
{
    const limit_t *l = find_limit(v->limits, request_get(cmd, "limit"));
    char key[LIMIT_KEY_MAX];
    int64_t tat;

    if (l == NULL) {
        put(o, "error=no such limit\n");
        return;
    }
    snprintf(key, sizeof(key), "%s|%s", l->name, request_get(cmd, "key"));
    for (char *c = key; *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char) (*c - 'A' + 'a');
    if (v->backend->ops->peek(v->backend, key, &tat) < 0) {
        put(o, "error=the %s back end did not answer (see the daemon's log)\n",
            v->backend->ops->name);
        return;
    }
    uint64_t burst = (uint64_t) (l->gcra.tolerance_us / l->gcra.interval_us);
    uint64_t used = used_units(l, tat, now);
    put(o, "limit=%s\nkey=%s\nrate=%s\nburst=%llu\nused=%llu\nremaining=%llu\n"
           "reset_in=%llds\n", l->name, key + strlen(l->name) + 1, l->rate_text,
        (unsigned long long) burst, (unsigned long long) used,
        (unsigned long long) (used > burst ? 0 : burst - used),
        (long long) (tat > now ? (tat - now) / GCRA_SECOND : 0));
}

typedef struct top {
    struct { char key[LIMIT_KEY_MAX]; int64_t tat; } v[TOP_MAX];
    size_t n, want;
} top_t;

static void consider(void *arg, const char *key, int64_t tat)
{
    top_t *t = arg;
    size_t i;

    if (t->n == t->want && tat <= t->v[t->n - 1].tat)
        return;
    i = t->n < t->want ? t->n++ : t->n - 1;
    while (i > 0 && t->v[i - 1].tat < tat) {
        t->v[i] = t->v[i - 1];
        i--;
    }
    snprintf(t->v[i].key, sizeof(t->v[i].key), "%s", key);
    t->v[i].tat = tat;
}

static void answer_top(const status_view_t *v, const request_t *cmd, int64_t now, out_t *o)
{
    const limit_t *l = find_limit(v->limits, request_get(cmd, "limit"));
    long want = atol(request_get(cmd, "count"));
    char prefix[80];
    top_t *t;

    if (l == NULL) {
        put(o, "error=no such limit\n");
        return;
    }
    if ((t = calloc(1, sizeof(*t))) == NULL)
        return;
    t->want = want > 0 && want <= TOP_MAX ? (size_t) want : 10;
    snprintf(prefix, sizeof(prefix), "%s|", l->name);
    if (v->backend->ops->scan(v->backend, prefix, consider, t) < 0)
        put(o, "error=the %s back end did not list its keys (see the daemon's log)\n",
            v->backend->ops->name);
    for (size_t i = 0; i < t->n && t->v[i].tat > now; i++)
        put(o, "key=%s used=%llu\n", t->v[i].key + strlen(prefix),
            (unsigned long long) used_units(l, t->v[i].tat, now));
    free(t);
}

void status_answer(const status_view_t *v, const request_t *cmd, int64_t now_us, char *out,
                   size_t outlen)
{
    out_t o = { out, outlen, 0 };
    const char *c = request_get(cmd, "command");
    policy_stats_t st;

    out[0] = '\0';
    if (strcmp(c, "stats") == 0) {
        policy_get_stats(v->policy, &st);
        put(&o, "backend=%s\nlimits=%zu\nconnections=%u\nrequests=%llu\nover_limit=%llu\n"
                "backend_errors=%llu\n", v->backend->ops->name, limits_count(v->limits),
            v->server ? server_connections(v->server) : 0, st.requests, st.over_limit, st.backend_errors);
    } else if (strcmp(c, "key") == 0) {
        answer_key(v, cmd, now_us, &o);
    } else if (strcmp(c, "top") == 0) {
        answer_top(v, cmd, now_us, &o);
    } else {
        put(&o, "error=unknown command '%.40s' (stats, key, top)\n", c);
    }
    put(&o, "\n");
}

/* ---- the socket ---- */

static void on_read(struct bufferevent *bev, void *arg)
{
    status_t *st = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t len = evbuffer_get_length(in), used;
    char err[128], *reply;
    struct timespec ts;

    if (len > REQUEST_MAX_BYTES)
        len = REQUEST_MAX_BYTES;
    const char *data = (const char *) evbuffer_pullup(in, (ssize_t) len);
    switch (request_parse(data, len, &st->req, &used, err, sizeof(err))) {
    case REQUEST_PARTIAL:
        return;
    case REQUEST_BAD:
        bufferevent_free(bev);
        return;
    case REQUEST_OK:
        break;
    }
    if ((reply = malloc(65536)) == NULL) {
        bufferevent_free(bev);
        return;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    status_answer(&st->view, &st->req, (int64_t) ts.tv_sec * GCRA_SECOND + ts.tv_nsec / 1000,
                  reply, 65536);
    bufferevent_write(bev, reply, strlen(reply));
    free(reply);
    bufferevent_disable(bev, EV_READ);
}

static void on_write(struct bufferevent *bev, void *arg)
{
    (void) arg;
    if (evbuffer_get_length(bufferevent_get_output(bev)) == 0
        && !(bufferevent_get_enabled(bev) & EV_READ))
        bufferevent_free(bev);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void) arg;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
        bufferevent_free(bev);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
    struct bufferevent *bev =
        bufferevent_socket_new(evconnlistener_get_base(l), fd, BEV_OPT_CLOSE_ON_FREE);
    struct timeval tv = { 5, 0 };

    (void) sa;
    (void) salen;
    if (bev == NULL) {
        evutil_closesocket(fd);
        return;
    }
    bufferevent_setcb(bev, on_read, on_write, on_event, arg);
    bufferevent_set_timeouts(bev, &tv, &tv);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

status_t *status_new(struct event_base *base, const char *spec, char *err, size_t errlen)
{
    status_t *st = calloc(1, sizeof(*st));
    struct sockaddr_un un = { .sun_family = AF_UNIX };

    if (st == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (sockspec_parse(spec, &st->spec, err, errlen) < 0 || st->spec.family != SOCKSPEC_UNIX) {
        if (st->spec.family != SOCKSPEC_UNIX)
            snprintf(err, errlen, "status socket %s: must be unix:PATH", spec);
        free(st);
        return NULL;
    }
    snprintf(un.sun_path, sizeof(un.sun_path), "%s", st->spec.path);
    unlink(st->spec.path);
    st->listener = evconnlistener_new_bind(base, on_accept, st,
                                           LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16,
                                           (struct sockaddr *) &un, sizeof(un));
    if (st->listener == NULL) {
        snprintf(err, errlen, "cannot listen on %s: %s", spec, strerror(errno));
        free(st);
        return NULL;
    }
    chmod(st->spec.path, 0660);
    return st;
}

void status_set_view(status_t *st, const status_view_t *view)
{
    st->view = *view;
}

void status_free(status_t *st)
{
    if (st == NULL)
        return;
    evconnlistener_free(st->listener);
    unlink(st->spec.path);
    free(st);
}
