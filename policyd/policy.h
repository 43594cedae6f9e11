/*
 * policy.h - the decision for one policy request: every limit that
 * applies is charged in the back end, and the reply is the most severe
 * action among the limits that are over (reject, then defer, then hold;
 * warn only logs). Each limit hit is logged and written to the audit log.
 *
 * NAME
 *	policy - from request to "action=..."
 *
 * DESCRIPTION
 *	policy_decide() calls REPLY exactly once, with the reply line
 *	without its empty line ("action=DUNNO"), either before it returns
 *	(memory back end) or later from the event loop (Redis). When the
 *	back end fails for some limit, the answer is the configured
 *	failure action: "action=DUNNO" (fail open, the default) or a 4.3.0
 *	deferral (fail closed), and the failure is logged. In monitor mode
 *	everything is decided, logged and audited, and the reply is DUNNO.
 *
 *	A request charges every limit that applies even when an earlier one
 *	is already over; the GCRA state only moves on requests it allows,
 *	so a refused message costs nothing under the limit that refused it.
 */
#ifndef POSTERN_POLICY_H
#define POSTERN_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "audit.h"

#include "backend.h"
#include "limit.h"
#include "request.h"

typedef struct policy policy_t;

typedef void (*policy_reply_fn)(void *arg, const char *reply);

typedef struct policy_opts {
    bool monitor;               /* mode = monitor */
    bool fail_closed;           /* on back end errors: defer instead of DUNNO */
} policy_opts_t;

/* LIMITS, BACKEND and AUDIT (may be NULL) stay owned by the caller. */
policy_t *policy_new(const limits_t *limits, backend_t *backend, audit_t *audit,
                     const policy_opts_t *opts);
void policy_free(policy_t *p);

/* -1 only when out of memory (REPLY not called). */
int policy_decide(policy_t *p, const request_t *req, int64_t now_us, policy_reply_fn reply,
                  void *arg);

/* Counters for status output. */
typedef struct policy_stats {
    unsigned long long requests, over_limit, backend_errors;
} policy_stats_t;
void policy_get_stats(const policy_t *p, policy_stats_t *out);

#endif
