/*
 * spf_dnsr.h - the production DNS source of SPF evaluation: questions go
 * to the process's shared resolver (common/dns), so they share its cache
 * and its deadlines.
 *
 * NAME
 *	spf_dnsr - SPF DNS source on dnsr_t
 *
 * SYNOPSIS
 *	spf_dns_source_t src;
 *	spf_dnsr_source(&src, resolver);
 *
 * DESCRIPTION
 *	Fills SRC so that its queries go to R (borrowed: R must outlive
 *	every evaluation using SRC). DNSR_TIMEOUT, DNSR_SERVFAIL, DNSR_BOGUS
 *	and DNSR_ERROR all become SPF_DNS_TEMPFAIL. Records that do not
 *	decode are skipped.
 */
#ifndef POSTERN_SPF_DNSR_H
#define POSTERN_SPF_DNSR_H

#include "dns.h"

#include "spf_dns.h"

void spf_dnsr_source(spf_dns_source_t *src, dnsr_t *r);

#endif
