/*
 * dmarc_psl.h - organizational domains from the Public Suffix List
 * (RFC 7489 section 3.2), for the policy lookup fallback and relaxed
 * alignment.
 *
 * NAME
 *	dmarc_psl - Public Suffix List loaded once, queried without allocating
 *
 * SYNOPSIS
 *	dmarc_psl_t *psl = dmarc_psl_load(
 *	    "/usr/share/publicsuffix/public_suffix_list.dat", err, sizeof err);
 *	dmarc_psl_org_domain(psl, "mail.example.co.uk", buf, sizeof buf);
 *	    -> "example.co.uk"
 *	dmarc_psl_free(psl);
 *
 * DESCRIPTION
 *	The file is read at start (and reload), never per message: one rule
 *	per line, "//" comments, wildcard ("*.ck") and exception ("!www.ck")
 *	rules, the "*" default rule when nothing matches. Rules in Unicode
 *	form match nothing we look up (we only see ASCII host names), so an
 *	IDN's A-label falls back to the default rule.
 *
 *	The organizational domain is the public suffix plus one label; a
 *	name that is itself a public suffix is its own organizational
 *	domain. A loaded list is immutable: any number of threads may query
 *	it at once.
 */
#ifndef POSTERN_DMARC_PSL_H
#define POSTERN_DMARC_PSL_H

#include <stddef.h>

#define DMARC_PSL_MAX_RULES 100000
#define DMARC_PSL_MAX_FILE (16 * 1024 * 1024)

typedef struct dmarc_psl dmarc_psl_t;

/* Loads PATH; NULL with ERR on I/O errors, an empty list or past the
 * limits above. Caller frees with dmarc_psl_free. */
dmarc_psl_t *dmarc_psl_load(const char *path, char *err, size_t errlen);

/* The same from LEN bytes of TEXT (tests, fuzzing). */
dmarc_psl_t *dmarc_psl_load_text(const char *text, size_t len, char *err,
                                 size_t errlen);

void dmarc_psl_free(dmarc_psl_t *psl);

/* Number of rules loaded. */
size_t dmarc_psl_count(const dmarc_psl_t *psl);

/*
 * dmarc_psl_org_domain - DOMAIN's organizational domain (lower case, no
 * final dot) into BUF. Returns its length, or -1 for an empty or too
 * long name or a BUF too small.
 */
int dmarc_psl_org_domain(const dmarc_psl_t *psl, const char *domain,
                         char *buf, size_t buflen);

#endif
