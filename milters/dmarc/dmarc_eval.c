/*
 * dmarc_eval.c - alignment, result and policy selection for one author
 * domain. Discovery and record parsing are delegated; this file holds
 * the RFC 7489 rules themselves.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dmarc_eval.h"

struct dmarc_eval {
    const dmarc_psl_t *psl;
    dmarc_source_t src;
};

dmarc_eval_t *dmarc_eval_new(const dmarc_psl_t *psl, const dmarc_source_t *src)
{
    dmarc_eval_t *ev = calloc(1, sizeof *ev);

    if (ev != NULL) {
        ev->psl = psl;
        ev->src = *src;
    }
    return ev;
}

void dmarc_eval_free(dmarc_eval_t *ev)
{
    free(ev);
}

bool dmarc_eval_aligned(const dmarc_psl_t *psl, const char *a, const char *from,
                        char mode)
{
    char oa[DMARC_DOMAIN_MAX + 1], of[DMARC_DOMAIN_MAX + 1];

    if (a == NULL || from == NULL || *a == '\0')
        return false;
    if (strcasecmp(a, from) == 0)
        return true;
    if (mode == 's')
        return false;
    return dmarc_psl_org_domain(psl, a, oa, sizeof oa) >= 0 &&
           dmarc_psl_org_domain(psl, from, of, sizeof of) >= 0 &&
           strcmp(oa, of) == 0;
}

/* Sets the alignment fields; true when an identifier that would align
 * had a temporary error. */
static bool align(const dmarc_eval_t *ev, const dmarc_input_t *in,
                  dmarc_verdict_t *v)
{
    const char *from = in->from_domain;
    bool spf_match = dmarc_eval_aligned(ev->psl, in->spf_domain, from, v->tags.aspf);
    bool temp = spf_match && in->spf_result == DMARC_AUTH_TEMPERROR;

    v->spf_aligned = spf_match && in->spf_result == DMARC_AUTH_PASS;
    for (size_t i = 0; i < in->ndkim; i++) {
        bool match = dmarc_eval_aligned(ev->psl, in->dkim[i].domain, from, v->tags.adkim);
        bool ok = match && in->dkim[i].result == DMARC_AUTH_PASS;
        if (i < DMARC_MAX_DKIM)
            v->dkim_sig_aligned[i] = ok;
        v->dkim_aligned |= ok;
        temp |= match && in->dkim[i].result == DMARC_AUTH_TEMPERROR;
    }
    return temp;
}

static dmarc_p_t less_strict(dmarc_p_t p)
{
    return p == DMARC_P_REJECT ? DMARC_P_QUARANTINE : DMARC_P_NONE;
}

/* The outcome once a record is parsed. */
static void decide(const dmarc_eval_t *ev, const dmarc_input_t *in,
                   dmarc_verdict_t *v)
{
    bool temp = align(ev, in, v);

    v->used_sp = strcmp(v->policy_domain, in->from_domain) != 0;
    v->policy = v->used_sp ? v->tags.sp : v->tags.p;
    if (v->spf_aligned || v->dkim_aligned) {
        v->result = DMARC_RESULT_PASS;
        v->disposition = DMARC_P_NONE;
        snprintf(v->reason, sizeof v->reason, "%s aligned",
                 v->dkim_aligned ? (v->spf_aligned ? "SPF and DKIM" : "DKIM") : "SPF");
        return;
    }
    if (temp) {
        v->result = DMARC_RESULT_TEMPERROR;
        v->disposition = DMARC_P_NONE;
        snprintf(v->reason, sizeof v->reason,
                 "no aligned pass; an aligned identifier had a temporary error");
        return;
    }
    v->result = DMARC_RESULT_FAIL;
    v->disposition = v->policy;
    if (v->policy != DMARC_P_NONE && in->sample >= (unsigned)v->tags.pct) {
        v->disposition = less_strict(v->policy);
        v->sampled_out = true;
    }
    snprintf(v->reason, sizeof v->reason, "neither SPF nor DKIM aligned with %s%s",
             in->from_domain, v->sampled_out ? " (sampled out by pct)" : "");
}

int dmarc_eval_run(const dmarc_eval_t *ev, const dmarc_input_t *in,
                   dmarc_verdict_t *out)
{
    dmarc_record_t rec;
    char err[160];

    if (ev == NULL || in == NULL || out == NULL || in->from_domain == NULL)
        return -1;
    memset(out, 0, sizeof *out);
    dmarc_record_discover(&ev->src, ev->psl, in->from_domain, &rec);
    snprintf(out->org_domain, sizeof out->org_domain, "%s", rec.org_domain);
    switch (rec.status) {
    case DMARC_REC_FOUND:
        break;
    case DMARC_REC_NONE:
    case DMARC_REC_MULTIPLE:
        out->result = DMARC_RESULT_NONE;
        snprintf(out->reason, sizeof out->reason, "%s", rec.why);
        return 0;
    case DMARC_REC_TEMPERROR:
        out->result = DMARC_RESULT_TEMPERROR;
        snprintf(out->reason, sizeof out->reason, "%s", rec.why);
        return 0;
    case DMARC_REC_INVALID:
        out->result = DMARC_RESULT_PERMERROR;
        snprintf(out->reason, sizeof out->reason, "%s", rec.why);
        return 0;
    }
    snprintf(out->policy_domain, sizeof out->policy_domain, "%s", rec.domain);
    if (dmarc_lib_parse(rec.text, rec.domain, rec.org_domain, &out->tags,
                        err, sizeof err) < 0) {
        out->result = DMARC_RESULT_PERMERROR;
        snprintf(out->reason, sizeof out->reason, "bad DMARC record at _dmarc.%s: %.100s",
                 rec.domain, err);
        return 0;
    }
    out->record_found = true;
    decide(ev, in, out);
    return 0;
}

const char *dmarc_result_name(dmarc_result_t r)
{
    static const char *const names[] = {
        "none", "pass", "fail", "temperror", "permerror"
    };
    return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "none";
}

static const char *const auth_names[] = {
    "none", "pass", "fail", "softfail", "neutral", "temperror", "permerror",
    "policy"
};

const char *dmarc_auth_name(dmarc_auth_t a)
{
    return (unsigned)a < sizeof auth_names / sizeof auth_names[0] ? auth_names[a] : "none";
}

int dmarc_auth_parse(const char *name, dmarc_auth_t *out)
{
    for (size_t i = 0; i < sizeof auth_names / sizeof auth_names[0]; i++)
        if (strcasecmp(name, auth_names[i]) == 0) {
            *out = (dmarc_auth_t)i;
            return 0;
        }
    return -1;
}

dmarc_p_t dmarc_p_max(dmarc_p_t a, dmarc_p_t b)
{
    return a > b ? a : b;
}
