/*
 * spf_zone.h - an in-memory DNS zone as an SPF DNS source: the fixture
 * of the unit tests, the fuzz target and the RFC 7208 conformance runner.
 *
 * NAME
 *	spf_zone - SPF DNS source from a table of records
 *
 * SYNOPSIS
 *	spf_zone_t *z = spf_zone_new();
 *	spf_zone_add(z, "example.com", SPF_ZONE_TXT, "v=spf1 -all", 11);
 *	spf_zone_add(z, "slow.example.com", SPF_ZONE_TIMEOUT, NULL, 0);
 *	spf_dns_source_t src;
 *	spf_zone_source(z, &src);
 *	...
 *	spf_zone_free(z);
 *
 * DESCRIPTION
 *	Names compare without case and without a final dot. The rules are
 *	those of the openspf test suite (tests' README):
 *	- a name with no entry is NXDOMAIN; a name with entries but none of
 *	  the queried type is NODATA;
 *	- SPF_ZONE_SPF records are served as TXT when the name has no
 *	  SPF_ZONE_TXT (or SPF_ZONE_TXT_NONE) entry, since RFC 7208 dropped
 *	  the SPF RR type;
 *	- SPF_ZONE_TXT_NONE makes the name exist with no TXT record;
 *	  SPF_ZONE_NONE makes it exist and changes nothing else;
 *	- SPF_ZONE_TIMEOUT makes a query time out unless a record of the
 *	  queried type stands before it;
 *	- SPF_ZONE_CNAME is followed (at most 8 times; a loop times out).
 *	A and AAAA data are addresses in text form, MX data is the exchange
 *	name, PTR and CNAME the target name.
 *
 *	A built zone is read-only and may be queried from several threads.
 */
#ifndef POSTERN_SPF_ZONE_H
#define POSTERN_SPF_ZONE_H

#include <stddef.h>

#include "spf_dns.h"

typedef enum {
    SPF_ZONE_A, SPF_ZONE_AAAA, SPF_ZONE_TXT, SPF_ZONE_SPF, SPF_ZONE_MX,
    SPF_ZONE_PTR, SPF_ZONE_CNAME, SPF_ZONE_TIMEOUT, SPF_ZONE_TXT_NONE, SPF_ZONE_NONE
} spf_zone_kind_t;

typedef struct spf_zone spf_zone_t;

spf_zone_t *spf_zone_new(void);     /* NULL when out of memory */
void spf_zone_free(spf_zone_t *z);

/* Adds one entry for NAME. DATA of LEN bytes (NULL for TIMEOUT,
 * TXT_NONE and NONE). 0, or -1 for a bad address, a name too long or no memory. */
int spf_zone_add(spf_zone_t *z, const char *name, spf_zone_kind_t kind,
                 const char *data, size_t len);

/* Kind for a record type name: "A", "AAAA", "TXT", "SPF", "MX", "PTR",
 * "CNAME", "TIMEOUT"; 0, or -1 when unknown. */
int spf_zone_kind(const char *type, spf_zone_kind_t *out);

/* Fills SRC to answer from Z (borrowed). */
void spf_zone_source(spf_zone_t *z, spf_dns_source_t *src);

/* Number of queries answered so far (for tests of the lookup limits). */
unsigned long spf_zone_queries(const spf_zone_t *z);

#endif
