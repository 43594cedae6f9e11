/*
 * dnscache.h - answers the resolver already has, handed out in the
 * calling thread.
 *
 * NAME
 *	dnscache - bounded TTL cache in front of the resolver
 *
 * SYNOPSIS
 *	dnscache_t *c = dnscache_new(10000, free_result);
 *	void *res; int status;
 *	dnscache_entry_t *e = dnscache_get(c, "example.org", 16, now_s, &res, &status);
 *	...  res is valid until dnscache_release(c, e)
 *	e = dnscache_put(c, "example.org", 16, res, status, ttl_s, now_s);
 *	dnscache_free(c);
 *
 * DESCRIPTION
 *	libunbound has a cache of its own, but reaching it goes through its
 *	worker thread: about 150 us of thread hand-offs per lookup, which is
 *	most of an SPF check. This cache answers repeated lookups under one
 *	mutex in the caller's thread.
 *
 *	Entries are keyed by the name (case-insensitive, without a trailing
 *	dot) and the RR type, and live for the answer's TTL (at most
 *	DNSCACHE_MAX_TTL). A result is an opaque pointer the cache owns
 *	once stored and frees with the FREE_RESULT callback when the last
 *	holder releases it: an entry that expires or is evicted while a
 *	caller still reads it stays valid for that caller.
 *
 *	At MAX_ENTRIES, expired entries near the new one's bucket make room,
 *	else the one of them that expires first; when none is near, the new
 *	answer is simply not cached.
 *
 *	dnscache_free() may come before the last release: held entries keep
 *	the cache alive until they are released (answers may outlive the
 *	resolver that made them).
 *
 *	All functions are thread-safe.
 */
#ifndef POSTERN_DNSCACHE_H
#define POSTERN_DNSCACHE_H

#include <stddef.h>

#define DNSCACHE_MAX_TTL 86400

typedef struct dnscache dnscache_t;
typedef struct dnscache_entry dnscache_entry_t;

/* NULL when out of memory. */
dnscache_t *dnscache_new(size_t max_entries, void (*free_result)(void *res));
void dnscache_free(dnscache_t *c);

/* A live entry for NAME/TYPE at time NOW_S (seconds, monotonic), held
 * for the caller, with its result and status; NULL on a miss. */
dnscache_entry_t *dnscache_get(dnscache_t *c, const char *name, int type, long now_s,
                               void **res, int *status);

/* Stores RES (taken over by the cache) for TTL_S seconds and returns it
 * held for the caller. NULL when not stored (TTL 0, no room, no memory,
 * name too long): RES then stays the caller's. */
dnscache_entry_t *dnscache_put(dnscache_t *c, const char *name, int type, void *res,
                               int status, unsigned ttl_s, long now_s);

void dnscache_release(dnscache_t *c, dnscache_entry_t *e);

/* Entries stored now (for tests and metrics). */
size_t dnscache_count(dnscache_t *c);

#endif
