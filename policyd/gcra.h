/*
 * gcra.h - the Generic Cell Rate Algorithm: rate limiting with one
 * timestamp per key.
 *
 * NAME
 *	gcra - rate limit decisions, exact under concurrency
 *
 * SYNOPSIS
 *	gcra_params_t p;
 *	gcra_params_init(&p, 100, 3600 * GCRA_SECOND, 20, err, sizeof(err));
 *	gcra_result_t r = gcra_apply(&p, &key_tat, now_us, 1);
 *	if (!r.allowed) ... retry after r.retry_after_us
 *
 * DESCRIPTION
 *	A limit of RATE units per PERIOD lets one unit through every
 *	interval T = PERIOD / RATE, and up to BURST units at once. The only
 *	state per key is the theoretical arrival time TAT: the time at which
 *	the key would be back to an empty bucket. A request of COST units at
 *	time NOW is allowed when max(TAT, NOW) + COST*T - NOW <= BURST*T,
 *	and then moves TAT there; a refused request leaves TAT unchanged.
 *	Because the state is one number, a back end can apply a decision
 *	atomically (a compare-and-set, or a Redis script) and counting stays
 *	exact however many servers share the key; no log of events is kept.
 *
 *	Clock jumps: if the clock goes back, TAT could lie further ahead
 *	than a full burst; it is clamped to NOW + BURST*T, so a jump costs
 *	at most one burst of waiting, never a permanent block.
 *
 *	All functions are pure.
 */
#ifndef POSTERN_GCRA_H
#define POSTERN_GCRA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GCRA_SECOND 1000000LL   /* times are microseconds */

typedef struct gcra_params {
    int64_t interval_us;        /* T: one unit per this */
    int64_t tolerance_us;       /* BURST * T */
} gcra_params_t;

typedef struct gcra_result {
    bool allowed;
    int64_t retry_after_us;     /* when refused: wait this long */
    uint64_t remaining;         /* units still allowed right now */
} gcra_result_t;

/* RATE units per PERIOD_US, BURST at once (0: BURST = RATE). 0, or -1
 * with ERR for a rate of 0, a period under 1 ms or values that overflow. */
int gcra_params_init(gcra_params_t *p, uint64_t rate, int64_t period_us,
                     uint64_t burst, char *err, size_t errlen);

/* Applies COST units at NOW_US to the key whose TAT is *TAT (0 for a new
 * key) and updates *TAT when allowed. A cost above the burst is never
 * allowed. */
gcra_result_t gcra_apply(const gcra_params_t *p, int64_t *tat, int64_t now_us,
                         uint64_t cost);

/* When an idle key's state no longer matters (its TAT has passed). */
bool gcra_expired(int64_t tat, int64_t now_us);

/* Parses "100/1h", "5/30s", "2000/1d" into RATE and PERIOD_US. */
int gcra_parse_rate(const char *text, uint64_t *rate, int64_t *period_us,
                    char *err, size_t errlen);

#endif
