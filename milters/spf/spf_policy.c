/*
 * spf_policy.c - skip rules and the action per SPF result, from the
 * [spf] keys; read-only once built, so every thread may use it.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "mact.h"
#include "netlist.h"

#include "spf_eval.h"
#include "spf_policy.h"

typedef struct override {
    char domain[256];           /* without the leading '.' */
    bool subdomains;            /* ".example.com" */
    int result;                 /* spf_result_t, or -1 for all */
    mact_t action;
} override_t;

struct spf_policy {
    mact_t action[SPF_RESULT_COUNT];
    bool skip_auth;
    netlist_t *internal, *relays;
    override_t *ov;
    size_t nov;
};

void spf_policy_free(spf_policy_t *p)
{
    if (p == NULL)
        return;
    netlist_free(p->internal);
    netlist_free(p->relays);
    free(p->ov);
    free(p);
}

/* "DOMAIN:RESULT=ACTION" */
static int parse_override(const char *item, override_t *o, char *err, size_t errlen)
{
    const char *colon = strrchr(item, ':'), *eq = colon ? strchr(colon, '=') : NULL;
    char result[32];
    spf_result_t r;
    size_t dlen;

    if (colon == NULL || eq == NULL || colon == item || (size_t) (eq - colon - 1) >= sizeof(result))
        goto bad;
    memset(o, 0, sizeof(*o));
    o->subdomains = item[0] == '.';
    dlen = (size_t) (colon - item) - (o->subdomains ? 1 : 0);
    if (dlen == 0 || dlen >= sizeof(o->domain))
        goto bad;
    memcpy(o->domain, item + (o->subdomains ? 1 : 0), dlen);
    memcpy(result, colon + 1, (size_t) (eq - colon - 1));
    result[eq - colon - 1] = '\0';
    if (strcasecmp(result, "all") == 0)
        o->result = -1;
    else if (spf_result_parse(result, &r) == 0)
        o->result = (int) r;
    else
        goto bad;
    if (mact_parse(eq + 1, &o->action) < 0)
        goto bad;
    return 0;
bad:
    snprintf(err, errlen, "[spf] domain_overrides: bad entry \"%s\" (want DOMAIN:RESULT=ACTION)",
             item);
    return -1;
}

static int load_actions(spf_policy_t *p, const config_t *cfg, const char *sec,
                        char *err, size_t errlen)
{
    for (int i = 0; i < SPF_RESULT_COUNT; i++) {
        char key[32];
        snprintf(key, sizeof(key), "on_%s", spf_result_name((spf_result_t) i));
        if (mact_parse(config_str(cfg, sec, key), &p->action[i]) < 0) {
            snprintf(err, errlen, "[%s] %s: unknown action", sec, key);
            return -1;
        }
    }
    return 0;
}

static int load_overrides(spf_policy_t *p, const config_t *cfg, const char *sec,
                          char *err, size_t errlen)
{
    const char *const *items;
    size_t n = config_list(cfg, sec, "domain_overrides", &items);

    if (n > SPF_POLICY_MAX_OVERRIDES) {
        snprintf(err, errlen, "[%s] domain_overrides: more than %d entries", sec,
                 SPF_POLICY_MAX_OVERRIDES);
        return -1;
    }
    if (n > 0 && (p->ov = calloc(n, sizeof(*p->ov))) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (parse_override(items[i], &p->ov[p->nov++], err, errlen) < 0)
            return -1;
    return 0;
}

spf_policy_t *spf_policy_new(const config_t *cfg, const char *section,
                             char *err, size_t errlen)
{
    spf_policy_t *p = calloc(1, sizeof(*p));

    if (p == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->skip_auth = config_bool(cfg, section, "skip_authenticated");
    if (load_actions(p, cfg, section, err, errlen) < 0
        || load_overrides(p, cfg, section, err, errlen) < 0
        || (p->internal = config_netlist(cfg, "global", "internal_hosts", err, errlen)) == NULL
        || (p->relays = config_netlist(cfg, section, "trusted_relays", err, errlen)) == NULL) {
        spf_policy_free(p);
        return NULL;
    }
    return p;
}

spf_skip_t spf_policy_skip(const spf_policy_t *p, const char *client_ip, const char *auth)
{
    if (client_ip != NULL && netlist_match_str(p->internal, client_ip))
        return SPF_SKIP_INTERNAL;
    if (p->skip_auth && auth != NULL && auth[0] != '\0')
        return SPF_SKIP_AUTHENTICATED;
    if (client_ip != NULL && netlist_match_str(p->relays, client_ip))
        return SPF_SKIP_RELAY;
    return SPF_SKIP_NONE;
}

const char *spf_skip_name(spf_skip_t s)
{
    static const char *const names[] = { "none", "internal", "authenticated", "trusted-relay" };

    return (unsigned) s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

static bool override_matches(const override_t *o, const char *domain, spf_result_t r)
{
    size_t n = strlen(domain), d = strlen(o->domain);

    if (o->result >= 0 && o->result != (int) r)
        return false;
    if (!o->subdomains)
        return strcasecmp(domain, o->domain) == 0;
    return n > d && domain[n - d - 1] == '.' && strcasecmp(domain + n - d, o->domain) == 0;
}

static void reply_text(const spf_verdict_t *v, const char *ip, spf_decision_t *d)
{
    const char *who = v->identity == SPF_ID_HELO ? "HELO name" : "domain";

    if (v->result == SPF_RESULT_FAIL && v->explanation[0] != '\0')
        snprintf(d->text, sizeof(d->text), "SPF fail for %.100s: %.280s", v->domain, v->explanation);
    else if (v->result == SPF_RESULT_FAIL || v->result == SPF_RESULT_SOFTFAIL)
        snprintf(d->text, sizeof(d->text),
                 "SPF %s: %s %s does not designate %s as permitted sender",
                 spf_result_name(v->result), who, v->domain, ip ? ip : "the client");
    else if (v->result == SPF_RESULT_TEMPERROR)
        snprintf(d->text, sizeof(d->text), "SPF temporary error for %s, try again later",
                 v->domain);
    else if (v->result == SPF_RESULT_PERMERROR)
        snprintf(d->text, sizeof(d->text), "SPF record of %s is in error", v->domain);
    else
        snprintf(d->text, sizeof(d->text), "SPF %s for %s %s", spf_result_name(v->result),
                 who, v->domain);
}

/* RFC 7372: X.7.23 validation failed, X.7.24 validation error; a
 * refusal of any other result is local policy (X.7.1). */
static const char *status_code(spf_result_t r, bool temp)
{
    switch (r) {
    case SPF_RESULT_FAIL:
    case SPF_RESULT_SOFTFAIL:
        return temp ? "4.7.23" : "5.7.23";
    case SPF_RESULT_TEMPERROR:
    case SPF_RESULT_PERMERROR:
        return temp ? "4.7.24" : "5.7.24";
    default:
        return temp ? "4.7.1" : "5.7.1";
    }
}

void spf_policy_decide(const spf_policy_t *p, const spf_verdict_t *v,
                       const char *client_ip, spf_decision_t *d)
{
    static const char *const keys[SPF_RESULT_COUNT] = {
        "on_none", "on_neutral", "on_pass", "on_fail", "on_softfail", "on_temperror",
        "on_permerror"
    };

    memset(d, 0, sizeof(*d));
    d->action = p->action[v->result];
    d->rule = keys[v->result];
    for (size_t i = 0; i < p->nov; i++)
        if (override_matches(&p->ov[i], v->domain, v->result)) {
            d->action = p->ov[i].action;
            d->rule = "domain_overrides";
            break;
        }
    reply_text(v, client_ip, d);
    if (d->action == MACT_REJECT || d->action == MACT_TEMPFAIL)
        d->xcode = status_code(v->result, d->action == MACT_TEMPFAIL);
}
