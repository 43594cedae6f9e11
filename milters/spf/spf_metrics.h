/*
 * spf_metrics.h - what postern-spf counts for the metrics listener:
 *
 *	postern_spf_results_total{identity,result}   counter
 *	    one per identity checked: identity "mailfrom" or "helo", result
 *	    pass, fail, softfail, neutral, none, temperror or permerror
 *	postern_spf_skipped_total{reason}            counter
 *	    messages not checked: internal, authenticated, trusted-relay
 *
 * Before spf_metrics_init() the updates do nothing.
 */
#ifndef POSTERN_SPF_METRICS_H
#define POSTERN_SPF_METRICS_H

#include "config.h"

#include "spf_eval.h"
#include "spf_policy.h"

void spf_metrics_init(const config_t *cfg);
void spf_metrics_result(spf_identity_t id, spf_result_t r);
void spf_metrics_skipped(spf_skip_t why);

#endif
