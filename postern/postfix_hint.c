/*
 * postfix_hint.c - build the main.cf lines for the enabled components.
 * Milters go into smtpd_milters in component-table order; the same list
 * serves non_smtpd_milters so locally submitted mail gets the same
 * treatment (signing, above all).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#include "components.h"
#include "postfix_hint.h"

static int split_port_host(const char *rest, char *port, size_t plen,
                           const char **host)
{
    const char *at = strchr(rest, '@');
    size_t n = at ? (size_t) (at - rest) : strlen(rest);

    if (n == 0 || n >= plen || strspn(rest, "0123456789") != n)
        return -1;
    memcpy(port, rest, n);
    port[n] = '\0';
    if (atoi(port) < 1 || atoi(port) > 65535)
        return -1;
    *host = at ? at + 1 : NULL;
    return 0;
}

int postfix_milter_address(const char *spec, char *buf, size_t buflen)
{
    char port[8];
    const char *host;
    int n;

    if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
        const char *path = strchr(spec, ':') + 1;
        n = snprintf(buf, buflen, "unix:%s", path);
    } else if (strncmp(spec, "inet:", 5) == 0) {
        if (split_port_host(spec + 5, port, sizeof(port), &host) < 0)
            return -1;
        if (host == NULL || *host == '\0' || strcmp(host, "0.0.0.0") == 0)
            host = "127.0.0.1";
        n = snprintf(buf, buflen, "inet:%s:%s", host, port);
    } else if (strncmp(spec, "inet6:", 6) == 0) {
        if (split_port_host(spec + 6, port, sizeof(port), &host) < 0)
            return -1;
        if (host == NULL || *host == '\0' || strcmp(host, "::") == 0
            || strcmp(host, "[::]") == 0)
            host = "::1";
        n = snprintf(buf, buflen, host[0] == '[' ? "inet:%s:%s"
                                                 : "inet:[%s]:%s", host, port);
    } else {
        return -1;
    }
    return n > 0 && (size_t) n < buflen ? 0 : -1;
}

static int enabled(const config_t *cfg, const component_t *c)
{
    return config_bool(cfg, c->name, "enable");
}

static void write_milters(FILE *out, const config_t *cfg)
{
    const char *sep = "smtpd_milters = ";
    char addr[512];
    int any = 0;

    for (size_t i = 0; i < components_count(); i++) {
        const component_t *c = components_get(i);
        if (c->kind != COMPONENT_MILTER || !enabled(cfg, c))
            continue;
        const char *spec = config_str(cfg, c->name, "socket");
        if (spec == NULL || postfix_milter_address(spec, addr, sizeof(addr)) < 0)
            continue;
        fprintf(out, "%s%s", sep, addr);
        sep = ",\n    ";
        any = 1;
    }
    if (!any)
        return;
    fprintf(out, "\nnon_smtpd_milters = $smtpd_milters\n"
                 "milter_protocol = 6\n"
                 "# Never accept silently when a milter is down.\n"
                 "milter_default_action = tempfail\n");
}

static void write_policy(FILE *out, const config_t *cfg)
{
    for (size_t i = 0; i < components_count(); i++) {
        const component_t *c = components_get(i);
        const char *listen;
        if (c->kind != COMPONENT_POLICY || !enabled(cfg, c)
            || (listen = config_str(cfg, c->name, "listen")) == NULL)
            continue;
        fprintf(out, "smtpd_recipient_restrictions =\n"
                     "    permit_mynetworks, reject_unauth_destination,\n"
                     "    check_policy_service { %s, timeout=10s,"
                     " default_action=DUNNO }\n",
                listen);
    }
}

int postfix_hint_write(FILE *out, const config_t *cfg)
{
    int n = 0;

    for (size_t i = 0; i < components_count(); i++)
        n += enabled(cfg, components_get(i)) ? 1 : 0;
    if (n == 0)
        return 0;
    fprintf(out, "# Add to Postfix's main.cf, then run \"postfix reload\":\n");
    write_milters(out, cfg);
    write_policy(out, cfg);
    return n;
}
