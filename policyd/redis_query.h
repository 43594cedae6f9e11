/*
 * redis_query.h - the admin's reads of the Redis limit state, for
 * "postern policyd status" (see status.h): one key's TAT and every key
 * of a limit.
 *
 * NAME
 *	redis_query - synchronous status reads beside the async back end
 *
 * DESCRIPTION
 *	Status answers are built synchronously (status_answer), while the
 *	back end's decisions go through hiredis' async API on the event
 *	loop. So the queries use a connection of their own, blocking and
 *	bounded by the back end's timeout for connect and for each reply;
 *	the loop (and so the policy requests) waits for them. That is
 *	acceptable for an admin command: a key is one GET; a listing is
 *	SCAN batches of SCAN_BATCH keys with one MGET each, and stops after
 *	REDIS_QUERY_MAX_KEYS keys (the answer then says it is partial).
 *	A failed query drops the connection; the next one reconnects.
 *
 *	Keys are given and reported without the back end's Redis prefix.
 */
#ifndef POSTERN_REDIS_QUERY_H
#define POSTERN_REDIS_QUERY_H

#include <stddef.h>
#include <stdint.h>

#define REDIS_QUERY_MAX_KEYS 100000

typedef struct redis_query redis_query_t;

/* Nothing is connected yet. PREFIX (e.g. "postern:rl:") is copied;
 * PORT 0 means HOST is a unix socket path. NULL when out of memory. */
redis_query_t *redis_query_new(const char *host, int port, int timeout_ms, const char *prefix);
void redis_query_free(redis_query_t *q);

/* 0 and *TAT (0 when the key is absent or expired), or -1 with ERR. */
int redis_query_get(redis_query_t *q, const char *key, int64_t *tat, char *err, size_t errlen);

/* Calls FN for each key starting with KEYPREFIX; the number of keys
 * seen (REDIS_QUERY_MAX_KEYS when cut short), or -1 with ERR. */
long redis_query_scan(redis_query_t *q, const char *keyprefix,
                      void (*fn)(void *arg, const char *key, int64_t tat), void *arg,
                      char *err, size_t errlen);

#endif
