/*
 * dmarc_eval.h - the DMARC decision (RFC 7489 sections 3.1, 6.6): from
 * the author domain, the SPF result and the DKIM results, as plain data,
 * to a verdict with the policy that applies. No libmilter, no socket:
 * the daemon and the unit tests call it the same way.
 *
 * NAME
 *	dmarc_eval - evaluate DMARC for one author domain
 *
 * SYNOPSIS
 *	dmarc_eval_t *ev = dmarc_eval_new(psl, &source);
 *	dmarc_dkim_in_t sigs[] = { { "example.com", "s1", DMARC_AUTH_PASS } };
 *	dmarc_input_t in = { .from_domain = "example.com",
 *	    .spf_domain = "bounce.example.com", .spf_result = DMARC_AUTH_PASS,
 *	    .dkim = sigs, .ndkim = 1, .sample = rand() % 100 };
 *	dmarc_verdict_t v;
 *	dmarc_eval_run(ev, &in, &v);
 *	dmarc_eval_free(ev);
 *
 * DESCRIPTION
 *	Discovery (dmarc_record) finds the record, libopendmarc parses it
 *	(dmarc_lib), and this module decides:
 *
 *	Alignment (3.1): an identifier is aligned when its authentication
 *	passed and its domain equals the author domain (strict, "s") or has
 *	the same organizational domain (relaxed, "r", the default). SPF's
 *	identifier is the MAIL FROM domain, or the HELO name for the null
 *	sender. Every DKIM signature is looked at; one aligned pass is
 *	enough.
 *
 *	Result: pass when SPF or DKIM is aligned. fail otherwise, except
 *	temperror when an identifier that would have been aligned had a
 *	temporary error (the sender may well pass on retry: enforcing
 *	reject on a DNS hiccup is what makes admins turn DMARC off). none
 *	when no record applies (none found, or several: 6.6.3), temperror
 *	when discovery failed, permerror for an unusable record.
 *
 *	Policy: "sp" when the record was found at the organizational domain
 *	for a sub-domain author, else "p". pct (6.6.4): when the message
 *	fails and INPUT.sample (0..99, uniformly random, chosen by the
 *	caller so that tests are deterministic) is not below pct, the next
 *	less strict disposition applies (reject -> quarantine -> none) and
 *	sampled_out is set.
 */
#ifndef POSTERN_DMARC_EVAL_H
#define POSTERN_DMARC_EVAL_H

#include <stdbool.h>
#include <stddef.h>

#include "dmarc_from.h"
#include "dmarc_lib.h"
#include "dmarc_psl.h"
#include "dmarc_record.h"

/* SPF (RFC 7208 2.6) and DKIM (RFC 8601 2.7.1) results. */
typedef enum {
    DMARC_AUTH_NONE = 0, DMARC_AUTH_PASS, DMARC_AUTH_FAIL, DMARC_AUTH_SOFTFAIL,
    DMARC_AUTH_NEUTRAL, DMARC_AUTH_TEMPERROR, DMARC_AUTH_PERMERROR,
    DMARC_AUTH_POLICY
} dmarc_auth_t;

typedef enum {
    DMARC_RESULT_NONE = 0, DMARC_RESULT_PASS, DMARC_RESULT_FAIL,
    DMARC_RESULT_TEMPERROR, DMARC_RESULT_PERMERROR
} dmarc_result_t;

#define DMARC_MAX_DKIM 16

typedef struct dmarc_dkim_in {
    const char *domain;         /* d= */
    const char *selector;       /* s=, may be NULL */
    dmarc_auth_t result;
} dmarc_dkim_in_t;

typedef struct dmarc_input {
    const char *from_domain;    /* lower case, from dmarc_from */
    const char *spf_domain;     /* MAIL FROM domain, or HELO; NULL: none */
    bool spf_helo;              /* spf_domain is the HELO name */
    dmarc_auth_t spf_result;
    const dmarc_dkim_in_t *dkim;
    size_t ndkim;
    unsigned sample;            /* 0..99 */
} dmarc_input_t;

typedef struct dmarc_verdict {
    dmarc_result_t result;
    bool record_found;
    dmarc_tags_t tags;                  /* valid when record_found */
    char policy_domain[DMARC_DOMAIN_MAX + 1];  /* where the record was */
    char org_domain[DMARC_DOMAIN_MAX + 1];     /* of the author domain */
    bool used_sp;
    dmarc_p_t policy;                   /* p or sp, before pct */
    dmarc_p_t disposition;              /* after pct; none on pass */
    bool sampled_out;
    bool spf_aligned, dkim_aligned;
    bool dkim_sig_aligned[DMARC_MAX_DKIM]; /* per input signature
                                           (first DMARC_MAX_DKIM) */
    char reason[400];
} dmarc_verdict_t;

typedef struct dmarc_eval dmarc_eval_t;

/* Keeps PSL and SRC (borrowed; they must outlive it). NULL: no memory. */
dmarc_eval_t *dmarc_eval_new(const dmarc_psl_t *psl, const dmarc_source_t *src);
void dmarc_eval_free(dmarc_eval_t *ev);

/* Fills OUT for IN. Returns 0; -1 only for a NULL argument. */
int dmarc_eval_run(const dmarc_eval_t *ev, const dmarc_input_t *in,
                   dmarc_verdict_t *out);

/* Alignment of domain A with author domain FROM in MODE 'r' or 's'. */
bool dmarc_eval_aligned(const dmarc_psl_t *psl, const char *a, const char *from,
                        char mode);

/* "none", "pass", "fail", "temperror", "permerror". */
const char *dmarc_result_name(dmarc_result_t r);
/* "none", "pass", "fail", "softfail", "neutral", "temperror",
 * "permerror", "policy". */
const char *dmarc_auth_name(dmarc_auth_t a);
/* The reverse; -1 for an unknown name. */
int dmarc_auth_parse(const char *name, dmarc_auth_t *out);

/* The stricter of two dispositions. */
dmarc_p_t dmarc_p_max(dmarc_p_t a, dmarc_p_t b);

#endif
