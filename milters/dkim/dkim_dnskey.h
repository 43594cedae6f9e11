/*
 * dkim_dnskey.h - the key source that fetches DKIM public keys through
 * common/dns: SELECTOR._domainkey.DOMAIN TXT.
 *
 * NAME
 *	dkim_dnskey - DKIM key records from DNS
 *
 * SYNOPSIS
 *	dkim_engine_opts_t o = { .keysrc = dkim_dnskey_lookup, .keysrc_arg = dnsr };
 *
 * DESCRIPTION
 *	dkim_dnskey_lookup() is a dkim_keysrc_fn; ARG is a dnsr_t. The
 *	record's character-strings are joined (RFC 6376 3.6.2.2). When a
 *	name has several TXT records, the first that carries a "p=" tag is
 *	used. NXDOMAIN and "no TXT record" are DKIM_KEYSRC_NOTFOUND (RFC
 *	6376 6.1.2: no key, a permanent failure); timeouts, SERVFAIL and
 *	other errors are DKIM_KEYSRC_TEMP. A selector or domain that makes
 *	no DNS name is NOTFOUND, without a query.
 *
 *	dkim_dnskey_name() builds the query name; 0, or -1 when it does not
 *	fit or the parts hold characters no DNS name has.
 */
#ifndef POSTERN_DKIM_DNSKEY_H
#define POSTERN_DKIM_DNSKEY_H

#include <stddef.h>

#include "dkim_engine.h"

dkim_keysrc_t dkim_dnskey_lookup(void *arg, const char *selector, const char *domain,
                                 char *buf, size_t buflen);
int dkim_dnskey_name(const char *selector, const char *domain, char *out, size_t outlen);

#endif
