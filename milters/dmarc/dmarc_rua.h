/*
 * dmarc_rua.h - may an aggregate report go to this rua address? RFC 7489
 * section 7.1: a destination outside the organization of the domain
 * that published the policy must say it accepts that domain's reports,
 * or anyone could point a policy at a victim's mailbox and have every
 * receiver in the world flood it.
 *
 * NAME
 *	dmarc_rua - external report destination authorization
 *
 * SYNOPSIS
 *	char why[320];
 *	switch (dmarc_rua_check(&src, psl, "example.com", "agg@reports.example",
 *	                        why, sizeof why)) {
 *	case DMARC_RUA_SAME_ORG: case DMARC_RUA_AUTHORIZED: send(); break;
 *	case DMARC_RUA_TEMPFAIL: retry_later(why); break;
 *	default: skip(why);
 *	}
 *
 * DESCRIPTION
 *	The destination host is the domain part of the address. When its
 *	organizational domain (Public Suffix List) is the policy domain's,
 *	no lookup is made. Otherwise the TXT records at
 *	<policy-domain>._report._dmarc.<destination-host> are asked through
 *	SRC; the destination is authorized when at least one of them starts
 *	with the DMARC version tag "v=DMARC1" (the same test as policy
 *	discovery, dmarc_record_is_dmarc). No such record, no such name, or
 *	a name too long to exist: unauthorized. A failed lookup: tempfail,
 *	so the caller may try again rather than drop the report for good.
 *
 *	A rua= tag inside the authorization record (7.1 lets the destination
 *	redirect to another address at the same host) is not followed: the
 *	report goes to the address the policy named.
 *
 *	WHY always holds one line naming the destination and the outcome,
 *	for the log.
 */
#ifndef POSTERN_DMARC_RUA_H
#define POSTERN_DMARC_RUA_H

#include <stddef.h>

#include "dmarc_psl.h"
#include "dmarc_record.h"

typedef enum {
    DMARC_RUA_SAME_ORG = 0,     /* inside the policy domain's organization */
    DMARC_RUA_AUTHORIZED,       /* external, with an authorization record */
    DMARC_RUA_UNAUTHORIZED,     /* external, no authorization record */
    DMARC_RUA_TEMPFAIL,         /* the lookup failed */
    DMARC_RUA_INVALID           /* no usable domain in the address or policy */
} dmarc_rua_status_t;

/*
 * dmarc_rua_check - the status of ADDRESS ("local@host") as a report
 * destination for POLICY_DOMAIN, with WHY filled.
 */
dmarc_rua_status_t dmarc_rua_check(const dmarc_source_t *src, const dmarc_psl_t *psl,
                                   const char *policy_domain, const char *address,
                                   char *why, size_t whylen);

/* "same-organization", "authorized", "unauthorized", "tempfail",
 * "invalid". */
const char *dmarc_rua_status_name(dmarc_rua_status_t st);

#endif
