/*
 * spf_dnsr.c - SPF DNS source on the shared resolver (common/dns).
 */
#include <stddef.h>

#include "dns.h"

#include "spf_dns.h"
#include "spf_dnsr.h"

static spf_dns_status_t map_status(dnsr_status_t st)
{
    switch (st) {
    case DNSR_OK: return SPF_DNS_OK;
    case DNSR_NXDOMAIN: return SPF_DNS_NXDOMAIN;
    case DNSR_NODATA: return SPF_DNS_NODATA;
    default: return SPF_DNS_TEMPFAIL;
    }
}

/* One record of answer A into OUT; undecodable records are skipped. */
static void copy_rr(const dnsr_answer_t *a, size_t i, spf_rrtype_t type,
                    spf_answer_t *out)
{
    char buf[SPF_TXT_MAX + 1];
    struct in_addr v4;
    struct in6_addr v6;
    unsigned pref;
    int n;

    switch (type) {
    case SPF_RR_A:
        if (dnsr_answer_a(a, i, &v4) == 0)
            spf_answer_add(out, type, NULL, 0, &v4);
        break;
    case SPF_RR_AAAA:
        if (dnsr_answer_aaaa(a, i, &v6) == 0)
            spf_answer_add(out, type, NULL, 0, &v6);
        break;
    case SPF_RR_TXT:
        n = dnsr_answer_txt(a, i, buf, sizeof(buf));
        if (n >= 0)
            spf_answer_add(out, type, buf, (size_t) n, NULL);
        break;
    case SPF_RR_MX:
        n = dnsr_answer_mx(a, i, &pref, buf, sizeof(buf));
        if (n >= 0)
            spf_answer_add(out, type, buf, (size_t) n, NULL);
        break;
    case SPF_RR_PTR:
        n = dnsr_answer_ptr(a, i, buf, sizeof(buf));
        if (n >= 0)
            spf_answer_add(out, type, buf, (size_t) n, NULL);
        break;
    }
}

static spf_dns_status_t dnsr_src_query(void *ctx, const char *name,
                                       spf_rrtype_t type, int timeout_ms,
                                       spf_answer_t *out)
{
    dnsr_answer_t *a = NULL;
    dnsr_status_t st;

    /* A deadline already spent must not turn into the resolver's default. */
    if (timeout_ms <= 0)
        return SPF_DNS_TEMPFAIL;
    st = dnsr_query_timeout(ctx, name, (int) type, timeout_ms, &a);
    if (st == DNSR_OK)
        for (size_t i = 0; i < dnsr_answer_count(a); i++)
            copy_rr(a, i, type, out);
    dnsr_answer_free(a);
    return map_status(st);
}

void spf_dnsr_source(spf_dns_source_t *src, dnsr_t *r)
{
    src->query = dnsr_src_query;
    src->ctx = r;
}
