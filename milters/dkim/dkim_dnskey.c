/*
 * dkim_dnskey.c - DKIM key records through the one shared resolver,
 * with its cache and deadlines (a resolver per message is how filters
 * run out of sockets).
 */
#include <stdio.h>
#include <string.h>

#include "dns.h"

#include "dkim_dnskey.h"

static int part_ok(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if ((unsigned char) *s <= 0x20 || (unsigned char) *s >= 0x7f || *s == '\\')
            return 0;
    return 1;
}

int dkim_dnskey_name(const char *selector, const char *domain, char *out, size_t outlen)
{
    int n;

    if (!part_ok(selector) || !part_ok(domain))
        return -1;
    n = snprintf(out, outlen, "%s._domainkey.%s", selector, domain);
    return n < 0 || (size_t) n >= outlen ? -1 : 0;
}

dkim_keysrc_t dkim_dnskey_lookup(void *arg, const char *selector, const char *domain,
                                 char *buf, size_t buflen)
{
    char name[300];
    dnsr_answer_t *a = NULL;
    dnsr_status_t st;
    dkim_keysrc_t rc = DKIM_KEYSRC_NOTFOUND;

    if (dkim_dnskey_name(selector, domain, name, sizeof(name)) < 0)
        return DKIM_KEYSRC_NOTFOUND;
    st = dnsr_query((dnsr_t *) arg, name, DNSR_TXT, &a);
    if (st == DNSR_OK) {
        for (size_t i = 0; i < dnsr_answer_count(a); i++) {
            int n = dnsr_answer_txt(a, i, buf, buflen);

            if (n > 0 && (size_t) n == strlen(buf) && strstr(buf, "p=") != NULL) {
                rc = DKIM_KEYSRC_OK;
                break;
            }
        }
    } else if (st != DNSR_NXDOMAIN && st != DNSR_NODATA) {
        rc = DKIM_KEYSRC_TEMP;
    }
    dnsr_answer_free(a);
    return rc;
}
