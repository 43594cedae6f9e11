/*
 * spf_policy.h - what postern-spf does with an SPF result: whether a
 * message is checked at all, and which action and reply a result gets.
 * Pure: no libmilter, no DNS; built once per config.
 *
 * NAME
 *	spf_policy - skip rules and result -> action
 *
 * SYNOPSIS
 *	spf_policy_t *p = spf_policy_new(cfg, "spf", err, sizeof err);
 *	spf_skip_t s = spf_policy_skip(p, "192.0.2.1", auth_user);
 *	spf_decision_t d;
 *	spf_policy_decide(p, &verdict, "192.0.2.1", &d);
 *	spf_policy_free(p);
 *
 * DESCRIPTION
 *	Skips, first match wins: a client in [global] internal_hosts, a
 *	SASL-authenticated sender (skip_authenticated), a client in
 *	trusted_relays. Mail from them was not sent by a stranger through
 *	an SPF-relevant path, so checking it would only produce false fails.
 *
 *	Actions: on_RESULT gives the action per result; domain_overrides
 *	entries "DOMAIN:RESULT=ACTION" replace it for the checked domain
 *	("example.com" itself, ".example.com" its subdomains; RESULT "all"
 *	for every result). The first matching override wins.
 *
 *	Replies (RFC 7208 8.4, RFC 7372): fail and softfail use X.7.23 (SPF
 *	validation failed), temperror and permerror X.7.24 (validation
 *	error), any other result X.7.1 (local policy); reject is 550 5.x.x,
 *	tempfail 451 4.x.x. A fail's text is the domain's explanation when
 *	it gave one.
 *	The text is plain and may hold sender-controlled text; the caller
 *	makes it safe with mact_reply_init.
 *
 * RETURNS
 *	spf_policy_new: NULL with ERR naming the bad key or entry.
 */
#ifndef POSTERN_SPF_POLICY_H
#define POSTERN_SPF_POLICY_H

#include <stddef.h>

#include "config.h"
#include "mact.h"

#include "spf_eval.h"

#define SPF_POLICY_MAX_OVERRIDES 256

typedef enum {
    SPF_SKIP_NONE = 0, SPF_SKIP_INTERNAL, SPF_SKIP_AUTHENTICATED, SPF_SKIP_RELAY
} spf_skip_t;

typedef struct spf_decision {
    mact_t action;
    const char *xcode;          /* "5.7.23"; NULL when the action has no reply */
    char text[400];             /* reply text */
    const char *rule;           /* "on_fail" or "domain_overrides" */
} spf_decision_t;

typedef struct spf_policy spf_policy_t;

spf_policy_t *spf_policy_new(const config_t *cfg, const char *section,
                             char *err, size_t errlen);
void spf_policy_free(spf_policy_t *p);

/* CLIENT_IP as text; AUTH the SASL login or NULL. */
spf_skip_t spf_policy_skip(const spf_policy_t *p, const char *client_ip,
                           const char *auth);
/* "none", "internal", "authenticated", "trusted-relay". */
const char *spf_skip_name(spf_skip_t s);

/* Action and reply for V; CLIENT_IP goes into the default reply text. */
void spf_policy_decide(const spf_policy_t *p, const spf_verdict_t *v,
                       const char *client_ip, spf_decision_t *d);

#endif
