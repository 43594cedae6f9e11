/*
 * dnsconf.c - the one resolver of a daemon, set up from the [global]
 * dns_* keys, so every component reads them the same way.
 */
#include <stdio.h>

#include "config.h"
#include "dns.h"

dnsr_t *dnsr_new_from_config(const config_t *cfg, char *err, size_t errlen)
{
    const char *const *ups;
    dnsr_opts_t o = { 0 };

    o.nupstreams = config_list(cfg, "global", "dns_upstream", &ups);
    o.upstreams = ups;
    o.timeout_ms = (int) config_duration_ms(cfg, "global", "dns_timeout");
    o.dnssec = config_bool(cfg, "global", "dns_dnssec");
    o.trust_anchor = config_str(cfg, "global", "dns_trust_anchor");
    return dnsr_new(&o, err, errlen);
}
