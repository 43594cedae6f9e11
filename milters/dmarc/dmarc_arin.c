/*
 * dmarc_arin.c - SPF and DKIM results from our own Authentication-Results
 * fields, through common/authres, into a dmarc_input_t.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "authres.h"

#include "dmarc_arin.h"

void dmarc_arin_reset(dmarc_arin_t *ar)
{
    memset(ar, 0, sizeof *ar);
}

static const char *prop(const authres_result_t *r, const char *ptype, const char *name)
{
    for (size_t i = 0; i < r->nprops; i++)
        if (strcasecmp(r->props[i].ptype, ptype) == 0 &&
            strcasecmp(r->props[i].property, name) == 0)
            return r->props[i].value;
    return NULL;
}

/* The domain of an address or a bare domain, lower case, into BUF. */
static void domain_of(const char *v, char *buf, size_t buflen)
{
    const char *at = strrchr(v, '@');
    size_t n = 0;

    for (v = at ? at + 1 : v; *v != '\0' && n + 1 < buflen; v++)
        buf[n++] = (char)tolower((unsigned char)*v);
    buf[n] = '\0';
}

static dmarc_auth_t result_of(const char *name)
{
    dmarc_auth_t a;
    return dmarc_auth_parse(name, &a) == 0 ? a : DMARC_AUTH_PERMERROR;
}

static void take_spf(dmarc_arin_t *ar, const authres_result_t *r)
{
    const char *mf = prop(r, "smtp", "mailfrom"), *helo = prop(r, "smtp", "helo");

    /* A MAIL FROM result wins over a HELO one (RFC 7489 3.1.2). */
    if ((ar->have_spf && !ar->spf_helo) || (mf == NULL && helo == NULL) ||
        (ar->have_spf && mf == NULL))
        return;
    domain_of(mf ? mf : helo, ar->spf_domain, sizeof ar->spf_domain);
    ar->spf_helo = mf == NULL;
    ar->spf_result = result_of(r->result);
    ar->have_spf = true;
}

static void take_dkim(dmarc_arin_t *ar, const authres_result_t *r)
{
    const char *d = prop(r, "header", "d"), *i = prop(r, "header", "i");
    const char *s = prop(r, "header", "s");

    if (ar->ndkim >= DMARC_MAX_DKIM || (d == NULL && i == NULL))
        return;
    size_t k = ar->ndkim++;
    domain_of(d ? d : i, ar->dkim_domain[k], sizeof ar->dkim_domain[k]);
    snprintf(ar->dkim_selector[k], sizeof ar->dkim_selector[k], "%s", s ? s : "");
    ar->dkim[k].result = result_of(r->result);
}

int dmarc_arin_add(dmarc_arin_t *ar, const char *value, size_t len, const char *authserv_id)
{
    authres_t *parsed;
    char err[128];

    if (!authres_is_ours(value, len, authserv_id) ||
        authres_parse(value, len, &parsed, err, sizeof err) < 0)
        return 0;
    for (size_t i = 0; i < parsed->nresults; i++) {
        const authres_result_t *r = &parsed->results[i];
        if (strcasecmp(r->method, "spf") == 0)
            take_spf(ar, r);
        else if (strcasecmp(r->method, "dkim") == 0)
            take_dkim(ar, r);
    }
    authres_free(parsed);
    return 1;
}

void dmarc_arin_input(dmarc_arin_t *ar, dmarc_input_t *in)
{
    in->spf_domain = ar->have_spf ? ar->spf_domain : NULL;
    in->spf_helo = ar->spf_helo;
    in->spf_result = ar->have_spf ? ar->spf_result : DMARC_AUTH_NONE;
    for (size_t i = 0; i < ar->ndkim; i++) {
        ar->dkim[i].domain = ar->dkim_domain[i];
        ar->dkim[i].selector = ar->dkim_selector[i];
    }
    in->dkim = ar->dkim;
    in->ndkim = ar->ndkim;
}
