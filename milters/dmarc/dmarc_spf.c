/*
 * dmarc_spf.c - spf_core's verdict as the SPF half of a DMARC input.
 */
#include <ctype.h>
#include <stdio.h>

#include "spf_eval.h"

#include "dmarc_spf.h"

void dmarc_spf_from_verdict(const spf_verdict_t *v, dmarc_spf_t *out)
{
    size_t n = 0;

    for (const char *p = v->domain; *p != '\0' && n + 1 < sizeof out->domain; p++)
        out->domain[n++] = (char)tolower((unsigned char)*p);
    if (n > 0 && out->domain[n - 1] == '.')
        n--;
    out->domain[n] = '\0';
    out->helo = v->identity == SPF_ID_HELO;
    if (dmarc_auth_parse(spf_result_name(v->result), &out->result) < 0)
        out->result = DMARC_AUTH_PERMERROR;
}

void dmarc_spf_input(const dmarc_spf_t *s, dmarc_input_t *in)
{
    in->spf_domain = s->domain[0] ? s->domain : NULL;
    in->spf_helo = s->helo;
    in->spf_result = s->domain[0] ? s->result : DMARC_AUTH_NONE;
}
