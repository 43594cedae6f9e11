/*
 * spf_dns.c - decoded DNS answers shared by every SPF DNS source.
 */
#include <stdlib.h>
#include <string.h>

#include "spf_dns.h"

void spf_answer_init(spf_answer_t *a)
{
    memset(a, 0, sizeof(*a));
}

void spf_answer_clear(spf_answer_t *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->rr[i].text);
    spf_answer_init(a);
}

int spf_answer_add(spf_answer_t *a, spf_rrtype_t type, const char *text,
                   size_t len, const void *addr)
{
    spf_rr_t *rr;

    if (a->n >= SPF_ANSWER_MAX)
        return -1;
    rr = &a->rr[a->n];
    memset(rr, 0, sizeof(*rr));
    if (type == SPF_RR_A && addr != NULL)
        memcpy(&rr->a, addr, sizeof(rr->a));
    else if (type == SPF_RR_AAAA && addr != NULL)
        memcpy(&rr->aaaa, addr, sizeof(rr->aaaa));
    else {
        size_t max = type == SPF_RR_TXT ? SPF_TXT_MAX : SPF_NAME_MAX;
        if (text == NULL)
            return -1;
        if (len > max)
            len = max;
        rr->text = malloc(len + 1);
        if (rr->text == NULL)
            return -1;
        memcpy(rr->text, text, len);
        rr->text[len] = '\0';
        rr->len = len;
    }
    a->n++;
    return 0;
}

const char *spf_dns_status_name(spf_dns_status_t st)
{
    switch (st) {
    case SPF_DNS_OK: return "ok";
    case SPF_DNS_NXDOMAIN: return "nxdomain";
    case SPF_DNS_NODATA: return "nodata";
    case SPF_DNS_TEMPFAIL: return "tempfail";
    }
    return "?";
}
