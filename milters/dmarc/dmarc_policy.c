/*
 * dmarc_policy.c - local policy over DMARC verdicts: author checks of
 * RFC 7489 6.6.1, overrides, actions, replies and the A-R value. Sits
 * between dmarc_eval (the RFC's decision) and the milter glue.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authres.h"
#include "config.h"
#include "mact.h"
#include "netlist.h"

#include "dmarc_policy.h"

#define MAX_NEVER_REJECT 256

struct dmarc_policy {
    mact_t on_reject, on_quarantine, on_temperror, on_permerror;
    mact_t on_no_from, on_bad_from, on_multi_from;
    bool multi_evaluate;
    bool monitor;
    netlist_t *trusted;
    size_t nnever;
    char **never;
};

static mact_t action_of(const config_t *cfg, const char *key)
{
    mact_t a = MACT_ACCEPT;

    mact_parse(config_str(cfg, "dmarc", key), &a);
    return a;
}

dmarc_policy_t *dmarc_policy_new(const config_t *cfg, char *err, size_t errlen)
{
    dmarc_policy_t *pol = calloc(1, sizeof *pol);
    const char *const *items;

    if (pol == NULL || (pol->trusted = netlist_new()) == NULL) {
        snprintf(err, errlen, "out of memory");
        free(pol);
        return NULL;
    }
    pol->on_reject = action_of(cfg, "on_reject");
    pol->on_quarantine = action_of(cfg, "on_quarantine");
    pol->on_temperror = action_of(cfg, "on_temperror");
    pol->on_permerror = action_of(cfg, "on_permerror");
    pol->on_no_from = action_of(cfg, "on_no_from");
    pol->on_bad_from = action_of(cfg, "on_bad_from");
    const char *multi = config_str(cfg, "dmarc", "on_multi_from");
    pol->multi_evaluate = multi != NULL && strcmp(multi, "evaluate") == 0;
    pol->on_multi_from = pol->multi_evaluate ? MACT_ACCEPT : action_of(cfg, "on_multi_from");
    const char *mode = config_str(cfg, "dmarc", "mode");
    pol->monitor = mode != NULL && strcmp(mode, "monitor") == 0;
    size_t n = config_list(cfg, "dmarc", "trusted_forwarders", &items);
    for (size_t i = 0; i < n; i++)
        if (netlist_add(pol->trusted, items[i], err, errlen) < 0) {
            dmarc_policy_free(pol);
            return NULL;
        }
    n = config_list(cfg, "dmarc", "never_reject_domains", &items);
    if (n > MAX_NEVER_REJECT || (n > 0 && (pol->never = calloc(n, sizeof *pol->never)) == NULL)) {
        snprintf(err, errlen, "never_reject_domains: more than %d domains or out of memory",
                 MAX_NEVER_REJECT);
        dmarc_policy_free(pol);
        return NULL;
    }
    for (; pol->nnever < n; pol->nnever++)
        if ((pol->never[pol->nnever] = strdup(items[pol->nnever])) == NULL) {
            snprintf(err, errlen, "out of memory");
            dmarc_policy_free(pol);
            return NULL;
        }
    return pol;
}

void dmarc_policy_free(dmarc_policy_t *pol)
{
    if (pol == NULL)
        return;
    netlist_free(pol->trusted);
    for (size_t i = 0; i < pol->nnever; i++)
        free(pol->never[i]);
    free(pol->never);
    free(pol);
}

const char *dmarc_authors_kind_name(dmarc_authors_kind_t k)
{
    static const char *const names[] = { "one", "none", "multiple", "bad" };
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "bad";
}

static void add_domain(dmarc_authors_t *out, const char *d)
{
    for (size_t i = 0; i < out->ndomains; i++)
        if (strcmp(out->domain[i], d) == 0)
            return;
    if (out->ndomains < DMARC_FROM_MAX_ADDRS)
        snprintf(out->domain[out->ndomains++], sizeof out->domain[0], "%s", d);
}

void dmarc_authors_collect(const char *const *values, const size_t *lens,
                           size_t nfields, dmarc_authors_t *out)
{
    size_t naddrs = 0;
    dmarc_from_t f;

    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < nfields && i < DMARC_MAX_FROM_FIELDS; i++) {
        if (dmarc_from_parse(values[i], lens[i], &f) != DMARC_FROM_OK) {
            out->kind = DMARC_AUTHORS_BAD;
            out->ndomains = 0;
            return;
        }
        for (size_t j = 0; j < f.naddrs; j++)
            add_domain(out, f.domain[j]);
        naddrs += f.naddrs;
    }
    if (naddrs == 0)
        out->kind = DMARC_AUTHORS_NONE;
    else if (naddrs > 1 || nfields > 1)
        out->kind = DMARC_AUTHORS_MULTI;
    else
        out->kind = DMARC_AUTHORS_ONE;
}

static bool never_reject(const dmarc_policy_t *pol, const char *domain)
{
    for (size_t i = 0; i < pol->nnever; i++)
        if (strcasecmp(pol->never[i], domain) == 0)
            return true;
    return false;
}

static dmarc_p_t dis_of(mact_t a, dmarc_p_t policy)
{
    switch (a) {
    case MACT_REJECT:
    case MACT_DISCARD:
        return DMARC_P_REJECT;
    case MACT_QUARANTINE:
        return DMARC_P_QUARANTINE;
    case MACT_TAG:
        return policy == DMARC_P_QUARANTINE ? DMARC_P_QUARANTINE : DMARC_P_NONE;
    default:
        return DMARC_P_NONE;
    }
}

static void finish(const dmarc_policy_t *pol, dmarc_action_t *out, dmarc_p_t policy)
{
    out->applied = pol->monitor ? MACT_ACCEPT : out->action;
    out->dis = pol->monitor ? DMARC_P_NONE : dis_of(out->action, policy);
}

/* The action for a failing message under its policy, before overrides. */
static mact_t fail_action(const dmarc_policy_t *pol, dmarc_p_t dis)
{
    switch (dis) {
    case DMARC_P_REJECT: return pol->on_reject;
    case DMARC_P_QUARANTINE: return pol->on_quarantine;
    default: return MACT_ACCEPT;
    }
}

static void set_reply(dmarc_action_t *out, const dmarc_verdict_t *v, const char *domain)
{
    if (out->action == MACT_REJECT)
        mact_reply_init(&out->reply, MACT_REJECT, "5.7.1",
                        "Message rejected: it fails the DMARC policy of %s", domain);
    else if (out->action == MACT_TEMPFAIL)
        mact_reply_init(&out->reply, MACT_TEMPFAIL, "4.7.1",
                        "DMARC check of %s could not be completed (%s); try again later",
                        domain, dmarc_result_name(v->result));
    else
        mact_reply_init(&out->reply, out->action, NULL, "%s", "");
}

void dmarc_policy_decide(const dmarc_policy_t *pol, const dmarc_verdict_t *v,
                         const char *from_domain, const char *client_ip,
                         dmarc_action_t *out)
{
    memset(out, 0, sizeof *out);
    switch (v->result) {
    case DMARC_RESULT_FAIL:
        out->action = fail_action(pol, v->disposition);
        if (v->sampled_out)
            out->override = "sampled_out";
        break;
    case DMARC_RESULT_TEMPERROR:
        out->action = pol->on_temperror;
        break;
    case DMARC_RESULT_PERMERROR:
        out->action = pol->on_permerror;
        break;
    default:
        out->action = MACT_ACCEPT;
    }
    if (out->action == MACT_REJECT || out->action == MACT_QUARANTINE ||
        out->action == MACT_DISCARD) {
        if (never_reject(pol, from_domain)) {
            out->action = MACT_ACCEPT;
            out->override = "local_policy";
        } else if (client_ip != NULL && netlist_match_str(pol->trusted, client_ip)) {
            out->action = MACT_ACCEPT;
            out->override = "trusted_forwarder";
        }
    }
    set_reply(out, v, from_domain);
    finish(pol, out, v->disposition);
}

/* An outcome for a message refused before any evaluation. */
static void refuse_authors(const dmarc_policy_t *pol, mact_t a, dmarc_outcome_t *out,
                           const char *why)
{
    out->action.action = a;
    snprintf(out->reason, sizeof out->reason, "%s", why);
    if (a == MACT_REJECT || a == MACT_TEMPFAIL)
        mact_reply_init(&out->action.reply, a, "5.7.1",
                        "Message must have exactly one author address in From (RFC 7489 6.6.1)");
    finish(pol, &out->action, DMARC_P_NONE);
}

static int severity(mact_t a)
{
    static const int rank[] = { 0, 1, 5, 3, 4, 2 };  /* by mact_t order */
    return (unsigned)a < sizeof rank / sizeof rank[0] ? rank[a] : 0;
}

static void eval_one(const dmarc_policy_t *pol, const dmarc_eval_t *ev,
                     const char *domain, const dmarc_input_t *in,
                     const char *client_ip, dmarc_outcome_t *o)
{
    dmarc_input_t one = *in;

    one.from_domain = domain;
    snprintf(o->from_domain, sizeof o->from_domain, "%s", domain);
    dmarc_eval_run(ev, &one, &o->verdict);
    o->evaluated = true;
    dmarc_policy_decide(pol, &o->verdict, domain, client_ip, &o->action);
    snprintf(o->reason, sizeof o->reason, "%s", o->verdict.reason);
}

int dmarc_policy_check(const dmarc_policy_t *pol, const dmarc_eval_t *ev,
                       const dmarc_authors_t *authors, const dmarc_input_t *in,
                       const char *client_ip, dmarc_outcome_t *out)
{
    if (pol == NULL || ev == NULL || authors == NULL || in == NULL || out == NULL)
        return -1;
    memset(out, 0, sizeof *out);
    out->authors = authors->kind;
    if (authors->kind == DMARC_AUTHORS_NONE) {
        refuse_authors(pol, pol->on_no_from, out, "no author address in From");
        return 0;
    }
    if (authors->kind == DMARC_AUTHORS_BAD) {
        refuse_authors(pol, pol->on_bad_from, out, "From field does not parse");
        return 0;
    }
    if (authors->kind == DMARC_AUTHORS_MULTI && !pol->multi_evaluate) {
        refuse_authors(pol, pol->on_multi_from, out, "several From fields or addresses");
        return 0;
    }
    /* One author, or every author with the strictest outcome kept
     * (6.6.1: "apply the most strict policy selected among the checks
     * that fail"). */
    for (size_t i = 0; i < authors->ndomains; i++) {
        dmarc_outcome_t o;
        memset(&o, 0, sizeof o);
        o.authors = authors->kind;
        eval_one(pol, ev, authors->domain[i], in, client_ip, &o);
        if (i == 0 || severity(o.action.action) > severity(out->action.action) ||
            (severity(o.action.action) == severity(out->action.action) &&
             o.verdict.result == DMARC_RESULT_FAIL &&
             out->verdict.result != DMARC_RESULT_FAIL))
            *out = o;
    }
    return 0;
}

/* Inserts " (p=X dis=Y)" after "dmarc=RESULT" in BUF: common/authres
 * builds no comments. */
static int insert_comment(char *buf, size_t buflen, size_t len, const char *result,
                          const char *comment)
{
    char key[32];
    snprintf(key, sizeof key, "dmarc=%s", result);
    char *at = strstr(buf, key);
    size_t clen = strlen(comment);

    if (at == NULL || len + clen + 1 > buflen)
        return -1;
    at += strlen(key);
    memmove(at + clen, at, len - (size_t)(at - buf) + 1);
    memcpy(at, comment, clen);
    return (int)(len + clen);
}

int dmarc_policy_authres(const dmarc_outcome_t *o, const char *authserv_id,
                         char *buf, size_t buflen)
{
    const char *result = o->evaluated ? dmarc_result_name(o->verdict.result) : "permerror";
    authres_builder_t *b = authres_builder_new(authserv_id);
    char comment[64] = "";

    if (b == NULL)
        return -1;
    int bad = authres_add(b, "dmarc", result, NULL) < 0 ||
              (o->from_domain[0] != '\0' &&
               authres_add_prop(b, "header", "from", o->from_domain) < 0);
    ssize_t n = bad ? -1 : authres_format(b, buf, buflen);
    authres_builder_free(b);
    if (n < 0)
        return -1;
    if (o->evaluated && o->verdict.record_found)
        snprintf(comment, sizeof comment, " (p=%s dis=%s)",
                 dmarc_p_name(o->verdict.policy), dmarc_p_name(o->action.dis));
    if (comment[0] == '\0')
        return (int)n;
    return insert_comment(buf, buflen, (size_t)n, result, comment);
}
