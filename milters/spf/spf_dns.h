/*
 * spf_dns.h - where SPF evaluation gets its DNS answers: one small table
 * of operations, with a production source on common/dns (spf_dnsr.h) and
 * an in-memory zone for tests and the conformance suite (spf_zone.h).
 *
 * NAME
 *	spf_dns - DNS source interface of the SPF evaluator
 *
 * SYNOPSIS
 *	spf_answer_t ans;
 *	spf_answer_init(&ans);
 *	st = src->query(src->ctx, "example.com", SPF_RR_TXT, 2000, &ans);
 *	for (size_t i = 0; i < ans.n; i++) ... ans.rr[i].text ...
 *	spf_answer_clear(&ans);
 *
 * DESCRIPTION
 *	A source answers one question (name, type) within TIMEOUT_MS with a
 *	status and the records of that type, already decoded: TXT records
 *	as one string (character-strings joined, RFC 7208 3.3), A and AAAA
 *	as addresses, MX and PTR as host names without the final dot.
 *	Answers are untrusted: spf_answer_add copies with explicit lengths
 *	and keeps at most SPF_ANSWER_MAX records, which is more than any
 *	limit of RFC 7208 lets evaluation use.
 */
#ifndef POSTERN_SPF_DNS_H
#define POSTERN_SPF_DNS_H

#include <stddef.h>
#include <netinet/in.h>

#define SPF_ANSWER_MAX 64
/* Longest TXT record we keep; SPF records beyond 450 bytes are rare and
 * a hostile one longer than this is cut (and then fails to parse). */
#define SPF_TXT_MAX 4096
#define SPF_NAME_MAX 256

typedef enum {
    SPF_RR_A = 1, SPF_RR_PTR = 12, SPF_RR_MX = 15, SPF_RR_TXT = 16,
    SPF_RR_AAAA = 28
} spf_rrtype_t;

typedef enum {
    SPF_DNS_OK = 0,     /* the name has records of the type (maybe 0 kept) */
    SPF_DNS_NXDOMAIN,
    SPF_DNS_NODATA,
    SPF_DNS_TEMPFAIL    /* timeout, SERVFAIL, bogus: RFC 7208 temperror */
} spf_dns_status_t;

typedef struct spf_rr {
    struct in_addr a;           /* SPF_RR_A */
    struct in6_addr aaaa;       /* SPF_RR_AAAA */
    char *text;                 /* TXT text or MX/PTR name; NUL-terminated */
    size_t len;                 /* its length (TXT may hold NUL bytes) */
} spf_rr_t;

typedef struct spf_answer {
    size_t n;
    spf_rr_t rr[SPF_ANSWER_MAX];
} spf_answer_t;

typedef struct spf_dns_source {
    /* Fills OUT (initialised and empty on entry) for NAME and TYPE. */
    spf_dns_status_t (*query)(void *ctx, const char *name, spf_rrtype_t type,
                              int timeout_ms, spf_answer_t *out);
    void *ctx;
} spf_dns_source_t;

void spf_answer_init(spf_answer_t *a);
/* Frees the strings; the answer is empty and reusable. */
void spf_answer_clear(spf_answer_t *a);
/* Adds a record: TEXT of LEN bytes for TXT/MX/PTR (NULL for A/AAAA),
 * ADDR (struct in_addr / in6_addr) for A/AAAA. 0, or -1 when full or
 * out of memory (the record is dropped). */
int spf_answer_add(spf_answer_t *a, spf_rrtype_t type, const char *text,
                   size_t len, const void *addr);

/* "ok", "nxdomain", "nodata", "tempfail". */
const char *spf_dns_status_name(spf_dns_status_t st);

#endif
