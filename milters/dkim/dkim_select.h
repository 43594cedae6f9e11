/*
 * dkim_select.h - does this message get signed or verified? A pure
 * decision on what the MTA told us about the client, and the From
 * domain that picks the signing key.
 *
 * NAME
 *	dkim_select - signer selection
 *
 * SYNOPSIS
 *	dkim_select_in_t in = { .internal = menv_client_in(e, nl),
 *	                        .auth = menv_auth(e),
 *	                        .daemon_name = menv_daemon_name(e) };
 *	const char *why;
 *	if (dkim_select_role(&in, &policy, &why) == DKIM_ROLE_SIGN) ...
 *
 *	char dom[254];
 *	if (dkim_from_domain(value, len, dom, sizeof(dom)) == 0) ...
 *
 * DESCRIPTION
 *	Mail is outbound, and signed, when it comes from an internal host
 *	(policy.sign_internal), from a SASL-authenticated client
 *	(policy.sign_authenticated; an empty {auth_authen} does not count)
 *	or through an MTA daemon whose {daemon_name} is in
 *	policy.sign_daemons (case-insensitive, as Postfix's
 *	milter_macro_daemon_name is free text). Everything else is
 *	inbound and verified. WHY is set to a constant that says which rule
 *	decided ("internal", "authenticated", "daemon", "inbound").
 *
 *	dkim_from_domain() takes the From field value as it arrived
 *	(untrusted, explicit length) and writes the domain of its address
 *	in lower case. It handles "Name <a@b>", "a@b (comment)" and quoted
 *	local parts. A From with no address, with several addresses (RFC
 *	5322 allows it; DKIM signers and DMARC refuse it), or a domain that
 *	is not a host name gives -1.
 */
#ifndef POSTERN_DKIM_SELECT_H
#define POSTERN_DKIM_SELECT_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { DKIM_ROLE_VERIFY = 0, DKIM_ROLE_SIGN } dkim_role_t;

typedef struct dkim_select_in {
    bool internal;              /* client in internal_hosts */
    const char *auth;           /* {auth_authen}, NULL when none */
    const char *daemon_name;    /* {daemon_name}, NULL when none */
} dkim_select_in_t;

typedef struct dkim_select_policy {
    bool sign_internal;
    bool sign_authenticated;
    const char *const *sign_daemons;
    size_t nsign_daemons;
} dkim_select_policy_t;

dkim_role_t dkim_select_role(const dkim_select_in_t *in, const dkim_select_policy_t *p,
                             const char **why);

/* Longest value dkim_from_domain reads; longer From fields are refused. */
#define DKIM_FROM_MAX 4096

/* 0 and the domain in OUT, or -1. */
int dkim_from_domain(const char *value, size_t len, char *out, size_t outlen);

#endif
