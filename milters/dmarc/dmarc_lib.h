/*
 * dmarc_lib.h - the one place libopendmarc is called: DMARC record
 * parsing (RFC 7489 section 6.3) into plain data. Discovery, alignment
 * and the policy decision are ours (dmarc_record, dmarc_eval).
 *
 * NAME
 *	dmarc_lib - parse a DMARC record with libopendmarc, safely
 *
 * SYNOPSIS
 *	dmarc_tags_t t;
 *	if (dmarc_lib_parse("v=DMARC1; p=reject", "example.com",
 *	                    "example.com", &t, err, sizeof err) == 0)
 *	    use(t.p, t.sp, t.pct, t.adkim, t.aspf, t.rua);
 *
 * DESCRIPTION
 *	The record is stored in a fresh libopendmarc policy context with
 *	opendmarc_policy_store_dmarc (the record was fetched by us through
 *	common/dns; the library's own resolver is never used), and the tags
 *	are read back with the opendmarc_policy_fetch_* functions.
 *
 *	Defaults: sp takes p when absent (6.3), pct 100, adkim and aspf
 *	relaxed. A record without a valid "p" but with a "rua" is treated as
 *	p=none (6.6.3 step 6); without "rua" it is an error.
 *
 *	CVE-2024-25768: in libopendmarc 1.4.2 (Debian 12) the URI list
 *	getter opendmarc_policy_fetch_ruf() clears its output buffer when
 *	the buffer is NULL *or* the size is non-zero, so a NULL buffer with
 *	a size dereferences NULL. We never call fetch_ruf: both URI lists
 *	are read through dmarc_lib_uris(), which refuses a NULL buffer
 *	with a size and a zero size before calling into the library, and
 *	asks the library only for its own list pointer (NULL buffer, size
 *	0), the one path that does not write.
 */
#ifndef POSTERN_DMARC_LIB_H
#define POSTERN_DMARC_LIB_H

#include <stddef.h>

#define DMARC_URIS_MAX 1024

typedef enum { DMARC_P_NONE = 0, DMARC_P_QUARANTINE, DMARC_P_REJECT } dmarc_p_t;

typedef struct dmarc_tags {
    dmarc_p_t p, sp;
    int pct;                    /* 0..100 */
    char adkim, aspf;           /* 'r' or 's' */
    int p_from_rua;             /* p=none assumed: no valid p, rua present */
    char fo[16];                /* failure reporting options, "0" default */
    char rua[DMARC_URIS_MAX];   /* comma-separated, "" when none */
    char ruf[DMARC_URIS_MAX];
} dmarc_tags_t;

typedef enum { DMARC_LIB_RUA, DMARC_LIB_RUF } dmarc_lib_uri_t;

/* Library set-up; call once before threads start. 0, or -1 with ERR. */
int dmarc_lib_init(char *err, size_t errlen);

/*
 * dmarc_lib_parse - parse RECORD (NUL-terminated, at most 4000 bytes),
 * published for DOMAIN and found at (organizational) domain ORG. 0 and
 * *OUT, or -1 with ERR naming the library's complaint.
 */
int dmarc_lib_parse(const char *record, const char *domain, const char *org,
                    dmarc_tags_t *out, char *err, size_t errlen);

/*
 * dmarc_lib_uris - the record's rua or ruf URIs, comma-separated, into
 * BUF (BUFLEN bytes). RECORD and DOMAIN as above. Returns the length,
 * or -1 with ERR for a NULL BUF, a zero BUFLEN (the CVE-2024-25768
 * calling pattern), a record that does not parse, or a list longer
 * than BUF.
 */
int dmarc_lib_uris(const char *record, const char *domain, dmarc_lib_uri_t which,
                   char *buf, size_t buflen, char *err, size_t errlen);

/* "none", "quarantine", "reject". */
const char *dmarc_p_name(dmarc_p_t p);

#endif
