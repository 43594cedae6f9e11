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
    const struct timeval *idle; /* a libevent common timeout: O(1) to re-arm */
};

/* Plain events and read(2)/write(2) rather than bufferevents: a request
 * then costs one read and one write, the floor for this protocol. */
typedef struct conn {
    struct conn *next, *prev;
    server_t *s;
    evutil_socket_t fd;         /* -1 once closed */
    struct event *rev, *wev;
    char peer[64];
    char *in;                   /* unparsed input, grows up to the bound */
    size_t inlen, incap;
    char *out;                  /* replies the socket did not take yet */
    size_t outlen, outcap;
    unsigned refs;
    bool busy;                  /* a request is being decided */
    bool in_process;            /* process() is on the stack */
    bool closing;               /* close once the output is written */
} conn_t;

#define IN_FIRST 2048
#define IN_MAX (REQUEST_MAX_BYTES + 1)

static void process(conn_t *c);
static void flush(conn_t *c);

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
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        c->s->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    c->s->nconns--;
    free(c->in);
    free(c->out);
    free(c);
}

/* Drop the socket now, the memory when no decision is pending. */
static void conn_close(conn_t *c)
{
    if (c->fd < 0)
        return;
    event_free(c->rev);
    if (c->wev != NULL)
        event_free(c->wev);
    evutil_closesocket(c->fd);
    c->fd = -1;
    conn_unref(c);
}

static int out_append(conn_t *c, const char *text, size_t n)
{
    if (c->outlen + n > c->outcap) {
        size_t cap = c->outcap ? c->outcap * 2 : 512;
        while (cap < c->outlen + n)
            cap *= 2;
        char *o = realloc(c->out, cap);
        if (o == NULL)
            return -1;
        c->out = o;
        c->outcap = cap;
    }
    memcpy(c->out + c->outlen, text, n);
    c->outlen += n;
    return 0;
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    flush(arg);
}

/* Writes what is pending; waits for the socket when it is full. */
static void flush(conn_t *c)
{
    while (c->fd >= 0 && c->outlen > 0) {
        ssize_t n = write(c->fd, c->out, c->outlen);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (c->wev == NULL)
                c->wev = event_new(c->s->base, c->fd, EV_WRITE | EV_PERSIST, on_writable, c);
            if (c->wev != NULL)
                event_add(c->wev, NULL);
            return;
        }
        if (n <= 0) {
            conn_close(c);
            return;
        }
        memmove(c->out, c->out + n, c->outlen - (size_t) n);
        c->outlen -= (size_t) n;
    }
    if (c->wev != NULL)
        event_del(c->wev);
    if (c->fd >= 0 && c->closing && c->outlen == 0)
        conn_close(c);
}

static void on_reply(void *arg, const char *reply)
{
    conn_t *c = arg;
    size_t n = strlen(reply);

    c->busy = false;
    if (c->fd >= 0) {
        if (out_append(c, reply, n) < 0 || out_append(c, "\n\n", 2) < 0)
            c->closing = true;
        /* Decided at once (memory back end): process() goes on with the
         * batch and writes; decided later (Redis): go on from here. */
        if (!c->in_process)
            process(c);
    }
    conn_unref(c);
}

static void refuse(conn_t *c, const char *why)
{
    static const char reply[] = "action=DEFER_IF_PERMIT 4.3.0 Malformed policy request\n\n";

    log_warn("policyd: client %s: %s; closing the connection", c->peer, why);
    out_append(c, reply, sizeof(reply) - 1);
    c->closing = true;
    c->inlen = 0;
}

/* Decides every complete request in the input, then writes the replies
 * in one go. */
static void process(conn_t *c)
{
    char err[256];
    size_t pos = 0, used;

    c->refs++;                  /* on_reply may run inside; keep c */
    c->in_process = true;
    while (!c->busy && !c->closing && pos < c->inlen) {
        switch (request_parse(c->in + pos, c->inlen - pos, &c->s->req, &used, err,
                              sizeof(err))) {
        case REQUEST_PARTIAL:
            goto done;
        case REQUEST_BAD:
            refuse(c, err);
            goto done;
        case REQUEST_OK:
            pos += used;
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
done:
    c->in_process = false;
    if (pos > 0 && c->inlen > 0) {
        memmove(c->in, c->in + pos, c->inlen - pos);
        c->inlen -= pos;
    }
    flush(c);
    conn_unref(c);
}

static int grow_input(conn_t *c)
{
    size_t cap = c->incap ? c->incap * 2 : IN_FIRST;
    char *in;

    if (c->incap >= IN_MAX)
        return -1;
    if (cap > IN_MAX)
        cap = IN_MAX;
    if ((in = realloc(c->in, cap)) == NULL)
        return -1;
    c->in = in;
    c->incap = cap;
    return 0;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    conn_t *c = arg;
    ssize_t n;

    if (what & EV_TIMEOUT) {
        log_debug("policyd: client %s idle, closing", c->peer);
        conn_close(c);
        return;
    }
    if (c->busy || c->closing)
        return;                 /* one request at a time; the rest waits */
    if (c->inlen == c->incap && grow_input(c) < 0) {
        refuse(c, "request longer than 16384 bytes");
        flush(c);               /* may free c */
        return;
    }
    n = read(fd, c->in + c->inlen, c->incap - c->inlen);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) {
        if (n < 0 && errno != ECONNRESET)
            log_debug("policyd: client %s: %s", c->peer, strerror(errno));
        conn_close(c);
        return;
    }
    c->inlen += (size_t) n;
    c->refs++;                  /* process() may close the connection */
    process(c);
    /* An idle connection gives its big buffer back. */
    if (c->fd >= 0 && c->inlen == 0 && c->incap > IN_FIRST) {
        free(c->in);
        c->in = NULL;
        c->incap = 0;
    }
    conn_unref(c);
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
    evutil_make_socket_nonblocking(fd);
    c->s = s;
    c->fd = fd;
    c->refs = 1;
    peer_name(sa, c->peer, sizeof(c->peer));
    c->rev = event_new(s->base, fd, EV_READ | EV_PERSIST, on_readable, c);
    if (c->rev == NULL || event_add(c->rev, s->idle) < 0) {
        if (c->rev != NULL)
            event_free(c->rev);
        evutil_closesocket(fd);
        free(c);
        return;
    }
    s->nconns++;
    c->next = s->conns;
    if (s->conns != NULL)
        s->conns->prev = c;
    s->conns = c;
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
    /* Every connection has the same idle timeout, re-armed at each
     * request: a common timeout keeps them in a queue instead of the
     * timer heap. */
    struct timeval idle = { o->idle_timeout_ms / 1000, (o->idle_timeout_ms % 1000) * 1000 };
    if ((s->idle = event_base_init_common_timeout(base, &idle)) == NULL) {
        snprintf(err, errlen, "out of memory");
        free(s);
        return NULL;
    }
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
        if (c->fd >= 0)
            event_del(c->rev);
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
