/*
 * dmarc_metrics.h - what postern-dmarc counts for the metrics listener:
 *
 *	postern_dmarc_results_total{result}               counter
 *	    one per message: none, pass, fail, temperror, permerror, or,
 *	    when no single author domain could be evaluated, no-from,
 *	    multi-from, bad-from
 *	postern_dmarc_dispositions_total{policy,disposition} counter
 *	    messages whose domain publishes a record: its policy (p=, or sp=
 *	    for a subdomain) and the disposition applied after pct=, local
 *	    policy and overrides (none, quarantine, reject)
 *
 * Before dmarc_metrics_init() the updates do nothing.
 */
#ifndef POSTERN_DMARC_METRICS_H
#define POSTERN_DMARC_METRICS_H

#include "config.h"

#include "dmarc_policy.h"

void dmarc_metrics_init(const config_t *cfg);
void dmarc_metrics_outcome(const dmarc_outcome_t *o);

#endif
