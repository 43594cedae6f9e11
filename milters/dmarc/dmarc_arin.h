/*
 * dmarc_arin.h - SPF and DKIM results read from Authentication-Results
 * fields that our own milters added earlier in the chain, for the
 * optional mode where postern-dmarc trusts them instead of evaluating
 * SPF and DKIM itself.
 *
 * NAME
 *	dmarc_arin - DMARC input from trusted Authentication-Results
 *
 * SYNOPSIS
 *	dmarc_arin_t ar;
 *	dmarc_arin_reset(&ar);
 *	for each Authentication-Results field:
 *	    dmarc_arin_add(&ar, value, len, "mx.example.org");
 *	dmarc_input_t in = { .from_domain = ... };
 *	dmarc_arin_input(&ar, &in);
 *
 * DESCRIPTION
 *	Only fields carrying AUTHSERV_ID count (RFC 8601 section 5); the
 *	milter must already have removed the forged ones (mact.h), which
 *	works because Postfix and Sendmail show a later milter the fields an
 *	earlier one added. Fields that do not parse are ignored.
 *
 *	SPF: the first "spf" result with smtp.mailfrom (its domain part) or,
 *	failing that, smtp.helo. DKIM: every "dkim" result with header.d
 *	(or the domain of header.i), and header.s, up to DMARC_MAX_DKIM.
 *	Result names are RFC 8601's; an unknown one counts as permerror.
 */
#ifndef POSTERN_DMARC_ARIN_H
#define POSTERN_DMARC_ARIN_H

#include <stdbool.h>
#include <stddef.h>

#include "dmarc_eval.h"
#include "dmarc_from.h"

typedef struct dmarc_arin {
    bool have_spf;
    bool spf_helo;
    dmarc_auth_t spf_result;
    char spf_domain[DMARC_DOMAIN_MAX + 1];
    size_t ndkim;
    char dkim_domain[DMARC_MAX_DKIM][DMARC_DOMAIN_MAX + 1];
    char dkim_selector[DMARC_MAX_DKIM][64];
    dmarc_dkim_in_t dkim[DMARC_MAX_DKIM];
} dmarc_arin_t;

void dmarc_arin_reset(dmarc_arin_t *ar);

/* One field value of LEN bytes; returns 1 when it was ours and used,
 * 0 when ignored. */
int dmarc_arin_add(dmarc_arin_t *ar, const char *value, size_t len,
                   const char *authserv_id);

/* Sets IN's SPF and DKIM members to point into AR (which must outlive
 * IN's use, and not be copied meanwhile). */
void dmarc_arin_input(dmarc_arin_t *ar, dmarc_input_t *in);

#endif
