/*
 * dmarc_policy.h - from a DMARC verdict to what happens to the message:
 * the RFC 7489 6.6.1 rules for odd From fields, local overrides, the
 * admin's action for each outcome, the SMTP reply and the
 * Authentication-Results value. Pure: the milter applies the result.
 *
 * NAME
 *	dmarc_policy - local policy over DMARC verdicts
 *
 * SYNOPSIS
 *	dmarc_policy_t *pol = dmarc_policy_new(cfg, err, sizeof err);
 *	dmarc_authors_t au;
 *	dmarc_authors_collect(values, lens, nfields, &au);
 *	dmarc_outcome_t o;
 *	dmarc_policy_check(pol, ev, &au, &input, client_ip, &o);
 *	    o.action.applied, o.action.reply, o.verdict
 *	dmarc_policy_authres(&o, "mx.example.org", buf, sizeof buf);
 *	dmarc_policy_free(pol);
 *
 * DESCRIPTION
 *	Authors: a message must have exactly one From field holding exactly
 *	one address (RFC 7489 6.6.1). No From field or an empty one takes
 *	on_no_from; a field that does not parse, on_bad_from; several fields
 *	or addresses, on_multi_from, whose "evaluate" evaluates every
 *	distinct author domain and keeps the strictest outcome (a failing
 *	one over a passing one).
 *
 *	Actions: a fail under p=reject takes on_reject (the reply is
 *	550 5.7.1 naming the domain), under p=quarantine on_quarantine,
 *	under p=none accept (report only); temperror takes on_temperror,
 *	permerror on_permerror; pass and none accept.
 *
 *	Local overrides (RFC 7489 7.2 PolicyOverrideType): an author domain
 *	in never_reject_domains ("local_policy") or a client in
 *	trusted_forwarders ("trusted_forwarder") turns reject, quarantine
 *	and discard into accept; tempfail stays (it loses nothing).
 *
 *	Monitor mode: "applied" is always accept, "action" keeps what would
 *	have happened; the disposition reported is then none.
 */
#ifndef POSTERN_DMARC_POLICY_H
#define POSTERN_DMARC_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "mact.h"

#include "dmarc_eval.h"
#include "dmarc_from.h"

/* From fields one message may have before we stop reading them. */
#define DMARC_MAX_FROM_FIELDS 8

typedef enum {
    DMARC_AUTHORS_ONE = 0,      /* one field, one address */
    DMARC_AUTHORS_NONE,         /* no field, or no address */
    DMARC_AUTHORS_MULTI,        /* several fields or addresses */
    DMARC_AUTHORS_BAD           /* a field does not parse */
} dmarc_authors_kind_t;

typedef struct dmarc_authors {
    dmarc_authors_kind_t kind;
    size_t ndomains;            /* distinct author domains, in order */
    char domain[DMARC_FROM_MAX_ADDRS][DMARC_DOMAIN_MAX + 1];
} dmarc_authors_t;

typedef struct dmarc_action {
    mact_t action;              /* what policy says */
    mact_t applied;             /* accept in monitor mode, else action */
    mact_reply_t reply;         /* for reject and tempfail */
    dmarc_p_t dis;              /* disposition applied, for A-R and reports */
    const char *override;       /* NULL, "local_policy", "trusted_forwarder",
                                   "sampled_out" */
} dmarc_action_t;

typedef struct dmarc_outcome {
    dmarc_authors_kind_t authors;
    char from_domain[DMARC_DOMAIN_MAX + 1];  /* "" without a usable author */
    bool evaluated;             /* verdict is valid */
    dmarc_verdict_t verdict;
    dmarc_action_t action;
    char reason[400];
} dmarc_outcome_t;

typedef struct dmarc_policy dmarc_policy_t;

/* The [dmarc] keys of CFG (on_*, never_reject_domains,
 * trusted_forwarders, mode). NULL with ERR on a bad network. */
dmarc_policy_t *dmarc_policy_new(const config_t *cfg, char *err, size_t errlen);
void dmarc_policy_free(dmarc_policy_t *pol);

/*
 * dmarc_authors_collect - the author domains of a message from its
 * NFIELDS From field values (VALUES[i], LENS[i] bytes; NFIELDS may be 0).
 */
void dmarc_authors_collect(const char *const *values, const size_t *lens,
                           size_t nfields, dmarc_authors_t *out);

/*
 * dmarc_policy_check - evaluate AUTHORS with EV (IN gives the SPF and
 * DKIM data; its from_domain is ignored) and decide. CLIENT_IP may be
 * NULL. Fills OUT; returns 0, -1 for a NULL argument.
 */
int dmarc_policy_check(const dmarc_policy_t *pol, const dmarc_eval_t *ev,
                       const dmarc_authors_t *authors, const dmarc_input_t *in,
                       const char *client_ip, dmarc_outcome_t *out);

/* The decision for a verdict of FROM_DOMAIN (exposed for the tests). */
void dmarc_policy_decide(const dmarc_policy_t *pol, const dmarc_verdict_t *v,
                         const char *from_domain, const char *client_ip,
                         dmarc_action_t *out);

/*
 * dmarc_policy_authres - the Authentication-Results value for O under
 * AUTHSERV_ID: "id; dmarc=fail (p=reject dis=reject) header.from=d".
 * Returns its length, or -1 (BUF too small, unsafe input).
 */
int dmarc_policy_authres(const dmarc_outcome_t *o, const char *authserv_id,
                         char *buf, size_t buflen);

/* "one", "none", "multiple", "bad". */
const char *dmarc_authors_kind_name(dmarc_authors_kind_t k);

#endif
