/*
 * dmarc_rua.c - the RFC 7489 7.1 check of external report destinations,
 * asked by "postern dmarc report --send" before it mails a report.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "dmarc_from.h"
#include "dmarc_rua.h"

/* "._report._dmarc." between the two names, and the final NUL. */
#define AUTH_NAME_MAX (2 * DMARC_DOMAIN_MAX + 20)

static void each_auth(void *cbarg, const char *txt, size_t len)
{
    bool *found = cbarg;

    if (dmarc_record_is_dmarc(txt, len))
        *found = true;
}

/* The destination host of ADDRESS, lower case, into HOST; -1 if none. */
static int host_of(const char *address, char *host, size_t hostlen)
{
    const char *at = strrchr(address, '@');
    size_t n;

    if (at == NULL || (n = strlen(at + 1)) == 0 || n >= hostlen)
        return -1;
    for (size_t i = 0; i <= n; i++)
        host[i] = (char)tolower((unsigned char)at[1 + i]);
    return 0;
}

dmarc_rua_status_t dmarc_rua_check(const dmarc_source_t *src, const dmarc_psl_t *psl,
                                   const char *policy_domain, const char *address,
                                   char *why, size_t whylen)
{
    char host[DMARC_DOMAIN_MAX + 1], oh[DMARC_DOMAIN_MAX + 1], op[DMARC_DOMAIN_MAX + 1];
    char name[AUTH_NAME_MAX];
    bool found = false;

    if (host_of(address, host, sizeof host) < 0 ||
        dmarc_psl_org_domain(psl, host, oh, sizeof oh) < 0 ||
        dmarc_psl_org_domain(psl, policy_domain, op, sizeof op) < 0) {
        snprintf(why, whylen, "%s: no usable domain for %s", address, policy_domain);
        return DMARC_RUA_INVALID;
    }
    if (strcmp(oh, op) == 0) {
        snprintf(why, whylen, "%s: same organization as %s", address, policy_domain);
        return DMARC_RUA_SAME_ORG;
    }
    int n = snprintf(name, sizeof name, "%s._report._dmarc.%s", policy_domain, host);
    if (n < 0 || (size_t)n >= sizeof name || n > DMARC_DOMAIN_MAX) {
        snprintf(why, whylen, "%s: external destination, and no authorization record can "
                 "exist for %s (name too long)", address, policy_domain);
        return DMARC_RUA_UNAUTHORIZED;
    }
    switch (src->txt(src->arg, name, each_auth, &found)) {
    case DMARC_SRC_TEMPFAIL:
        snprintf(why, whylen, "%s: external destination, DNS lookup of %s failed",
                 address, name);
        return DMARC_RUA_TEMPFAIL;
    case DMARC_SRC_FOUND:
        if (found) {
            snprintf(why, whylen, "%s: external destination authorized by %s", address, name);
            return DMARC_RUA_AUTHORIZED;
        }
        break;
    case DMARC_SRC_NONE:
        break;
    }
    snprintf(why, whylen, "%s: external destination without a \"v=DMARC1\" record at %s "
             "(RFC 7489 7.1)", address, name);
    return DMARC_RUA_UNAUTHORIZED;
}

const char *dmarc_rua_status_name(dmarc_rua_status_t st)
{
    static const char *const names[] = {
        "same-organization", "authorized", "unauthorized", "tempfail", "invalid"
    };
    return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "invalid";
}
