/*
 * spf_eval.h - SPF evaluation, RFC 7208 check_host(): the code the
 * milter, postern-dmarc, the conformance runner and the tests share.
 *
 * NAME
 *	spf_eval - evaluate SPF for a client, a HELO name and a sender
 *
 * SYNOPSIS
 *	spf_eval_opts_t o = { .receiver = "mx.example.org" };
 *	spf_eval_t *ev = spf_eval_new(&o, &src, err, sizeof err);
 *	spf_verdict_t v;
 *	spf_eval_mailfrom(ev, "192.0.2.1", "mail.example.net",
 *	                  "alice@example.net", &v);
 *	spf_eval_helo(ev, "192.0.2.1", "mail.example.net", &v);
 *	spf_eval_free(ev);
 *
 * DESCRIPTION
 *	An spf_eval_t is built once (at start or reload) from options and a
 *	DNS source (spf_dns.h: the shared resolver in production, an
 *	in-memory zone in tests) and is then read-only: any number of
 *	threads may evaluate with it at once.
 *
 *	spf_eval_mailfrom checks the MAIL FROM identity; with an empty
 *	sender it checks "postmaster@HELO" instead (section 2.4).
 *	spf_eval_helo checks the HELO identity (section 2.3). A domain that
 *	is not a usable DNS name (empty or over-long label, no dot, an
 *	address literal) gives none (section 4.3).
 *
 *	Limits (section 4.6.4): at most opts.max_dns_terms (10) terms that
 *	query DNS (include, a, mx, ptr, exists, redirect), at most
 *	opts.max_void (2) lookups answering NXDOMAIN or no data, at most 10
 *	MX and 10 PTR names looked at; past them the result is permerror.
 *	The whole check ends within opts.time_limit_ms; a check that runs
 *	out of time is temperror, and each query gets at most the time
 *	left. An SPF explanation (exp=) is looked up only for fail.
 *
 *	Records come from the network: the parser (spf_record.h) takes them
 *	with their length and rejects anything that is not SPF syntax.
 *
 * RETURNS
 *	spf_eval_new: NULL with ERR on bad options or no memory.
 *	spf_eval_*: the result, also stored in V->result.
 */
#ifndef POSTERN_SPF_EVAL_H
#define POSTERN_SPF_EVAL_H

#include <stddef.h>

#include "spf_dns.h"

typedef enum {
    SPF_RESULT_NONE = 0, SPF_RESULT_NEUTRAL, SPF_RESULT_PASS, SPF_RESULT_FAIL,
    SPF_RESULT_SOFTFAIL, SPF_RESULT_TEMPERROR, SPF_RESULT_PERMERROR
} spf_result_t;

#define SPF_RESULT_COUNT 7

typedef enum { SPF_ID_MAILFROM, SPF_ID_HELO } spf_identity_t;

typedef struct spf_eval_opts {
    unsigned max_dns_terms;     /* 0: 10 */
    unsigned max_void;          /* 0: 2 */
    int time_limit_ms;          /* whole check; 0: 20000 */
    int query_timeout_ms;       /* one query; 0: 5000 */
    const char *receiver;       /* %{r}: our host name; NULL: "unknown" */
} spf_eval_opts_t;

#define SPF_EXPLAIN_MAX 512

typedef struct spf_verdict {
    spf_result_t result;
    spf_identity_t identity;
    char domain[256];           /* the domain checked */
    char sender[384];           /* the identity as checked: local@domain */
    char mechanism[128];        /* the term that matched, or "" */
    char reason[256];           /* why, for permerror/temperror/none */
    char explanation[SPF_EXPLAIN_MAX];   /* exp= text on fail, or "" */
    unsigned dns_terms, void_lookups, queries;
    double ms;
} spf_verdict_t;

typedef struct spf_eval spf_eval_t;

spf_eval_t *spf_eval_new(const spf_eval_opts_t *opts, const spf_dns_source_t *src,
                         char *err, size_t errlen);
void spf_eval_free(spf_eval_t *ev);

/* IP is the client address in text form (IPv4, IPv6, IPv4-mapped IPv6);
 * an unparsable IP gives permerror. HELO and MAILFROM may be NULL. */
spf_result_t spf_eval_mailfrom(const spf_eval_t *ev, const char *ip,
                               const char *helo, const char *mailfrom,
                               spf_verdict_t *v);
spf_result_t spf_eval_helo(const spf_eval_t *ev, const char *ip,
                           const char *helo, spf_verdict_t *v);

/* "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror". */
const char *spf_result_name(spf_result_t r);
/* Inverse of spf_result_name; 0, or -1 when unknown. */
int spf_result_parse(const char *name, spf_result_t *out);

#endif
