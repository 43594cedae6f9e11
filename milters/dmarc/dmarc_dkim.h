/*
 * dmarc_dkim.h - the DKIM side of a DMARC input from postern-dkim's
 * verification core (dkim_core), so that postern-dmarc verifies DKIM
 * with the same code as postern-dkim.
 *
 * NAME
 *	dmarc_dkim - DKIM signature results to DMARC input
 *
 * SYNOPSIS
 *	const dkim_sigres_t *r;
 *	size_t n = dkim_msg_results(msg, &r);
 *	dmarc_dkim_in_t d[DMARC_MAX_DKIM];
 *	size_t nd = dmarc_dkim_from_results(r, n, d, DMARC_MAX_DKIM);
 *	input.dkim = d; input.ndkim = nd;
 *
 * DESCRIPTION
 *	Each signature result becomes one DMARC DKIM entry (RFC 7489 3.1.1:
 *	the authenticated identifier is the d= domain). Results map one to
 *	one by meaning; "policy" (verified but not acceptable here, e.g.
 *	rsa-sha1) stays "policy", which never counts as a pass for
 *	alignment. Signatures whose d= was unusable (empty domain) carry no
 *	identifier and are left out. At most MAX entries are written; the
 *	entries point into R, which must outlive their use.
 */
#ifndef POSTERN_DMARC_DKIM_H
#define POSTERN_DMARC_DKIM_H

#include <stddef.h>

#include "dkim_result.h"

#include "dmarc_eval.h"

/* DMARC result for one DKIM result. */
dmarc_auth_t dmarc_dkim_auth(dkim_res_t r);

/* Fills OUT (room for MAX) from R[0..N); returns the entries written. */
size_t dmarc_dkim_from_results(const dkim_sigres_t *r, size_t n, dmarc_dkim_in_t *out,
                               size_t max);

#endif
