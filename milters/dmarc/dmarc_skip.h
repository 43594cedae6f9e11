/*
 * dmarc_skip.h - is this message ours, going out, and so not for DMARC?
 * Pure: decided on what the MTA told us about the client.
 *
 * NAME
 *	dmarc_skip - outbound mail is not evaluated
 *
 * SYNOPSIS
 *	dmarc_skip_t *s = dmarc_skip_new(cfg, err, sizeof err);
 *	const char *why = dmarc_skip_reason(s, env);
 *	if (why != NULL) ...not evaluated, audited as "skipped" (why)...
 *	dmarc_skip_free(s);
 *
 * DESCRIPTION
 *	DMARC protects receivers from mail that claims a domain it did not
 *	come from. Mail our own users send (a client in [global]
 *	internal_hosts, a SASL-authenticated client, or an MTA daemon named
 *	in skip_daemons) is the domain's own mail on its way out: in a chain
 *	postern-spf does not check it and postern-dkim signs it without a
 *	dkim= result, so evaluating it would fail our own p=reject.
 *
 *	The rule is postern-dkim's choice of the sign role (dkim_select),
 *	with [dmarc] skip_internal, skip_authenticated and skip_daemons in
 *	place of [dkim] sign_internal, sign_authenticated and sign_daemons;
 *	the defaults match, so what postern-dkim signs DMARC lets through.
 *
 * RETURNS
 *	dmarc_skip_new: NULL with ERR naming the bad key or entry.
 *	dmarc_skip_reason: NULL (evaluate), or "internal", "authenticated"
 *	or "daemon".
 */
#ifndef POSTERN_DMARC_SKIP_H
#define POSTERN_DMARC_SKIP_H

#include <stddef.h>

#include "config.h"
#include "menv.h"

typedef struct dmarc_skip dmarc_skip_t;

dmarc_skip_t *dmarc_skip_new(config_t *cfg, char *err, size_t errlen);
void dmarc_skip_free(dmarc_skip_t *s);

const char *dmarc_skip_reason(const dmarc_skip_t *s, const menv_t *e);

#endif
