/*
 * backend_redis.h - the Redis back end of postern-policyd (see
 * backend_redis.c): limits shared by several MTAs.
 */
#ifndef POSTERN_BACKEND_REDIS_H
#define POSTERN_BACKEND_REDIS_H

#include <stdbool.h>

#include <event2/event.h>

#include "backend.h"
#include "limit.h"

/* TARGET is "HOST:PORT" or a unix socket path; connects in the
 * background on EVB. NULL with ERR only for a bad TARGET. */
backend_t *backend_redis_new(struct event_base *evb, const char *target, int timeout_ms,
                             char *err, size_t errlen);
bool backend_redis_connected(const backend_t *b);

#endif
