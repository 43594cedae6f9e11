/*
 * backend.h - where postern-policyd keeps the state of its limits: one
 * GCRA timestamp per key. One small table of operations, one file per
 * back end (backend_memory.c, backend_redis.c), chosen by config.
 *
 * NAME
 *	backend - limit state stores
 *
 * DESCRIPTION
 *	apply() adds COST to KEY under the limit's parameters at NOW and
 *	reports the GCRA result through DONE, atomically with respect to
 *	every other apply() on the same key (in this process and, for
 *	Redis, in every daemon sharing the server). DONE may run before
 *	apply() returns (memory) or later from the event loop (Redis); a
 *	status of -1 means the back end could not answer (ERR says why) and
 *	the caller applies its configured failure action.
 *
 *	peek() reads a key's state without changing it, for status queries.
 */
#ifndef POSTERN_BACKEND_H
#define POSTERN_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "gcra.h"

typedef struct backend backend_t;

typedef void (*backend_done_fn)(void *arg, int status, const gcra_result_t *res,
                                const char *err);

typedef struct backend_ops {
    const char *name;
    void (*apply)(backend_t *b, const char *key, const gcra_params_t *p, int64_t now_us,
                  uint64_t cost, backend_done_fn done, void *arg);
    /* 0 and *TAT (0 for an unknown key), or -1 (logged). Synchronous
     * in both back ends: Redis reads on a blocking connection of its
     * own, for status queries only. */
    int (*peek)(backend_t *b, const char *key, int64_t *tat);
    /* Calls FN for every live key starting with PREFIX; 0, or -1 when the
     * back end cannot list keys. */
    int (*scan)(backend_t *b, const char *prefix,
                void (*fn)(void *arg, const char *key, int64_t tat), void *arg);
    /* Periodic upkeep: expiry, snapshots. */
    void (*tick)(backend_t *b, int64_t now_us);
    void (*free)(backend_t *b);
} backend_ops_t;

struct backend {
    const backend_ops_t *ops;
};

/* In memory: at most MAX_KEYS keys (idle ones expire), saved to
 * SNAPSHOT (NULL or "": never) on tick and on free, and loaded from it
 * here. NULL with ERR on a bad snapshot path. */
backend_t *backend_memory_new(size_t max_keys, const char *snapshot, int64_t now_us,
                              char *err, size_t errlen);

/* Number of keys held (memory back end; tests and status). */
size_t backend_memory_count(const backend_t *b);

#endif
