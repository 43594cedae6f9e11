/*
 * dmarc_spf.h - the SPF side of a DMARC input from postern-spf's own
 * evaluation core (spf_core), so that postern-dmarc evaluates SPF with
 * the same code as postern-spf.
 *
 * NAME
 *	dmarc_spf - SPF verdict to DMARC input
 *
 * SYNOPSIS
 *	spf_verdict_t v;
 *	spf_eval_mailfrom(spf, ip, helo, mailfrom, &v);
 *	dmarc_spf_t s;
 *	dmarc_spf_from_verdict(&v, &s);
 *	dmarc_spf_input(&s, &input);
 *
 * DESCRIPTION
 *	The SPF-authenticated identifier of RFC 7489 3.1.2 is the domain
 *	spf_eval checked: the MAIL FROM domain, or the HELO name for the
 *	null sender (spf_eval checks postmaster@HELO then). The result maps
 *	one to one by name; the domain is kept in lower case.
 */
#ifndef POSTERN_DMARC_SPF_H
#define POSTERN_DMARC_SPF_H

#include <stdbool.h>

#include "spf_eval.h"

#include "dmarc_eval.h"
#include "dmarc_from.h"

typedef struct dmarc_spf {
    char domain[DMARC_DOMAIN_MAX + 1];
    bool helo;
    dmarc_auth_t result;
} dmarc_spf_t;

void dmarc_spf_from_verdict(const spf_verdict_t *v, dmarc_spf_t *out);

/* Points IN's SPF members into S (which must outlive IN's use). */
void dmarc_spf_input(const dmarc_spf_t *s, dmarc_input_t *in);

#endif
