/*
 * confnet.c - a netlist from a CONF_LIST key, for the host lists every
 * component reads ([global] internal_hosts, trusted relays): one place
 * that builds them and names the key in the error.
 */
#include <stdio.h>

#include "config.h"
#include "netlist.h"

netlist_t *config_netlist(const config_t *cfg, const char *section, const char *key,
                          char *err, size_t errlen)
{
    const char *const *items;
    size_t n = config_list(cfg, section, key, &items);
    netlist_t *nl = netlist_new();
    char why[256];

    if (nl == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (netlist_add_list(nl, items[i], why, sizeof(why)) < 0) {
            snprintf(err, errlen, "[%s] %s: %s", section, key, why);
            netlist_free(nl);
            return NULL;
        }
    return nl;
}
