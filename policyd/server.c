/*
 * server.c - libevent listener and connections for the policy protocol.
 * Connections are reference-counted because a Redis answer may arrive
 * after the client went away.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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
#include "server.h"

struct server {
    struct event_base *base;
    struct evconnlistener *listener;
    policy_t *policy;
    server_opts_t opts;
    sockspec_t spec;
    unsigned nconns;
    struct conn *conns;         /* every open connection, to close at exit */
    request_t req;              /* one at a time: the loop is single-threaded */
};

typedef struct conn {
    struct conn *next, *prev;
    server_t *s;
    struct bufferevent *bev;
    char peer[64];
    unsigned refs;
    bool busy;                  /* a request is being decided */
    bool closing;               /* reply written: close when flushed */
} conn_t;

static void process(conn_t *c);

static int64_t now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void conn_unref(conn_t *c)
{
    if (--c->refs > 0)
        return;
    if (c->bev != NULL)
        bufferevent_free(c->bev);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        c->s->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    c->s->nconns--;
    free(c);
}

/* The client is gone or must go: drop the socket now, the memory when
 * no decision is pending any more. */
static void conn_close(conn_t *c)
{
    if (c->bev != NULL) {
        bufferevent_free(c->bev);
        c->bev = NULL;
    }
    conn_unref(c);
}

static void on_reply(void *arg, const char *reply)
{
    conn_t *c = arg;

    c->busy = false;
    if (c->bev != NULL) {
        evbuffer_add_printf(bufferevent_get_output(c->bev), "%s\n\n", reply);
        process(c);
    }
    conn_unref(c);
}

static void refuse(conn_t *c, const char *why)
{
    log_warn("policyd: client %s: %s; closing the connection", c->peer, why);
    evbuffer_add_printf(bufferevent_get_output(c->bev),
                        "action=DEFER_IF_PERMIT 4.3.0 Malformed policy request\n\n");
    c->closing = true;
    bufferevent_disable(c->bev, EV_READ);
}

static void process(conn_t *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    char err[256];

    while (!c->busy && !c->closing) {
        size_t len = evbuffer_get_length(in), used = 0;
        size_t n = len > REQUEST_MAX_BYTES ? REQUEST_MAX_BYTES : len;
        if (len == 0)
            return;
        const char *data = (const char *) evbuffer_pullup(in, (ssize_t) n);
        switch (request_parse(data, n, &c->s->req, &used, err, sizeof(err))) {
        case REQUEST_PARTIAL:
            return;
        case REQUEST_BAD:
            refuse(c, err);
            return;
        case REQUEST_OK:
            evbuffer_drain(in, used);
            c->busy = true;
            c->refs++;
            if (policy_decide(c->s->policy, &c->s->req, now_us(), on_reply, c) < 0) {
                c->busy = false;
                c->refs--;
                refuse(c, "out of memory");
            }
            break;
        }
    }
}

static void on_read(struct bufferevent *bev, void *arg)
{
    (void) bev;
    process(arg);
}

static void on_write(struct bufferevent *bev, void *arg)
{
    conn_t *c = arg;

    (void) bev;
    if (c->closing && evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
        conn_close(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    conn_t *c = arg;

    (void) bev;
    if (what & BEV_EVENT_TIMEOUT)
        log_debug("policyd: client %s idle, closing", c->peer);
    else if ((what & BEV_EVENT_ERROR) && errno != ECONNRESET)
        log_debug("policyd: client %s: %s", c->peer, strerror(errno));
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
        conn_close(c);
}

static void peer_name(const struct sockaddr *sa, char *buf, size_t len)
{
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, buf, (socklen_t) len);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) sa)->sin6_addr, buf, (socklen_t) len);
    else
        snprintf(buf, len, "local");
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
    server_t *s = arg;
    conn_t *c;
    struct timeval idle = { s->opts.idle_timeout_ms / 1000,
                            (s->opts.idle_timeout_ms % 1000) * 1000 };
    int one = 1;

    (void) l;
    (void) salen;
    if (s->nconns >= s->opts.max_connections || (c = calloc(1, sizeof(*c))) == NULL) {
        log_warn("policyd: %u connections, refusing another", s->nconns);
        evutil_closesocket(fd);
        return;
    }
    if (sa->sa_family != AF_UNIX)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->s = s;
    c->refs = 1;
    peer_name(sa, c->peer, sizeof(c->peer));
    c->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL) {
        evutil_closesocket(fd);
        free(c);
        return;
    }
    s->nconns++;
    c->next = s->conns;
    if (s->conns != NULL)
        s->conns->prev = c;
    s->conns = c;
    /* Never buffer more than one request's worth. */
    bufferevent_setwatermark(c->bev, EV_READ, 0, REQUEST_MAX_BYTES + 1);
    bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
    bufferevent_set_timeouts(c->bev, &idle, NULL);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* ---- the listening socket ---- */

static int make_addr(const sockspec_t *ss, struct sockaddr_storage *st, socklen_t *len)
{
    memset(st, 0, sizeof(*st));
    if (ss->family == SOCKSPEC_UNIX) {
        struct sockaddr_un *un = (struct sockaddr_un *) st;
        un->sun_family = AF_UNIX;
        snprintf(un->sun_path, sizeof(un->sun_path), "%s", ss->path);
        *len = sizeof(*un);
    } else if (ss->family == SOCKSPEC_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *) st;
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t) ss->port);
        if (ss->host[0] && inet_pton(AF_INET, ss->host, &in->sin_addr) != 1)
            return -1;
        *len = sizeof(*in);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) st;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t) ss->port);
        if (ss->host[0] && inet_pton(AF_INET6, ss->host, &in6->sin6_addr) != 1)
            return -1;
        *len = sizeof(*in6);
    }
    return 0;
}

server_t *server_new(struct event_base *base, const server_opts_t *o, char *err,
                     size_t errlen)
{
    server_t *s = calloc(1, sizeof(*s));
    struct sockaddr_storage st;
    socklen_t len;

    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->base = base;
    s->opts = *o;
    if (sockspec_parse(o->listen, &s->spec, err, errlen) < 0
        || make_addr(&s->spec, &st, &len) < 0) {
        free(s);
        return NULL;
    }
    if (s->spec.family == SOCKSPEC_UNIX)
        unlink(s->spec.path);   /* a stale socket from a crash */
    s->listener = evconnlistener_new_bind(base, on_accept, s,
                                          LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE
                                          | LEV_OPT_CLOSE_ON_EXEC, 1024,
                                          (struct sockaddr *) &st, (int) len);
    if (s->listener == NULL) {
        snprintf(err, errlen, "cannot listen on %s: %s", o->listen, strerror(errno));
        free(s);
        return NULL;
    }
    if (s->spec.family == SOCKSPEC_UNIX)
        chmod(s->spec.path, o->socket_mode ? o->socket_mode : 0666);
    return s;
}

void server_set_policy(server_t *s, policy_t *p)
{
    s->policy = p;
}

unsigned server_connections(const server_t *s)
{
    return s->nconns;
}

void server_shutdown(server_t *s)
{
    for (conn_t *c = s->conns; c != NULL; c = c->next) {
        c->closing = true;
        if (c->bev != NULL)
            bufferevent_disable(c->bev, EV_READ);
    }
}

void server_free(server_t *s)
{
    if (s == NULL)
        return;
    /* Pending decisions hold their own reference and finish later. */
    for (conn_t *c = s->conns, *next; c != NULL; c = next) {
        next = c->next;
        conn_close(c);
    }
    evconnlistener_free(s->listener);
    if (s->spec.family == SOCKSPEC_UNIX)
        unlink(s->spec.path);
    free(s);
}
