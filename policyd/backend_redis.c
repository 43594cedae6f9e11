/*
 * backend_redis.c - limit state in Redis, shared by every postern-policyd
 * that points at the same server. Each decision is one Lua script run
 * (EVALSHA, with EVAL when the server does not have it yet), so the
 * GCRA update is atomic however many daemons and connections race on a
 * key. Commands are pipelined on one connection (hiredis async on the
 * daemon's libevent loop). An answer that takes longer than the timeout,
 * a lost connection or an error reply reports a failure, and the policy
 * applies its failure action; the connection is re-established with a
 * back-off from 100 ms to 10 s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <hiredis/adapters/libevent.h>
#include <openssl/sha.h>

#include "log.h"

#include "backend.h"
#include "backend_redis.h"
#include "redis_query.h"

/* The same arithmetic as gcra_apply(); numbers are microseconds, well
 * inside a double's exact integers. The key expires when its TAT has
 * passed, which is when its state stops mattering. */
static const char script[] =
    "local now = tonumber(ARGV[1])\n"
    "local t = tonumber(ARGV[2])\n"
    "local tol = tonumber(ARGV[3])\n"
    "local cost = tonumber(ARGV[4])\n"
    "local tat = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
    "local base = math.max(tat, now)\n"
    "if base - now > tol then base = now + tol end\n"
    "if cost * t > tol then return {0, -1, 0} end\n"
    "local nxt = base + cost * t\n"
    "if nxt - now > tol then\n"
    "  return {0, nxt - now - tol, math.floor((tol - (base - now)) / t)}\n"
    "end\n"
    "redis.call('SET', KEYS[1], string.format('%d', nxt), 'PX',\n"
    "           math.floor((nxt - now) / 1000) + 1000)\n"
    "return {1, 0, math.floor((tol - (nxt - now)) / t)}\n";

#define KEY_PREFIX "postern:rl:"

typedef struct rbackend {
    backend_t base;
    struct event_base *evb;
    redisAsyncContext *ac;
    bool connected, closing;
    char host[256];
    int port;                   /* 0: host is a unix socket path */
    struct timeval timeout;
    const struct timeval *common_timeout;   /* the same, O(1) to arm */
    int backoff_ms;
    struct event *retry;
    char sha[41];
    unsigned long errors;
    redis_query_t *query;       /* status reads, on a connection of their own */
} rbackend_t;

typedef struct rreq {
    rbackend_t *r;
    backend_done_fn done;
    void *arg;
    bool answered;
    struct event *timer;
    char argv_buf[5][32];
    char key[sizeof(KEY_PREFIX) + LIMIT_KEY_MAX];
} rreq_t;

static void connect_now(rbackend_t *r);

static void answer(rreq_t *q, int status, const gcra_result_t *res, const char *err)
{
    if (q->answered)
        return;
    q->answered = true;
    if (status < 0)
        q->r->errors++;
    q->done(q->arg, status, res, err);
}

/* hiredis always calls on_reply once per command (with no reply when
 * the connection goes), so that is where a request is freed; a timeout
 * only answers early. */
static void rreq_free(rreq_t *q)
{
    if (q->timer != NULL)
        event_free(q->timer);
    free(q);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    rreq_t *q = arg;

    (void) fd;
    (void) what;
    answer(q, -1, NULL, "redis did not answer in time");
}

static int parse_reply(const redisReply *rep, gcra_result_t *res)
{
    if (rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->elements != 3)
        return -1;
    for (size_t i = 0; i < 3; i++)
        if (rep->element[i]->type != REDIS_REPLY_INTEGER)
            return -1;
    res->allowed = rep->element[0]->integer == 1;
    res->retry_after_us = rep->element[1]->integer;
    res->remaining = (uint64_t) (rep->element[2]->integer < 0 ? 0 : rep->element[2]->integer);
    return 0;
}

static void send_script(rreq_t *q, bool by_sha);

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    rreq_t *q = privdata;
    redisReply *rep = reply;
    gcra_result_t res;

    (void) ac;
    if (rep != NULL && rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "NOSCRIPT", 8) == 0
        && !q->answered && q->r->connected) {
        send_script(q, false);  /* first use on this server: send the body */
        return;
    }
    if (parse_reply(rep, &res) == 0)
        answer(q, 0, &res, NULL);
    else
        answer(q, -1, NULL, rep && rep->type == REDIS_REPLY_ERROR ? rep->str
                                                                  : "redis connection lost");
    rreq_free(q);
}

static void send_script(rreq_t *q, bool by_sha)
{
    const char *argv[] = { by_sha ? "EVALSHA" : "EVAL", by_sha ? q->r->sha : script, "1",
                           q->key, q->argv_buf[0], q->argv_buf[1], q->argv_buf[2],
                           q->argv_buf[3] };

    if (redisAsyncCommandArgv(q->r->ac, on_reply, q, 8, argv, NULL) != REDIS_OK) {
        answer(q, -1, NULL, "cannot send to redis");
        rreq_free(q);
    }
}

/* V in decimal into BUF (32 bytes): snprintf costs more than the rest
 * of preparing a request. */
static void decimal(char *buf, long long v)
{
    char tmp[24];
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long) v : (unsigned long long) v;
    size_t n = 0, o = 0;

    do {
        tmp[n++] = (char) ('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        buf[o++] = '-';
    while (n > 0)
        buf[o++] = tmp[--n];
    buf[o] = '\0';
}

static void redis_apply(backend_t *b, const char *key, const gcra_params_t *p, int64_t now_us,
                        uint64_t cost, backend_done_fn done, void *arg)
{
    rbackend_t *r = (rbackend_t *) b;
    rreq_t *q;

    if (!r->connected || r->closing) {
        r->errors++;
        done(arg, -1, NULL, "redis not connected");
        return;
    }
    if ((q = calloc(1, sizeof(*q))) == NULL) {
        done(arg, -1, NULL, "out of memory");
        return;
    }
    q->r = r;
    q->done = done;
    q->arg = arg;
    size_t klen = strnlen(key, LIMIT_KEY_MAX - 1);
    memcpy(q->key, KEY_PREFIX, sizeof(KEY_PREFIX) - 1);
    memcpy(q->key + sizeof(KEY_PREFIX) - 1, key, klen);
    q->key[sizeof(KEY_PREFIX) - 1 + klen] = '\0';
    decimal(q->argv_buf[0], (long long) now_us);
    decimal(q->argv_buf[1], (long long) p->interval_us);
    decimal(q->argv_buf[2], (long long) p->tolerance_us);
    decimal(q->argv_buf[3], cost > (uint64_t) INT64_MAX ? INT64_MAX : (long long) cost);
    q->timer = evtimer_new(r->evb, on_timeout, q);
    if (q->timer != NULL)
        evtimer_add(q->timer, r->common_timeout);
    send_script(q, true);
}

/* Status reads: synchronous, see redis_query.h. */
static int redis_peek(backend_t *b, const char *key, int64_t *tat)
{
    rbackend_t *r = (rbackend_t *) b;
    char err[256];

    if (redis_query_get(r->query, key, tat, err, sizeof(err)) < 0) {
        log_warn("policyd: status query: %s", err);
        return -1;
    }
    return 0;
}

static int redis_scan(backend_t *b, const char *prefix,
                      void (*fn)(void *arg, const char *key, int64_t tat), void *arg)
{
    rbackend_t *r = (rbackend_t *) b;
    char err[256];
    long n = redis_query_scan(r->query, prefix, fn, arg, err, sizeof(err));

    if (n < 0) {
        log_warn("policyd: status query: %s", err);
        return -1;
    }
    if (n >= REDIS_QUERY_MAX_KEYS)
        log_warn("policyd: status: listed only the first %d keys of %s", REDIS_QUERY_MAX_KEYS,
                 prefix);
    return 0;
}

static void redis_tick(backend_t *b, int64_t now_us)
{
    (void) b;
    (void) now_us;              /* Redis expires keys itself */
}

/* ---- connection management ---- */

static void schedule_retry(rbackend_t *r)
{
    struct timeval tv = { r->backoff_ms / 1000, (r->backoff_ms % 1000) * 1000 };

    if (r->closing)
        return;
    evtimer_add(r->retry, &tv);
    r->backoff_ms = r->backoff_ms * 2 > 10000 ? 10000 : r->backoff_ms * 2;
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    rbackend_t *r = ac->data;

    if (status != REDIS_OK) {
        log_err("policyd: redis %s:%d: %s", r->host, r->port, ac->errstr);
        r->ac = NULL;           /* hiredis frees it */
        schedule_retry(r);
        return;
    }
    r->connected = true;
    r->backoff_ms = 100;
    log_info("policyd: connected to redis %s%s%d", r->host, r->port ? ":" : "",
             r->port);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    rbackend_t *r = ac->data;

    r->connected = false;
    r->ac = NULL;
    if (status != REDIS_OK && !r->closing) {
        log_err("policyd: lost the connection to redis: %s", ac->errstr);
        schedule_retry(r);
    }
}

static void connect_now(rbackend_t *r)
{
    r->ac = r->port ? redisAsyncConnect(r->host, r->port) : redisAsyncConnectUnix(r->host);
    if (r->ac == NULL || r->ac->err) {
        log_err("policyd: redis: %s", r->ac ? r->ac->errstr : "out of memory");
        if (r->ac != NULL)
            redisAsyncFree(r->ac);
        r->ac = NULL;
        schedule_retry(r);
        return;
    }
    r->ac->data = r;
    redisLibeventAttach(r->ac, r->evb);
    redisAsyncSetConnectCallback(r->ac, on_connect);
    redisAsyncSetDisconnectCallback(r->ac, on_disconnect);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void) fd;
    (void) what;
    connect_now(arg);
}

static void redis_free(backend_t *b)
{
    rbackend_t *r = (rbackend_t *) b;

    if (r == NULL)
        return;
    r->closing = true;
    if (r->ac != NULL)
        redisAsyncFree(r->ac);  /* pending callbacks run with no reply */
    event_free(r->retry);
    redis_query_free(r->query);
    free(r);
}

static const backend_ops_t redis_ops = {
    "redis", redis_apply, redis_peek, redis_scan, redis_tick, redis_free
};

static int parse_target(rbackend_t *r, const char *target, char *err, size_t errlen)
{
    const char *colon = strrchr(target, ':');

    if (target[0] == '/') {
        snprintf(r->host, sizeof(r->host), "%s", target);
        return 0;
    }
    if (colon == NULL || colon == target || (size_t) (colon - target) >= sizeof(r->host)
        || (r->port = atoi(colon + 1)) < 1 || r->port > 65535) {
        snprintf(err, errlen, "redis server '%s': want HOST:PORT or a socket path", target);
        return -1;
    }
    memcpy(r->host, target, (size_t) (colon - target));
    r->host[colon - target] = '\0';
    return 0;
}

backend_t *backend_redis_new(struct event_base *evb, const char *target, int timeout_ms,
                             char *err, size_t errlen)
{
    rbackend_t *r = calloc(1, sizeof(*r));
    unsigned char md[SHA_DIGEST_LENGTH];

    if (r == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->base.ops = &redis_ops;
    r->evb = evb;
    r->timeout.tv_sec = timeout_ms / 1000;
    r->timeout.tv_usec = (timeout_ms % 1000) * 1000;
    r->backoff_ms = 100;
    /* Every request waits the same time: a common timeout queue. */
    if ((r->common_timeout = event_base_init_common_timeout(evb, &r->timeout)) == NULL)
        r->common_timeout = &r->timeout;
    if (parse_target(r, target, err, errlen) < 0
        || (r->retry = evtimer_new(evb, on_retry, r)) == NULL
        || (r->query = redis_query_new(r->host, r->port, timeout_ms, KEY_PREFIX)) == NULL) {
        if (r->retry != NULL)
            event_free(r->retry);
        free(r);
        return NULL;
    }
    SHA1((const unsigned char *) script, strlen(script), md);
    for (int i = 0; i < SHA_DIGEST_LENGTH; i++)
        snprintf(r->sha + 2 * i, 3, "%02x", md[i]);
    connect_now(r);
    return &r->base;
}

bool backend_redis_connected(const backend_t *b)
{
    return ((const rbackend_t *) b)->connected;
}
