/*
 * attach_metrics.h - what postern-attach counts for the metrics listener:
 *
 *	postern_attach_decisions_total{cause,action}  counter
 *	    one per message: what decided (rule, limit, suspect, clean, or
 *	    error when the message could not be examined) and the action
 *	    (accept, tag, reject, tempfail, discard, quarantine)
 *	postern_attach_rule_hits_total{rule}          counter
 *	    messages decided by a rule, by the rule's name; rules added by a
 *	    later reload count as rule="other"
 *	postern_attach_parse_seconds                  histogram
 *	    time to walk one message's MIME tree, archives included
 *
 * Before attach_metrics_init() the updates do nothing.
 */
#ifndef POSTERN_ATTACH_METRICS_H
#define POSTERN_ATTACH_METRICS_H

#include "config.h"
#include "mact.h"

/* Registers the counters, one per rule of CFG. */
void attach_metrics_init(const config_t *cfg);
/* CAUSE as adecide names it, or "error"; RULE the decisive rule's name
 * when CAUSE is "rule", else NULL. */
void attach_metrics_decision(const char *cause, mact_t action, const char *rule);
void attach_metrics_parse(double ms);

#endif
