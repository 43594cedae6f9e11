/*
 * status.h - the status socket of postern-policyd, read by
 * "postern policyd status": counters, the state of one key, the top keys
 * of a limit. Same framing as the policy protocol: "name=value" lines
 * and an empty line, one command per connection.
 *
 *   command=stats                       -> requests=, over_limit=, ...
 *   command=key  limit=NAME key=VALUE   -> used=, remaining=, reset_in=
 *   command=top  limit=NAME count=N     -> key=VALUE used=N, most used first
 */
#ifndef POSTERN_STATUS_H
#define POSTERN_STATUS_H

#include <event2/event.h>

#include "backend.h"
#include "limit.h"
#include "policy.h"
#include "server.h"

typedef struct status status_t;

typedef struct status_view {
    const limits_t *limits;
    backend_t *backend;
    policy_t *policy;
    const server_t *server;     /* may be NULL (tests) */
} status_view_t;

/* Listens on SPEC (unix:PATH, mode 0660 for the daemon's group). */
status_t *status_new(struct event_base *base, const char *spec, char *err, size_t errlen);
/* What the next command sees (after start and each reload). */
void status_set_view(status_t *st, const status_view_t *view);
void status_free(status_t *st);

/* Pure: the reply to one command, written to OUT (empty line included).
 * Exposed for tests. */
void status_answer(const status_view_t *v, const request_t *cmd, int64_t now_us,
                   char *out, size_t outlen);

#endif
