/*
 * dmarc_from.h - the RFC5322.From field, reduced to what DMARC needs:
 * the domain of each author address (RFC 7489 section 3.1).
 *
 * NAME
 *	dmarc_from - parse a From field value into its author domains
 *
 * SYNOPSIS
 *	dmarc_from_t f;
 *	if (dmarc_from_parse(value, len, &f) == DMARC_FROM_OK)
 *	    for (size_t i = 0; i < f.naddrs; i++)
 *	        use(f.domain[i]);
 *
 * DESCRIPTION
 *	The value is an RFC 5322 address-list: mailboxes with or without a
 *	display name ("Ann <ann@example.com>", "ann@example.com (Ann)"),
 *	quoted local parts and display names, nested comments, groups
 *	("team: a@x.example, b@y.example;"), obsolete routes
 *	("<@relay:ann@example.com>"), folding white space and RFC 2047
 *	encoded words. An encoded word is a display-name word and never an
 *	address, whatever it decodes to or contains ("=?utf-8?q?a@b?="), so
 *	a sender cannot smuggle a second domain into a display name.
 *
 *	Domains are returned in lower case without a final dot. An address
 *	whose domain is a literal ("[192.0.2.1]") or not a host name is a
 *	syntax error: DMARC cannot be applied to it (RFC 7489 6.6.1).
 *
 *	The value is untrusted: it is read with its explicit length, never
 *	past it; longer than DMARC_FROM_MAX_LEN, comments nested deeper than
 *	DMARC_FROM_MAX_NEST or more than DMARC_FROM_MAX_ADDRS addresses give
 *	DMARC_FROM_LIMIT. Nothing is allocated.
 */
#ifndef POSTERN_DMARC_FROM_H
#define POSTERN_DMARC_FROM_H

#include <stddef.h>

#define DMARC_FROM_MAX_LEN 8192
#define DMARC_FROM_MAX_NEST 8
#define DMARC_FROM_MAX_ADDRS 16
#define DMARC_DOMAIN_MAX 253

typedef enum {
    DMARC_FROM_OK = 0,          /* naddrs >= 0 addresses parsed */
    DMARC_FROM_SYNTAX,          /* not an address-list, or a bad domain */
    DMARC_FROM_LIMIT            /* a limit above was passed */
} dmarc_from_status_t;

typedef struct dmarc_from {
    size_t naddrs;              /* addresses found (0 for an empty group) */
    char domain[DMARC_FROM_MAX_ADDRS][DMARC_DOMAIN_MAX + 1];
} dmarc_from_t;

/*
 * dmarc_from_parse - parse LEN bytes of VALUE (a From field body, with
 * or without folding) into OUT. Returns the status; OUT->naddrs is 0
 * unless DMARC_FROM_OK.
 */
dmarc_from_status_t dmarc_from_parse(const char *value, size_t len,
                                     dmarc_from_t *out);

/* "ok", "syntax", "limit". */
const char *dmarc_from_status_name(dmarc_from_status_t st);

#endif
