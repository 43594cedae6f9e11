/*
 * spf_eval.c - RFC 7208 check_host(): record selection, directive
 * evaluation, include/redirect, exp=, and the processing limits.
 * Syntax is spf_record.c's, macros spf_macro.c's; DNS comes from the
 * source the caller chose (spf_dns.h).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "spf_dns.h"
#include "spf_eval.h"
#include "spf_macro.h"
#include "spf_record.h"

/* include/redirect nesting; the term limit stops loops long before. */
#define MAX_DEPTH 12
#define MAX_MX 10
#define MAX_PTR 10
#define DOMAIN_BUF 512

struct spf_eval {
    spf_eval_opts_t o;
    spf_dns_source_t src;
    char receiver[256];
};

/* State of one check. */
typedef struct run {
    const spf_eval_t *ev;
    spf_verdict_t *v;
    int af;
    struct in_addr v4;
    struct in6_addr v6;
    char ip_macro[128];         /* %{i} */
    char ip_text[64];           /* %{c} */
    const char *helo;
    const char *local, *sender_domain;
    struct timespec start;
    bool ptr_done;
    char ptr_name[256];         /* %{p} */
    char cur_domain[256];       /* %{d} while expanding */
} run_t;

typedef enum { M_NOMATCH, M_MATCH, M_TEMPERROR, M_PERMERROR } match_t;

static const char *const result_names[SPF_RESULT_COUNT] = {
    "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror"
};

const char *spf_result_name(spf_result_t r)
{
    return (unsigned) r < SPF_RESULT_COUNT ? result_names[r] : "?";
}

int spf_result_parse(const char *name, spf_result_t *out)
{
    for (int i = 0; i < SPF_RESULT_COUNT; i++)
        if (strcasecmp(name, result_names[i]) == 0) {
            *out = (spf_result_t) i;
            return 0;
        }
    return -1;
}

spf_eval_t *spf_eval_new(const spf_eval_opts_t *opts, const spf_dns_source_t *src,
                         char *err, size_t errlen)
{
    spf_eval_t *ev;

    if (src == NULL || src->query == NULL) {
        snprintf(err, errlen, "no DNS source");
        return NULL;
    }
    if ((ev = calloc(1, sizeof(*ev))) == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (opts != NULL)
        ev->o = *opts;
    if (ev->o.max_dns_terms == 0)
        ev->o.max_dns_terms = 10;
    if (ev->o.max_void == 0)
        ev->o.max_void = 2;
    if (ev->o.time_limit_ms <= 0)
        ev->o.time_limit_ms = 20000;
    if (ev->o.query_timeout_ms <= 0)
        ev->o.query_timeout_ms = 5000;
    snprintf(ev->receiver, sizeof(ev->receiver), "%s",
             opts && opts->receiver ? opts->receiver : "unknown");
    ev->o.receiver = ev->receiver;
    ev->src = *src;
    return ev;
}

void spf_eval_free(spf_eval_t *ev)
{
    free(ev);
}

/* ---- time and DNS ---- */

static double elapsed_ms(const run_t *r)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double) (now.tv_sec - r->start.tv_sec) * 1000.0
           + (double) (now.tv_nsec - r->start.tv_nsec) / 1e6;
}

/* One query with the time left; out of time is a temporary error. */
static spf_dns_status_t query(run_t *r, const char *name, spf_rrtype_t type,
                              spf_answer_t *ans)
{
    int left = r->ev->o.time_limit_ms - (int) elapsed_ms(r);
    int t = left < r->ev->o.query_timeout_ms ? left : r->ev->o.query_timeout_ms;

    spf_answer_init(ans);
    if (t <= 0) {
        snprintf(r->v->reason, sizeof(r->v->reason), "time limit of %d ms reached",
                 r->ev->o.time_limit_ms);
        return SPF_DNS_TEMPFAIL;
    }
    r->v->queries++;
    return r->ev->src.query(r->ev->src.ctx, name, type, t, ans);
}

static match_t tempfail(run_t *r, const char *name)
{
    if (r->v->reason[0] == '\0')
        snprintf(r->v->reason, sizeof(r->v->reason), "DNS error looking up %.200s", name);
    return M_TEMPERROR;
}

static match_t permerror(run_t *r, const char *why, const char *name)
{
    snprintf(r->v->reason, sizeof(r->v->reason), "%.100s%s%.120s", why,
             name ? ": " : "", name ? name : "");
    return M_PERMERROR;
}

/* Section 4.6.4: NXDOMAIN or an empty answer counts as a void lookup. */
static bool void_exceeded(run_t *r, spf_dns_status_t st, const spf_answer_t *a)
{
    if (st == SPF_DNS_NXDOMAIN || st == SPF_DNS_NODATA
        || (st == SPF_DNS_OK && a->n == 0))
        return ++r->v->void_lookups > r->ev->o.max_void;
    return false;
}

static bool count_term(run_t *r)
{
    return ++r->v->dns_terms > r->ev->o.max_dns_terms;
}

/* ---- addresses ---- */

static bool prefix_match(const unsigned char *a, const unsigned char *b, int bits)
{
    int bytes = bits / 8, rest = bits % 8;

    if (memcmp(a, b, (size_t) bytes) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char) (0xff << (8 - rest));
    return (a[bytes] & mask) == (b[bytes] & mask);
}

static bool addr_in(const run_t *r, const spf_rr_t *rr, spf_rrtype_t type, int c4, int c6)
{
    if (type == SPF_RR_A)
        return r->af == AF_INET
               && prefix_match((const unsigned char *) &r->v4, (const unsigned char *) &rr->a, c4);
    return r->af == AF_INET6
           && prefix_match(r->v6.s6_addr, rr->aaaa.s6_addr, c6);
}

static spf_rrtype_t addr_type(const run_t *r)
{
    return r->af == AF_INET ? SPF_RR_A : SPF_RR_AAAA;
}

/* Section 4.3 and 4.6.1: a name we may query (labels 1..63, <= 253, a dot). */
static bool name_ok(const char *d)
{
    size_t len = strlen(d), lab = 0;

    if (len > 0 && d[len - 1] == '.')
        len--;
    if (len == 0 || len > 253 || memchr(d, '.', len) == NULL)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (d[i] == '.') {
            if (lab == 0)
                return false;
            lab = 0;
        } else if (++lab > 63)
            return false;
    }
    return lab > 0;
}

/* ---- macros ---- */

static bool ptr_validated(run_t *r, const char *domain, char *out, size_t outlen,
                          match_t *err_out);

static const char *ptr_macro(void *arg)
{
    run_t *r = arg;
    match_t m;

    if (!r->ptr_done) {
        r->ptr_done = true;
        if (!ptr_validated(r, r->cur_domain, r->ptr_name, sizeof(r->ptr_name), &m))
            snprintf(r->ptr_name, sizeof(r->ptr_name), "unknown");
    }
    return r->ptr_name;
}

static void macro_env(run_t *r, const char *domain, spf_macro_env_t *env)
{
    snprintf(r->cur_domain, sizeof(r->cur_domain), "%s", domain);
    memset(env, 0, sizeof(*env));
    env->sender = r->v->sender;
    env->local = r->local;
    env->sender_domain = r->sender_domain;
    env->domain = r->cur_domain;
    env->ip = r->ip_macro;
    env->client = r->ip_text;
    env->helo = r->helo ? r->helo : "";
    env->receiver = r->ev->receiver;
    env->ipv6 = r->af == AF_INET6;
    env->now = time(NULL);
    env->ptr = ptr_macro;
    env->ptr_arg = r;
}

/* Expands a domain-spec (NULL: the current domain). */
static int expand_domain(run_t *r, const char *spec, const char *domain,
                         char *out, size_t outlen)
{
    spf_macro_env_t env;
    char err[128];

    if (spec == NULL) {
        snprintf(out, outlen, "%s", domain);
        return 0;
    }
    macro_env(r, domain, &env);
    if (spf_macro_expand(&env, spec, strlen(spec), SPF_MACRO_DOMAIN, out, outlen,
                         err, sizeof(err)) < 0) {
        permerror(r, err, spec);
        return -1;
    }
    return 0;
}

/* ---- mechanisms ---- */

/* Looks up TARGET's A/AAAA records and matches the client with the
 * prefix lengths. COUNT_VOID: this lookup counts toward the void limit. */
static match_t match_host(run_t *r, const char *target, int c4, int c6, bool count_void)
{
    spf_answer_t a;
    spf_dns_status_t st;
    match_t m = M_NOMATCH;

    if (!name_ok(target))
        return M_NOMATCH;
    st = query(r, target, addr_type(r), &a);
    if (st == SPF_DNS_TEMPFAIL)
        m = tempfail(r, target);
    else if (count_void && void_exceeded(r, st, &a))
        m = permerror(r, "too many void lookups", target);
    else
        for (size_t i = 0; i < a.n && m == M_NOMATCH; i++)
            if (addr_in(r, &a.rr[i], addr_type(r), c4, c6))
                m = M_MATCH;
    spf_answer_clear(&a);
    return m;
}

static match_t match_mx(run_t *r, const char *target, int c4, int c6)
{
    spf_answer_t mx;
    spf_dns_status_t st;
    match_t m = M_NOMATCH;

    if (!name_ok(target))
        return M_NOMATCH;
    st = query(r, target, SPF_RR_MX, &mx);
    if (st == SPF_DNS_TEMPFAIL)
        m = tempfail(r, target);
    else if (void_exceeded(r, st, &mx))
        m = permerror(r, "too many void lookups", target);
    else if (mx.n > MAX_MX)
        m = permerror(r, "more than 10 MX records", target);
    else
        for (size_t i = 0; i < mx.n && m == M_NOMATCH; i++)
            m = match_host(r, mx.rr[i].text, c4, c6, false);
    spf_answer_clear(&mx);
    return m;
}

/* The reverse name of the client for PTR queries. */
static void reverse_name(const run_t *r, char *out, size_t outlen)
{
    const unsigned char *b = r->af == AF_INET ? (const unsigned char *) &r->v4 : r->v6.s6_addr;
    size_t off = 0;

    out[0] = '\0';
    if (r->af == AF_INET)
        snprintf(out, outlen, "%u.%u.%u.%u.in-addr.arpa", b[3], b[2], b[1], b[0]);
    else {
        for (int i = 15; i >= 0 && off + 4 < outlen; i--)
            off += (size_t) snprintf(out + off, outlen - off, "%x.%x.", b[i] & 0xf, b[i] >> 4);
        snprintf(out + off, outlen - off, "ip6.arpa");
    }
}

static bool is_sub_or_same(const char *name, const char *domain)
{
    size_t n = strlen(name), d = strlen(domain);

    if (d > 0 && domain[d - 1] == '.')
        d--;
    if (n > 0 && name[n - 1] == '.')
        n--;
    if (n < d || strncasecmp(name + n - d, domain, d) != 0)
        return false;
    return n == d || name[n - d - 1] == '.';
}

/* Section 5.5: PTR names of the client whose A/AAAA lead back to it.
 * Prefers DOMAIN itself, then a subdomain of it, then any (for %{p}). */
static bool ptr_validated(run_t *r, const char *domain, char *out, size_t outlen,
                          match_t *err_out)
{
    spf_answer_t ptr;
    char rev[128];
    int best = 0;

    *err_out = M_NOMATCH;
    reverse_name(r, rev, sizeof(rev));
    if (query(r, rev, SPF_RR_PTR, &ptr) != SPF_DNS_OK) {
        spf_answer_clear(&ptr);
        return false;       /* a PTR failure only fails to match (5.5) */
    }
    for (size_t i = 0; i < ptr.n && i < MAX_PTR && best < 3; i++) {
        const char *name = ptr.rr[i].text;
        int rank = strcasecmp(name, domain) == 0 ? 3 : is_sub_or_same(name, domain) ? 2 : 1;
        /* only names that could improve on what we have are checked */
        if (rank <= best || match_host(r, name, 32, 128, false) != M_MATCH)
            continue;
        best = rank;
        snprintf(out, outlen, "%s", name);
    }
    spf_answer_clear(&ptr);
    return best > 0;
}

static match_t match_ptr(run_t *r, const char *target)
{
    char name[256];
    match_t m;

    if (!ptr_validated(r, target, name, sizeof(name), &m))
        return m;
    return is_sub_or_same(name, target) ? M_MATCH : M_NOMATCH;
}

static match_t match_exists(run_t *r, const char *target)
{
    spf_answer_t a;
    spf_dns_status_t st;
    match_t m;

    if (!name_ok(target))
        return M_NOMATCH;
    /* exists always asks for A, whatever the client's family (5.7) */
    st = query(r, target, SPF_RR_A, &a);
    if (st == SPF_DNS_TEMPFAIL)
        m = tempfail(r, target);
    else if (void_exceeded(r, st, &a))
        m = permerror(r, "too many void lookups", target);
    else
        m = a.n > 0 ? M_MATCH : M_NOMATCH;
    spf_answer_clear(&a);
    return m;
}

static spf_result_t check_host(run_t *r, const char *domain, int depth);

static match_t match_include(run_t *r, const char *target, int depth)
{
    spf_result_t res = check_host(r, target, depth + 1);

    r->v->explanation[0] = '\0';   /* an included record's exp= is not ours */
    switch (res) {
    case SPF_RESULT_PASS: return M_MATCH;
    case SPF_RESULT_FAIL: case SPF_RESULT_SOFTFAIL: case SPF_RESULT_NEUTRAL:
        r->v->reason[0] = '\0';
        return M_NOMATCH;
    case SPF_RESULT_TEMPERROR: return M_TEMPERROR;
    case SPF_RESULT_NONE:
        return permerror(r, "include of a domain without SPF record", target);
    default: return M_PERMERROR;
    }
}

static bool term_queries_dns(spf_mech_t m)
{
    return m == SPF_MECH_INCLUDE || m == SPF_MECH_A || m == SPF_MECH_MX
           || m == SPF_MECH_PTR || m == SPF_MECH_EXISTS;
}

static match_t match_term(run_t *r, const spf_term_t *t, const char *domain, int depth)
{
    char target[DOMAIN_BUF];

    if (term_queries_dns(t->mech)) {
        if (count_term(r))
            return permerror(r, "more than 10 DNS-querying terms", t->text);
        if (expand_domain(r, t->domain, domain, target, sizeof(target)) < 0)
            return M_PERMERROR;
    }
    switch (t->mech) {
    case SPF_MECH_ALL: return M_MATCH;
    case SPF_MECH_INCLUDE: return match_include(r, target, depth);
    case SPF_MECH_A: return match_host(r, target, t->cidr4, t->cidr6, true);
    case SPF_MECH_MX: return match_mx(r, target, t->cidr4, t->cidr6);
    case SPF_MECH_PTR: return match_ptr(r, target);
    case SPF_MECH_EXISTS: return match_exists(r, target);
    case SPF_MECH_IP4:
        return r->af == AF_INET && prefix_match((const unsigned char *) &r->v4,
                                                (const unsigned char *) &t->ip4, t->cidr4)
               ? M_MATCH : M_NOMATCH;
    case SPF_MECH_IP6:
        return r->af == AF_INET6 && prefix_match(r->v6.s6_addr, t->ip6.s6_addr, t->cidr6)
               ? M_MATCH : M_NOMATCH;
    }
    return M_NOMATCH;
}

/* ---- records ---- */

/* Section 4.4/4.5: exactly one "v=spf1" TXT record, parsed. */
static spf_result_t fetch_record(run_t *r, const char *domain, spf_record_t **rec)
{
    spf_answer_t a;
    spf_dns_status_t st;
    const spf_rr_t *found = NULL;
    char err[200];
    spf_result_t res = SPF_RESULT_NONE;

    *rec = NULL;
    st = query(r, domain, SPF_RR_TXT, &a);
    if (st == SPF_DNS_TEMPFAIL) {
        tempfail(r, domain);
        res = SPF_RESULT_TEMPERROR;
        goto out;
    }
    for (size_t i = 0; i < a.n; i++)
        if (spf_record_is_spf(a.rr[i].text, a.rr[i].len)) {
            if (found != NULL) {
                permerror(r, "more than one SPF record", domain);
                res = SPF_RESULT_PERMERROR;
                goto out;
            }
            found = &a.rr[i];
        }
    if (found == NULL) {
        snprintf(r->v->reason, sizeof(r->v->reason), "no SPF record at %s", domain);
        goto out;
    }
    if (spf_record_parse(found->text, found->len, rec, err, sizeof(err)) < 0) {
        permerror(r, err, domain);
        res = SPF_RESULT_PERMERROR;
        goto out;
    }
    res = SPF_RESULT_NEUTRAL;   /* "has a record"; the caller evaluates it */
out:
    spf_answer_clear(&a);
    return res;
}

static spf_result_t qualifier_result(char q)
{
    switch (q) {
    case '-': return SPF_RESULT_FAIL;
    case '~': return SPF_RESULT_SOFTFAIL;
    case '?': return SPF_RESULT_NEUTRAL;
    default: return SPF_RESULT_PASS;
    }
}

/* Section 6.2: the explanation for a fail; any problem leaves it empty. */
static void explain(run_t *r, const spf_record_t *rec, const char *domain)
{
    char name[DOMAIN_BUF], err[128];
    spf_answer_t a;
    spf_macro_env_t env;

    if (rec->exp == NULL)
        return;
    macro_env(r, domain, &env);
    if (spf_macro_expand(&env, rec->exp, strlen(rec->exp), SPF_MACRO_DOMAIN, name,
                         sizeof(name), err, sizeof(err)) < 0 || !name_ok(name))
        return;
    if (query(r, name, SPF_RR_TXT, &a) == SPF_DNS_OK && a.n == 1) {
        macro_env(r, domain, &env);
        if (spf_macro_expand(&env, a.rr[0].text, a.rr[0].len, SPF_MACRO_EXPLAIN,
                             r->v->explanation, sizeof(r->v->explanation),
                             err, sizeof(err)) < 0)
            r->v->explanation[0] = '\0';
    }
    spf_answer_clear(&a);
}

static spf_result_t eval_record(run_t *r, const spf_record_t *rec, const char *domain,
                                int depth)
{
    char target[DOMAIN_BUF];
    spf_result_t res;

    for (size_t i = 0; i < rec->nterms; i++) {
        const spf_term_t *t = &rec->terms[i];
        switch (match_term(r, t, domain, depth)) {
        case M_NOMATCH: continue;
        case M_TEMPERROR: return SPF_RESULT_TEMPERROR;
        case M_PERMERROR: return SPF_RESULT_PERMERROR;
        case M_MATCH: break;
        }
        snprintf(r->v->mechanism, sizeof(r->v->mechanism), "%s", t->text);
        res = qualifier_result(t->qualifier);
        if (res == SPF_RESULT_FAIL)
            explain(r, rec, domain);
        return res;
    }
    if (rec->redirect == NULL)
        return SPF_RESULT_NEUTRAL;  /* section 4.7: no match, no redirect */
    if (count_term(r)) {
        permerror(r, "more than 10 DNS-querying terms", "redirect");
        return SPF_RESULT_PERMERROR;
    }
    if (expand_domain(r, rec->redirect, domain, target, sizeof(target)) < 0)
        return SPF_RESULT_PERMERROR;
    res = check_host(r, target, depth + 1);
    if (res == SPF_RESULT_NONE) {   /* section 6.1 */
        permerror(r, "redirect to a domain without SPF record", target);
        return SPF_RESULT_PERMERROR;
    }
    return res;
}

static spf_result_t check_host(run_t *r, const char *domain, int depth)
{
    spf_record_t *rec;
    spf_result_t res;

    if (depth > MAX_DEPTH) {
        permerror(r, "include/redirect nested too deep", domain);
        return SPF_RESULT_PERMERROR;
    }
    if (!name_ok(domain)) {
        snprintf(r->v->reason, sizeof(r->v->reason), "not a valid domain: %.200s", domain);
        return SPF_RESULT_NONE;
    }
    res = fetch_record(r, domain, &rec);
    if (rec == NULL)
        return res;
    res = eval_record(r, rec, domain, depth);
    spf_record_free(rec);
    return res;
}

/* ---- entry points ---- */

static int set_client(run_t *r, const char *ip)
{
    struct in6_addr a6;

    if (ip != NULL && inet_pton(AF_INET, ip, &r->v4) == 1)
        r->af = AF_INET;
    else if (ip != NULL && inet_pton(AF_INET6, ip, &a6) == 1) {
        if (IN6_IS_ADDR_V4MAPPED(&a6)) {
            /* an IPv4 client seen through an IPv6 socket is an IPv4 client */
            r->af = AF_INET;
            memcpy(&r->v4, &a6.s6_addr[12], 4);
        } else {
            r->af = AF_INET6;
            r->v6 = a6;
        }
    } else
        return -1;
    if (r->af == AF_INET) {
        inet_ntop(AF_INET, &r->v4, r->ip_text, sizeof(r->ip_text));
        snprintf(r->ip_macro, sizeof(r->ip_macro), "%s", r->ip_text);
    } else {
        size_t off = 0;
        inet_ntop(AF_INET6, &r->v6, r->ip_text, sizeof(r->ip_text));
        for (int i = 0; i < 16; i++)
            off += (size_t) snprintf(r->ip_macro + off, sizeof(r->ip_macro) - off,
                                     "%s%X.%X", i ? "." : "", r->v6.s6_addr[i] >> 4,
                                     r->v6.s6_addr[i] & 0xf);
    }
    return 0;
}

static spf_result_t run_check(const spf_eval_t *ev, const char *ip, const char *helo,
                              const char *local, const char *domain,
                              spf_identity_t id, spf_verdict_t *v)
{
    run_t r;
    spf_result_t res;

    memset(v, 0, sizeof(*v));
    memset(&r, 0, sizeof(r));
    r.ev = ev;
    r.v = v;
    r.helo = helo;
    v->identity = id;
    clock_gettime(CLOCK_MONOTONIC, &r.start);
    snprintf(v->domain, sizeof(v->domain), "%s", domain);
    snprintf(v->sender, sizeof(v->sender), "%s@%s", local, domain);
    r.local = local;
    r.sender_domain = v->domain;
    if (set_client(&r, ip) < 0) {
        permerror(&r, "client address not understood", ip ? ip : "(none)");
        res = SPF_RESULT_PERMERROR;
    } else
        res = check_host(&r, v->domain, 0);
    if (res != SPF_RESULT_FAIL)
        v->explanation[0] = '\0';
    if (res == SPF_RESULT_PASS || res == SPF_RESULT_FAIL || res == SPF_RESULT_SOFTFAIL
        || (res == SPF_RESULT_NEUTRAL && v->mechanism[0] != '\0'))
        v->reason[0] = '\0';
    v->result = res;
    v->ms = elapsed_ms(&r);
    return res;
}

spf_result_t spf_eval_mailfrom(const spf_eval_t *ev, const char *ip,
                               const char *helo, const char *mailfrom,
                               spf_verdict_t *v)
{
    char local[128];
    const char *at;

    if (mailfrom == NULL || mailfrom[0] == '\0')
        return spf_eval_helo(ev, ip, helo, v);
    at = strrchr(mailfrom, '@');
    /* Section 4.3: no local part means "postmaster". */
    if (at == NULL || at == mailfrom)
        snprintf(local, sizeof(local), "postmaster");
    else
        snprintf(local, sizeof(local), "%.*s", (int) (at - mailfrom), mailfrom);
    return run_check(ev, ip, helo, local, at ? at + 1 : mailfrom, SPF_ID_MAILFROM, v);
}

spf_result_t spf_eval_helo(const spf_eval_t *ev, const char *ip, const char *helo,
                           spf_verdict_t *v)
{
    return run_check(ev, ip, helo, "postmaster", helo ? helo : "", SPF_ID_HELO, v);
}
