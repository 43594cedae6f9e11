/*
 * dmarc_dkim.c - dkim_core's signature results as the DKIM half of a
 * DMARC input.
 */
#include <stddef.h>

#include "dkim_result.h"

#include "dmarc_dkim.h"

dmarc_auth_t dmarc_dkim_auth(dkim_res_t r)
{
    switch (r) {
    case DKIM_RES_PASS:      return DMARC_AUTH_PASS;
    case DKIM_RES_FAIL:      return DMARC_AUTH_FAIL;
    case DKIM_RES_NEUTRAL:   return DMARC_AUTH_NEUTRAL;
    case DKIM_RES_POLICY:    return DMARC_AUTH_POLICY;
    case DKIM_RES_TEMPERROR: return DMARC_AUTH_TEMPERROR;
    case DKIM_RES_PERMERROR: return DMARC_AUTH_PERMERROR;
    case DKIM_RES_NONE:      return DMARC_AUTH_NONE;
    }
    /* An unknown code must never be taken for a pass. */
    return DMARC_AUTH_PERMERROR;
}

size_t dmarc_dkim_from_results(const dkim_sigres_t *r, size_t n, dmarc_dkim_in_t *out,
                               size_t max)
{
    size_t k = 0;

    for (size_t i = 0; i < n && k < max; i++) {
        if (r[i].domain[0] == '\0')
            continue;           /* no identifier to align */
        out[k].domain = r[i].domain;
        out[k].selector = r[i].selector[0] ? r[i].selector : NULL;
        out[k].result = dmarc_dkim_auth(r[i].res);
        k++;
    }
    return k;
}
