/*
 * mnamed.h - one counter per name the admin configured (a rate limit, an
 * attachment rule), for metrics such as hits per limit.
 *
 * NAME
 *	mnamed - counters labelled by configured names
 *
 * SYNOPSIS
 *	const char *names[] = { "per-sender", "per-ip" };
 *	mnamed_t *hits = mnamed_new("postern_policyd_limit_hits_total",
 *	                            "Limit hits by limit.", "limit", names, 2);
 *	mnamed_add(hits, "per-sender", 1);
 *
 * DESCRIPTION
 *	The metrics registry is fixed once serving starts (metrics.h), but a
 *	reload may bring names that did not exist at start. So the counters
 *	are the names of the start-up config, at most MNAMED_MAX of them,
 *	plus one labelled "other" that counts every name not registered.
 *	Label values keep letters, digits and ".-_:@"; any other byte
 *	becomes '_' (the text format would need escapes for quotes).
 *	mnamed_add() looks the name up without a lock (the table never
 *	changes after mnamed_new) and does nothing on a NULL table.
 */
#ifndef POSTERN_MNAMED_H
#define POSTERN_MNAMED_H

#include <stddef.h>
#include <stdint.h>

#define MNAMED_MAX 32

typedef struct mnamed mnamed_t;

/* NULL when out of memory. METRIC, HELP and LABEL are copied. */
mnamed_t *mnamed_new(const char *metric, const char *help, const char *label,
                     const char *const *names, size_t n);
void mnamed_add(mnamed_t *m, const char *name, uint64_t n);
/* The metrics stay registered; only the lookup table goes. */
void mnamed_free(mnamed_t *m);

#endif
