/*
 * dmarc_audit.c - the audit record's extra object and the syslog line
 * for a DMARC outcome: the last step before the milter writes them.
 */
#include <stdio.h>

#include <jansson.h>

#include "mact.h"

#include "dmarc_audit.h"

static json_t *str_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

static json_t *dkim_array(const dmarc_outcome_t *o, const dmarc_input_t *in)
{
    json_t *a = json_array();

    for (size_t i = 0; a && i < in->ndkim; i++)
        json_array_append_new(a, json_pack("{s:o,s:o,s:s,s:b}",
            "domain", str_or_null(in->dkim[i].domain),
            "selector", str_or_null(in->dkim[i].selector),
            "result", dmarc_auth_name(in->dkim[i].result),
            "aligned", i < DMARC_MAX_DKIM && o->verdict.dkim_sig_aligned[i]));
    return a;
}

static json_t *record_obj(const dmarc_verdict_t *v)
{
    if (!v->record_found)
        return json_pack("{s:b,s:o,s:o}", "found", 0,
                         "domain", str_or_null(v->policy_domain),
                         "org_domain", str_or_null(v->org_domain));
    char adkim[2] = { v->tags.adkim, 0 }, aspf[2] = { v->tags.aspf, 0 };
    return json_pack("{s:b,s:s,s:o,s:s,s:s,s:i,s:s,s:s,s:o}", "found", 1,
                     "domain", v->policy_domain, "org_domain", str_or_null(v->org_domain),
                     "p", dmarc_p_name(v->tags.p), "sp", dmarc_p_name(v->tags.sp),
                     "pct", v->tags.pct, "adkim", adkim, "aspf", aspf,
                     "rua", str_or_null(v->tags.rua));
}

const char *dmarc_audit_result(const dmarc_outcome_t *o)
{
    if (o->evaluated)
        return dmarc_result_name(o->verdict.result);
    switch (o->authors) {
    case DMARC_AUTHORS_NONE: return "no-from";
    case DMARC_AUTHORS_MULTI: return "multi-from";
    default: return "bad-from";
    }
}

json_t *dmarc_audit_extra(const dmarc_outcome_t *o, const dmarc_input_t *in)
{
    const dmarc_verdict_t *v = &o->verdict;
    json_t *spf = json_pack("{s:o,s:s,s:s,s:b}", "domain", str_or_null(in->spf_domain),
                            "scope", in->spf_helo ? "helo" : "mfrom",
                            "result", dmarc_auth_name(in->spf_result),
                            "aligned", v->spf_aligned);
    json_t *x = json_pack("{s:s,s:o,s:o,s:o,s:o}",
                          "authors", dmarc_authors_kind_name(o->authors),
                          "header_from", str_or_null(o->from_domain),
                          "spf", spf ? spf : json_null(),
                          "dkim", dkim_array(o, in),
                          "record", o->evaluated ? record_obj(v) : json_null());
    if (x == NULL)
        return NULL;
    json_object_set_new(x, "policy", json_string(dmarc_p_name(v->policy)));
    json_object_set_new(x, "used_sp", json_boolean(v->used_sp));
    json_object_set_new(x, "sampled_out", json_boolean(v->sampled_out));
    json_object_set_new(x, "result", json_string(dmarc_audit_result(o)));
    json_object_set_new(x, "disposition", json_string(dmarc_p_name(o->action.dis)));
    json_object_set_new(x, "action", json_string(mact_name(o->action.action)));
    json_object_set_new(x, "applied", json_string(mact_name(o->action.applied)));
    json_object_set_new(x, "override", str_or_null(o->action.override));
    json_object_set_new(x, "reason", json_string(o->reason));
    return x;
}

int dmarc_audit_line(const dmarc_outcome_t *o, char *buf, size_t buflen)
{
    const char *action = mact_name(o->action.action);
    int n;

    if (!o->evaluated)
        n = snprintf(buf, buflen, "dmarc: %s action=%s (%s)", dmarc_audit_result(o),
                     action, o->reason);
    else if (o->verdict.record_found)
        n = snprintf(buf, buflen, "dmarc: %s %s p=%s dis=%s action=%s%s%s (%s)",
                     o->from_domain, dmarc_result_name(o->verdict.result),
                     dmarc_p_name(o->verdict.policy), dmarc_p_name(o->action.dis), action,
                     o->action.override ? " override=" : "",
                     o->action.override ? o->action.override : "", o->reason);
    else
        n = snprintf(buf, buflen, "dmarc: %s %s action=%s (%s)", o->from_domain,
                     dmarc_result_name(o->verdict.result), action, o->reason);
    if (n < 0)
        return 0;
    return (size_t)n < buflen ? n : (int)(buflen ? buflen - 1 : 0);
}
