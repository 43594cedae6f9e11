/*
 * redis_query.c - synchronous reads of the limit state in Redis for the
 * status socket, on a connection apart from the back end's async one
 * (see redis_query.h for why it may block the loop, and for how long).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "redis_query.h"

#define SCAN_BATCH 1000
#define PATTERN_MAX 1400

struct redis_query {
    redisContext *c;
    char host[256];
    int port;
    struct timeval timeout;
    char prefix[64];
};

redis_query_t *redis_query_new(const char *host, int port, int timeout_ms, const char *prefix)
{
    redis_query_t *q = calloc(1, sizeof(*q));

    if (q == NULL)
        return NULL;
    snprintf(q->host, sizeof(q->host), "%s", host);
    snprintf(q->prefix, sizeof(q->prefix), "%s", prefix);
    q->port = port;
    q->timeout.tv_sec = timeout_ms / 1000;
    q->timeout.tv_usec = (timeout_ms % 1000) * 1000;
    return q;
}

static void drop(redis_query_t *q)
{
    if (q->c != NULL)
        redisFree(q->c);
    q->c = NULL;
}

void redis_query_free(redis_query_t *q)
{
    if (q == NULL)
        return;
    drop(q);
    free(q);
}

static int ensure_connected(redis_query_t *q, char *err, size_t errlen)
{
    if (q->c != NULL)
        return 0;
    q->c = q->port ? redisConnectWithTimeout(q->host, q->port, q->timeout)
                   : redisConnectUnixWithTimeout(q->host, q->timeout);
    if (q->c == NULL || q->c->err || redisSetTimeout(q->c, q->timeout) != REDIS_OK) {
        snprintf(err, errlen, "redis %s: %s", q->host, q->c ? q->c->errstr : "out of memory");
        drop(q);
        return -1;
    }
    return 0;
}

/* Runs one command; the reply (caller frees) or NULL with ERR, and a
 * connection that failed is dropped. */
static redisReply *command(redis_query_t *q, int argc, const char **argv, char *err,
                           size_t errlen)
{
    redisReply *rep;

    if (ensure_connected(q, err, errlen) < 0)
        return NULL;
    rep = redisCommandArgv(q->c, argc, argv, NULL);
    if (rep == NULL) {
        snprintf(err, errlen, "redis: %s", q->c->errstr[0] ? q->c->errstr : "no answer");
        drop(q);
        return NULL;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        snprintf(err, errlen, "redis: %s", rep->str);
        freeReplyObject(rep);
        return NULL;
    }
    return rep;
}

/* A TAT as the back end's script stores it; 0 for nil or junk. */
static int64_t tat_of(const redisReply *r)
{
    return r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : 0;
}

int redis_query_get(redis_query_t *q, const char *key, int64_t *tat, char *err, size_t errlen)
{
    char full[PATTERN_MAX];
    const char *argv[2] = { "GET", full };
    redisReply *rep;

    snprintf(full, sizeof(full), "%s%s", q->prefix, key);
    if ((rep = command(q, 2, argv, err, errlen)) == NULL)
        return -1;
    *tat = tat_of(rep);
    freeReplyObject(rep);
    return 0;
}

/* A SCAN pattern matching KEYPREFIX literally: glob characters in a
 * limit's name must not match other keys. */
static void pattern_of(const redis_query_t *q, const char *keyprefix, char *out, size_t len)
{
    size_t o = (size_t) snprintf(out, len, "%s", q->prefix);

    for (const char *s = keyprefix; *s && o + 3 < len; s++) {
        if (strchr("*?[]\\", *s) != NULL)
            out[o++] = '\\';
        out[o++] = *s;
    }
    out[o++] = '*';
    out[o] = '\0';
}

/* MGETs the keys of one SCAN batch and reports them to FN. */
static int report_batch(redis_query_t *q, const redisReply *keys,
                        void (*fn)(void *arg, const char *key, int64_t tat), void *arg,
                        char *err, size_t errlen)
{
    const char **argv = malloc((keys->elements + 1) * sizeof(*argv));
    size_t plen = strlen(q->prefix);
    redisReply *vals;

    if (argv == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    argv[0] = "MGET";
    for (size_t i = 0; i < keys->elements; i++)
        argv[i + 1] = keys->element[i]->type == REDIS_REPLY_STRING ? keys->element[i]->str : "";
    vals = command(q, (int) keys->elements + 1, argv, err, errlen);
    free(argv);
    if (vals == NULL)
        return -1;
    for (size_t i = 0; i < keys->elements && i < vals->elements; i++) {
        const redisReply *k = keys->element[i];
        if (k->type == REDIS_REPLY_STRING && k->len > plen)
            fn(arg, k->str + plen, tat_of(vals->element[i]));
    }
    freeReplyObject(vals);
    return 0;
}

long redis_query_scan(redis_query_t *q, const char *keyprefix,
                      void (*fn)(void *arg, const char *key, int64_t tat), void *arg,
                      char *err, size_t errlen)
{
    char pattern[PATTERN_MAX], cursor[32] = "0", count[16];
    const char *argv[6] = { "SCAN", cursor, "MATCH", pattern, "COUNT", count };
    long seen = 0;

    pattern_of(q, keyprefix, pattern, sizeof(pattern));
    snprintf(count, sizeof(count), "%d", SCAN_BATCH);
    do {
        redisReply *rep = command(q, 6, argv, err, errlen);
        if (rep == NULL)
            return -1;
        if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2
            || rep->element[0]->type != REDIS_REPLY_STRING
            || rep->element[1]->type != REDIS_REPLY_ARRAY) {
            snprintf(err, errlen, "redis: unexpected SCAN reply");
            freeReplyObject(rep);
            return -1;
        }
        snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
        int r = rep->element[1]->elements > 0
              ? report_batch(q, rep->element[1], fn, arg, err, errlen) : 0;
        seen += (long) rep->element[1]->elements;
        freeReplyObject(rep);
        if (r < 0)
            return -1;
    } while (strcmp(cursor, "0") != 0 && seen < REDIS_QUERY_MAX_KEYS);
    return seen < REDIS_QUERY_MAX_KEYS ? seen : REDIS_QUERY_MAX_KEYS;
}
