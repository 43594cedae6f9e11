/*
 * spf_libspf2.c - libspf2 on our DNS sources: an SPF_dns_server_t whose
 * lookup asks an spf_dns_source_t and turns the answer into libspf2's
 * SPF_dns_rr_t. Used to measure libspf2 against the RFC 7208 suite.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spf2/spf.h>
#include <spf2/spf_dns.h>
#include <spf2/spf_dns_rr.h>

#include "spf_dns.h"
#include "spf_libspf2.h"

static SPF_dns_stat_t herrno_of(spf_dns_status_t st)
{
    switch (st) {
    case SPF_DNS_OK: return NETDB_SUCCESS;
    case SPF_DNS_NXDOMAIN: return HOST_NOT_FOUND;
    case SPF_DNS_NODATA: return NO_DATA;
    default: return TRY_AGAIN;
    }
}

static int copy_rr(SPF_dns_rr_t *rr, int i, ns_type type, const spf_rr_t *src)
{
    size_t len = type == ns_t_a ? sizeof(struct in_addr)
                 : type == ns_t_aaaa ? sizeof(struct in6_addr) : src->len + 1;

    if (SPF_dns_rr_buf_realloc(rr, i, len) != SPF_E_SUCCESS)
        return -1;
    if (type == ns_t_a)
        rr->rr[i]->a = src->a;
    else if (type == ns_t_aaaa)
        rr->rr[i]->aaaa = src->aaaa;
    else
        memcpy(rr->rr[i]->txt, src->text, src->len + 1);
    return 0;
}

/*
 * Debian's libspf2 1.2.10-7.2 lacks upstream's "Fix integer underflow"
 * (d14abff, the bug behind CVE-2023-42118): when the compiled items of
 * one macro string end 1..3 bytes short of its 511-byte buffer, the next
 * literal's room underflows and the literal is copied past a stack
 * buffer. 127 "%{d}" and a long literal in an exp= text crash it
 * ("stack smashing detected"). Real records never hold more than a few
 * macros, so any TXT record with more than SPF_LIBSPF2_MAX_MACROS of
 * them is withheld from libspf2 (it sees no record) instead.
 */
#define SPF_LIBSPF2_MAX_MACROS 32

int spf_libspf2_record_safe(const char *txt, size_t len)
{
    size_t macros = 0;

    for (size_t i = 0; i + 1 < len; i++)
        if (txt[i] == '%' && txt[i + 1] == '{' && ++macros > SPF_LIBSPF2_MAX_MACROS)
            return 0;
    return 1;
}

/* What the DNS layer's hook points to. */
typedef struct layer {
    const spf_dns_source_t *src;
    int guard;
} layer_t;

static SPF_dns_rr_t *lookup(SPF_dns_server_t *server, const char *domain, ns_type type,
                            int should_cache)
{
    const layer_t *layer = server->hook;
    const spf_dns_source_t *src = layer->src;
    spf_answer_t ans;
    spf_dns_status_t st;
    SPF_dns_rr_t *rr;

    (void) should_cache;
    spf_answer_init(&ans);
    if (type != ns_t_a && type != ns_t_aaaa && type != ns_t_txt && type != ns_t_mx
        && type != ns_t_ptr)
        st = SPF_DNS_NODATA;    /* type SPF (99): RFC 7208 dropped it */
    else
        st = src->query(src->ctx, domain, (spf_rrtype_t) type, 5000, &ans);
    rr = SPF_dns_rr_new_init(server, domain, type, 0, herrno_of(st));
    for (size_t i = 0; rr != NULL && st == SPF_DNS_OK && i < ans.n; i++) {
        if (type == ns_t_txt && layer->guard
            && !spf_libspf2_record_safe(ans.rr[i].text, ans.rr[i].len))
            continue;
        if (copy_rr(rr, rr->num_rr, type, &ans.rr[i]) < 0)
            break;
        rr->num_rr++;
    }
    spf_answer_clear(&ans);
    return rr;
}

/* spf_libspf2_check owns and frees the layer; nothing to do here. */
static void destroy(SPF_dns_server_t *server)
{
    (void) server;
}

int spf_libspf2_check(const spf_dns_source_t *src, int guard, const char *ip,
                      const char *helo, const char *mailfrom, char *result, size_t rlen,
                      char *exp, size_t explen)
{
    layer_t layer = { src, guard };
    SPF_dns_server_t *dns = calloc(1, sizeof(*dns));
    SPF_server_t *server;
    SPF_request_t *req;
    SPF_response_t *resp = NULL;
    const char *e;

    if (dns == NULL)
        return -1;
    dns->destroy = destroy;
    dns->lookup = lookup;
    dns->name = "postern";
    dns->hook = &layer;
    if ((server = SPF_server_new_dns(dns, 0)) == NULL) {
        free(dns);
        return -1;
    }
    req = SPF_request_new(server);
    if (strchr(ip, ':') ? SPF_request_set_ipv6_str(req, ip) : SPF_request_set_ipv4_str(req, ip))
        snprintf(result, rlen, "permerror");
    else {
        SPF_request_set_helo_dom(req, helo);
        if (mailfrom[0] != '\0')
            SPF_request_set_env_from(req, mailfrom);
        SPF_request_query_mailfrom(req, &resp);
        /* A record libspf2 cannot compile leaves no result ("invalid");
         * a caller reads that as permerror, as the RFC says. */
        if (resp == NULL || SPF_response_result(resp) == SPF_RESULT_INVALID)
            snprintf(result, rlen, "permerror");
        else
            snprintf(result, rlen, "%s", SPF_strresult(SPF_response_result(resp)));
        e = resp ? SPF_response_get_explanation(resp) : NULL;
        snprintf(exp, explen, "%s", e ? e : "");
    }
    SPF_response_free(resp);
    SPF_request_free(req);
    SPF_server_free(server);
    /* A server made by SPF_server_new_dns leaves its resolver to us. */
    free(dns);
    return 0;
}
