/*
 * dmarc_skip.c - outbound mail is not evaluated: the skip rule of
 * postern-dmarc, on the same signer selection postern-dkim uses.
 */
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "menv.h"
#include "netlist.h"

#include "dkim_select.h"

#include "dmarc_skip.h"

#define S "dmarc"

struct dmarc_skip {
    config_t *cfg;              /* held: owns the daemon names */
    netlist_t *internal;
    dkim_select_policy_t rule;
};

dmarc_skip_t *dmarc_skip_new(config_t *cfg, char *err, size_t errlen)
{
    dmarc_skip_t *s = calloc(1, sizeof(*s));

    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->cfg = config_ref(cfg);
    if ((s->internal = config_netlist(cfg, "global", "internal_hosts", err, errlen)) == NULL) {
        dmarc_skip_free(s);
        return NULL;
    }
    s->rule.sign_internal = config_bool(cfg, S, "skip_internal");
    s->rule.sign_authenticated = config_bool(cfg, S, "skip_authenticated");
    s->rule.nsign_daemons = config_list(cfg, S, "skip_daemons", &s->rule.sign_daemons);
    return s;
}

void dmarc_skip_free(dmarc_skip_t *s)
{
    if (s == NULL)
        return;
    netlist_free(s->internal);
    config_unref(s->cfg);
    free(s);
}

const char *dmarc_skip_reason(const dmarc_skip_t *s, const menv_t *e)
{
    dkim_select_in_t in = { .internal = menv_client_in(e, s->internal),
                            .auth = menv_auth(e), .daemon_name = menv_daemon_name(e) };
    const char *why;

    return dkim_select_role(&in, &s->rule, &why) == DKIM_ROLE_SIGN ? why : NULL;
}
