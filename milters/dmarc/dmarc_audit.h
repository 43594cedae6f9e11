/*
 * dmarc_audit.h - what the audit log and syslog say about one DMARC
 * decision: every input and every intermediate result, so that "postern
 * why" can explain a rejection without re-running it.
 *
 * NAME
 *	dmarc_audit - audit "extra" object and log line for an outcome
 *
 * SYNOPSIS
 *	json_t *extra = dmarc_audit_extra(&outcome, &input);
 *	audit_record_t r = { .step = "dmarc", .result = ..., .extra = extra };
 *	json_decref(extra);
 *	dmarc_audit_line(&outcome, buf, sizeof buf);
 *	    -> "dmarc: example.com fail p=reject dis=reject action=reject (...)"
 *
 * DESCRIPTION
 *	The extra object holds: authors (one, none, multiple, bad),
 *	header_from, spf {domain, scope, result, aligned}, dkim [{domain,
 *	selector, result, aligned}], record {found, domain, org_domain, p,
 *	sp, pct, adkim, aspf, rua}, policy, used_sp, sampled_out, result,
 *	disposition, action, applied, override and reason. Strings that came
 *	from the network are copied as they are; the audit module makes them
 *	valid UTF-8.
 */
#ifndef POSTERN_DMARC_AUDIT_H
#define POSTERN_DMARC_AUDIT_H

#include <stddef.h>

#include <jansson.h>

#include "dmarc_eval.h"
#include "dmarc_policy.h"

/* A new object (caller json_decref()s), or NULL without memory. */
json_t *dmarc_audit_extra(const dmarc_outcome_t *o, const dmarc_input_t *in);

/* The syslog text after the queue id; its length (cut to BUFLEN). */
int dmarc_audit_line(const dmarc_outcome_t *o, char *buf, size_t buflen);

/* The audit "result" word: the DMARC result, or the authors problem
 * ("no-from", "multi-from", "bad-from") when none was evaluated. */
const char *dmarc_audit_result(const dmarc_outcome_t *o);

#endif
