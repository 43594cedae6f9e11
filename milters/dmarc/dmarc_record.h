/*
 * dmarc_record.h - DMARC policy discovery (RFC 7489 section 6.6.3):
 * which TXT record at _dmarc.<domain> or _dmarc.<organizational domain>
 * governs a message. The record source is an interface, so the core is
 * tested with records in memory and runs on common/dns in the daemon.
 *
 * NAME
 *	dmarc_record - find the one DMARC record for an author domain
 *
 * SYNOPSIS
 *	dmarc_source_t src = dmarc_source_dns(resolver);
 *	dmarc_record_t rec;
 *	dmarc_record_discover(&src, psl, "mail.example.com", &rec);
 *	if (rec.status == DMARC_REC_FOUND) use(rec.text, rec.domain);
 *
 * DESCRIPTION
 *	TXT records not starting with "v=DMARC1" are discarded. Exactly one
 *	left: found. None (or no such name): the organizational domain is
 *	asked the same way when it differs. Several: discovery ends with
 *	DMARC_REC_MULTIPLE and DMARC does not apply (6.6.3 step 5; no
 *	fallback). A DNS failure (SERVFAIL, timeout, bogus) at either step
 *	is DMARC_REC_TEMPERROR: the sender may publish a policy we could not
 *	see.
 *
 *	Record text is untrusted. A record longer than DMARC_RECORD_MAX or
 *	holding a NUL byte is DMARC_REC_INVALID (permerror): the parser
 *	downstream works on C strings in fixed buffers and would see a
 *	different record than the one published.
 */
#ifndef POSTERN_DMARC_RECORD_H
#define POSTERN_DMARC_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include "dns.h"

#include "dmarc_from.h"
#include "dmarc_psl.h"

#define DMARC_RECORD_MAX 4000

typedef enum {
    DMARC_SRC_FOUND = 0,        /* the name has TXT records (passed to EACH) */
    DMARC_SRC_NONE,             /* no such name, or no TXT records */
    DMARC_SRC_TEMPFAIL          /* the lookup failed */
} dmarc_src_status_t;

/* Called once per TXT record, its character-strings joined. */
typedef void (*dmarc_txt_each_fn)(void *cbarg, const char *txt, size_t len);

typedef struct dmarc_source {
    /* TXT records of NAME (no final dot) passed to EACH; thread-safe. */
    dmarc_src_status_t (*txt)(void *arg, const char *name,
                              dmarc_txt_each_fn each, void *cbarg);
    void *arg;
} dmarc_source_t;

typedef enum {
    DMARC_REC_FOUND = 0, DMARC_REC_NONE, DMARC_REC_MULTIPLE,
    DMARC_REC_TEMPERROR, DMARC_REC_INVALID
} dmarc_rec_status_t;

typedef struct dmarc_record {
    dmarc_rec_status_t status;
    bool at_org;                        /* found at the organizational domain */
    char domain[DMARC_DOMAIN_MAX + 1];  /* the domain the record is for */
    char org_domain[DMARC_DOMAIN_MAX + 1];
    char text[DMARC_RECORD_MAX + 1];    /* DMARC_REC_FOUND only */
    char why[320];                      /* for logs when not found */
} dmarc_record_t;

/*
 * dmarc_record_discover - run discovery for FROM_DOMAIN (lower case)
 * with SRC and PSL into OUT. Always fills OUT->status and ->why;
 * returns 0, or -1 for a FROM_DOMAIN too long to query (status INVALID).
 */
int dmarc_record_discover(const dmarc_source_t *src, const dmarc_psl_t *psl,
                          const char *from_domain, dmarc_record_t *out);

/* Whether the LEN bytes of TXT start with the version tag "v=DMARC1"
 * (RFC 7489 6.4: "v" in any case, "DMARC1" exactly, then the end, ";"
 * or white space). Also how 7.1's report authorization records are
 * recognised. */
bool dmarc_record_is_dmarc(const char *txt, size_t len);

/* "found", "none", "multiple", "temperror", "invalid". */
const char *dmarc_rec_status_name(dmarc_rec_status_t st);

/* A source that asks R (common/dns); R must outlive the source. */
dmarc_source_t dmarc_source_dns(dnsr_t *r);

#endif
