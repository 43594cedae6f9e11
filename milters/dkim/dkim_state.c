/*
 * dkim_state.c - builds the per-config state of postern-dkim. All the
 * expensive work (reading and checking private keys, compiling header
 * lists, setting up libopendkim and the resolver) happens here, never
 * per message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "milterd.h"

#include "dkim_dnskey.h"
#include "dkim_state.h"

#define S "dkim"

static int build_internal(dkim_state_t *st, char *err, size_t errlen)
{
    st->internal = config_netlist(st->cfg, "global", "internal_hosts", err, errlen);
    return st->internal != NULL ? 0 : -1;
}

static int build_hdrs(dkim_state_t *st, char *err, size_t errlen)
{
    const char *const *sign, *const *over;
    size_t ns = config_list(st->cfg, S, "sign_headers", &sign);
    size_t no = config_list(st->cfg, S, "oversign_headers", &over);
    char why[256];

    st->hdrs = dkim_hdrlist_new(sign, ns, over, no, why, sizeof(why));
    if (st->hdrs == NULL) {
        snprintf(err, errlen, "[dkim] sign_headers/oversign_headers: %s", why);
        return -1;
    }
    return 0;
}

static int build_keys(dkim_state_t *st, char *err, size_t errlen)
{
    const char *path = config_str(st->cfg, S, "keytable");

    if (path == NULL || *path == '\0') {
        st->keys = dkim_keys_new();
        if (st->keys == NULL)
            snprintf(err, errlen, "out of memory");
        return st->keys != NULL ? 0 : -1;
    }
    st->keys = dkim_keys_load(path, err, errlen);
    return st->keys != NULL ? 0 : -1;
}

/* No resolver (tests): every key lookup is a temporary failure. */
static dkim_keysrc_t no_dns(void *arg, const char *sel, const char *dom, char *buf, size_t len)
{
    (void) arg, (void) sel, (void) dom, (void) buf, (void) len;
    return DKIM_KEYSRC_TEMP;
}

static int build_policy(dkim_state_t *st, char *err, size_t errlen)
{
    const char *canon = config_str(st->cfg, S, "canonicalization");

    st->select.sign_internal = config_bool(st->cfg, S, "sign_internal");
    st->select.sign_authenticated = config_bool(st->cfg, S, "sign_authenticated");
    st->select.nsign_daemons = config_list(st->cfg, S, "sign_daemons", &st->select.sign_daemons);
    if (mact_parse(config_str(st->cfg, S, "on_fail"), &st->policy.on_fail) < 0
        || mact_parse(config_str(st->cfg, S, "on_temperror"), &st->policy.on_temperror) < 0
        || mact_parse(config_str(st->cfg, S, "on_sign_error"), &st->on_sign_error) < 0) {
        snprintf(err, errlen, "[dkim] bad action");
        return -1;
    }
    st->monitor = strcmp(config_str(st->cfg, S, "mode"), "monitor") == 0;
    st->max_headers = (unsigned) config_int(st->cfg, S, "max_headers");
    milterd_authserv_id(st->cfg, st->authserv_id, sizeof(st->authserv_id));

    dkim_engine_opts_t o = {
        .hdrs = st->hdrs,
        .relaxed_header = strncmp(canon, "relaxed/", 8) == 0,
        .relaxed_body = strcmp(strchr(canon, '/') + 1, "relaxed") == 0,
        .signature_ttl_s = (uint64_t) config_duration_ms(st->cfg, S, "signature_ttl") / 1000,
        .min_key_bits = (unsigned) config_int(st->cfg, S, "min_key_bits"),
        .max_signatures = (unsigned) config_int(st->cfg, S, "max_signatures"),
        .max_headers = st->max_headers,
        .keysrc = st->dns != NULL ? dkim_dnskey_lookup : no_dns,
        .keysrc_arg = st->dns,
    };
    st->eng = dkim_engine_new(&o, err, errlen);
    return st->eng != NULL ? 0 : -1;
}

dkim_state_t *dkim_state_new_with(config_t *cfg, audit_t *audit, dnsr_t *dns,
                                  char *err, size_t errlen)
{
    dkim_state_t *st = calloc(1, sizeof(*st));

    if (st == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    st->cfg = config_ref(cfg);
    st->audit = audit;
    st->dns = dns;
    if (build_internal(st, err, errlen) < 0 || build_hdrs(st, err, errlen) < 0
        || build_keys(st, err, errlen) < 0 || build_policy(st, err, errlen) < 0) {
        dkim_state_free(st);
        return NULL;
    }
    return st;
}

dkim_state_t *dkim_state_new(config_t *cfg, audit_t *audit, char *err, size_t errlen)
{
    dnsr_t *dns = dnsr_new_from_config(cfg, err, errlen);
    dkim_state_t *st;

    if (dns == NULL)
        return NULL;
    st = dkim_state_new_with(cfg, audit, dns, err, errlen);
    if (st == NULL) {
        dnsr_free(dns);
        return NULL;
    }
    st->own_dns = true;
    return st;
}

void dkim_state_free(dkim_state_t *st)
{
    if (st == NULL)
        return;
    dkim_engine_free(st->eng);
    dkim_keys_free(st->keys);
    dkim_hdrlist_free(st->hdrs);
    netlist_free(st->internal);
    if (st->own_dns)
        dnsr_free(st->dns);
    config_unref(st->cfg);
    free(st);
}
