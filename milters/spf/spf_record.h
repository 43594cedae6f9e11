/*
 * spf_record.h - parse one SPF record (RFC 7208 sections 4.5, 4.6, 5, 6)
 * into terms, checking the syntax of all of them first: an error
 * anywhere makes the whole record a permerror (section 4.6).
 *
 * NAME
 *	spf_record - SPF record syntax
 *
 * SYNOPSIS
 *	spf_record_t *r;
 *	if (spf_record_parse(txt, len, &r, err, sizeof err) < 0) -> permerror
 *	for (size_t i = 0; i < r->nterms; i++) ... r->terms[i] ...
 *	spf_record_free(r);
 *
 * DESCRIPTION
 *	The text is untrusted and taken with its length; NUL bytes and
 *	anything outside visible ASCII make it invalid. Terms are separated
 *	by one or more spaces only. Domain-specs are checked as macro
 *	strings (spf_macro_check) but kept unexpanded; the evaluator expands
 *	them. At most SPF_RECORD_MAX_TERMS terms.
 *
 *	spf_record_is_spf() tells whether a TXT record is an SPF record at
 *	all: "v=spf1" (any case) followed by a space or the end (4.5).
 */
#ifndef POSTERN_SPF_RECORD_H
#define POSTERN_SPF_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>

#define SPF_RECORD_MAX_TERMS 256

typedef enum {
    SPF_MECH_ALL, SPF_MECH_INCLUDE, SPF_MECH_A, SPF_MECH_MX, SPF_MECH_PTR,
    SPF_MECH_IP4, SPF_MECH_IP6, SPF_MECH_EXISTS
} spf_mech_t;

typedef struct spf_term {
    spf_mech_t mech;
    char qualifier;             /* '+', '-', '~', '?' */
    char *domain;               /* unexpanded domain-spec, NULL: current */
    int cidr4, cidr6;           /* prefix lengths (32 / 128 when absent) */
    struct in_addr ip4;
    struct in6_addr ip6;
    char *text;                 /* the term as written, for logs */
} spf_term_t;

typedef struct spf_record {
    spf_term_t *terms;
    size_t nterms;
    char *redirect;             /* unexpanded, NULL when absent */
    char *exp;
} spf_record_t;

bool spf_record_is_spf(const char *txt, size_t len);

/* 0 and *OUT (caller frees with spf_record_free), or -1 with ERR. */
int spf_record_parse(const char *txt, size_t len, spf_record_t **out,
                     char *err, size_t errlen);
void spf_record_free(spf_record_t *r);

/* "all", "include", ... */
const char *spf_mech_name(spf_mech_t m);

#endif
