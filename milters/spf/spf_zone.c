/*
 * spf_zone.c - an in-memory zone answering SPF's DNS questions, with the
 * openspf test suite's conventions (see spf_zone.h).
 */
#include <arpa/inet.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spf_dns.h"
#include "spf_zone.h"

#define CNAME_MAX 8

typedef struct entry {
    char name[SPF_NAME_MAX];
    spf_zone_kind_t kind;
    char *data;
    size_t len;
    struct in_addr a;
    struct in6_addr aaaa;
} entry_t;

struct spf_zone {
    entry_t *e;
    size_t n, cap;
    atomic_ulong queries;
};

spf_zone_t *spf_zone_new(void)
{
    return calloc(1, sizeof(spf_zone_t));
}

void spf_zone_free(spf_zone_t *z)
{
    if (z == NULL)
        return;
    for (size_t i = 0; i < z->n; i++)
        free(z->e[i].data);
    free(z->e);
    free(z);
}

/* NAME without its final dot into OUT; -1 when too long. */
static int norm_name(const char *name, char *out, size_t outlen)
{
    size_t n = strlen(name);

    if (n > 0 && name[n - 1] == '.')
        n--;
    if (n >= outlen)
        return -1;
    memcpy(out, name, n);
    out[n] = '\0';
    return 0;
}

static int parse_addr(entry_t *en, const char *data, size_t len)
{
    char buf[64];

    if (data == NULL || len >= sizeof(buf))
        return -1;
    memcpy(buf, data, len);
    buf[len] = '\0';
    if (en->kind == SPF_ZONE_A)
        return inet_pton(AF_INET, buf, &en->a) == 1 ? 0 : -1;
    return inet_pton(AF_INET6, buf, &en->aaaa) == 1 ? 0 : -1;
}

int spf_zone_add(spf_zone_t *z, const char *name, spf_zone_kind_t kind,
                 const char *data, size_t len)
{
    entry_t en;

    memset(&en, 0, sizeof(en));
    en.kind = kind;
    if (norm_name(name, en.name, sizeof(en.name)) < 0)
        return -1;
    if (kind == SPF_ZONE_A || kind == SPF_ZONE_AAAA) {
        if (parse_addr(&en, data, len) < 0)
            return -1;
    } else if (kind != SPF_ZONE_TIMEOUT && kind != SPF_ZONE_TXT_NONE
               && kind != SPF_ZONE_NONE) {
        if (data == NULL)
            return -1;
        en.data = malloc(len + 1);
        if (en.data == NULL)
            return -1;
        memcpy(en.data, data, len);
        en.data[len] = '\0';
        en.len = len;
    }
    if (z->n == z->cap) {
        size_t cap = z->cap ? z->cap * 2 : 16;
        entry_t *e = realloc(z->e, cap * sizeof(*e));
        if (e == NULL) {
            free(en.data);
            return -1;
        }
        z->e = e;
        z->cap = cap;
    }
    z->e[z->n++] = en;
    return 0;
}

int spf_zone_kind(const char *type, spf_zone_kind_t *out)
{
    static const struct { const char *name; spf_zone_kind_t kind; } map[] = {
        { "A", SPF_ZONE_A }, { "AAAA", SPF_ZONE_AAAA }, { "TXT", SPF_ZONE_TXT },
        { "SPF", SPF_ZONE_SPF }, { "MX", SPF_ZONE_MX }, { "PTR", SPF_ZONE_PTR },
        { "CNAME", SPF_ZONE_CNAME }, { "TIMEOUT", SPF_ZONE_TIMEOUT },
    };

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcasecmp(type, map[i].name) == 0) {
            *out = map[i].kind;
            return 0;
        }
    return -1;
}

/* Whether the zone kind K answers a question of TYPE; SPF entries count
 * as TXT only when the name has no TXT entry of its own. */
static bool kind_answers(spf_zone_kind_t k, spf_rrtype_t type, bool has_txt)
{
    switch (type) {
    case SPF_RR_A: return k == SPF_ZONE_A;
    case SPF_RR_AAAA: return k == SPF_ZONE_AAAA;
    case SPF_RR_MX: return k == SPF_ZONE_MX;
    case SPF_RR_PTR: return k == SPF_ZONE_PTR;
    case SPF_RR_TXT:
        return k == SPF_ZONE_TXT || (k == SPF_ZONE_SPF && !has_txt);
    }
    return false;
}

static void add_entry(const entry_t *en, spf_rrtype_t type, spf_answer_t *out)
{
    if (type == SPF_RR_A)
        spf_answer_add(out, type, NULL, 0, &en->a);
    else if (type == SPF_RR_AAAA)
        spf_answer_add(out, type, NULL, 0, &en->aaaa);
    else {
        size_t len = en->len;
        /* Names are served without their final dot, as a resolver's
         * presentation form would be. */
        if (type != SPF_RR_TXT && len > 1 && en->data[len - 1] == '.')
            len--;
        spf_answer_add(out, type, en->data, len, NULL);
    }
}

/* Answers NAME/TYPE; *CNAME is set to the alias target when NAME is an
 * alias (then nothing else is answered). */
static spf_dns_status_t lookup(const spf_zone_t *z, const char *name,
                               spf_rrtype_t type, spf_answer_t *out,
                               const char **cname)
{
    bool found = false, has_txt = false;

    *cname = NULL;
    for (size_t i = 0; i < z->n; i++)
        if (strcasecmp(z->e[i].name, name) == 0) {
            found = true;
            if (z->e[i].kind == SPF_ZONE_TXT || z->e[i].kind == SPF_ZONE_TXT_NONE)
                has_txt = true;
            if (z->e[i].kind == SPF_ZONE_CNAME && *cname == NULL)
                *cname = z->e[i].data;
        }
    if (!found)
        return SPF_DNS_NXDOMAIN;
    if (*cname != NULL)
        return SPF_DNS_OK;
    for (size_t i = 0; i < z->n; i++) {
        const entry_t *en = &z->e[i];
        if (strcasecmp(en->name, name) != 0)
            continue;
        if (en->kind == SPF_ZONE_TIMEOUT)
            return out->n > 0 ? SPF_DNS_OK : SPF_DNS_TEMPFAIL;
        if (kind_answers(en->kind, type, has_txt))
            add_entry(en, type, out);
    }
    return out->n > 0 ? SPF_DNS_OK : SPF_DNS_NODATA;
}

static spf_dns_status_t zone_query(void *ctx, const char *name, spf_rrtype_t type,
                                   int timeout_ms, spf_answer_t *out)
{
    spf_zone_t *z = ctx;
    char cur[SPF_NAME_MAX];
    const char *alias;

    atomic_fetch_add(&z->queries, 1);
    if (timeout_ms <= 0 || norm_name(name, cur, sizeof(cur)) < 0)
        return SPF_DNS_TEMPFAIL;
    for (int hop = 0; hop <= CNAME_MAX; hop++) {
        spf_dns_status_t st = lookup(z, cur, type, out, &alias);
        if (alias == NULL)
            return st;
        if (norm_name(alias, cur, sizeof(cur)) < 0)
            return SPF_DNS_TEMPFAIL;
    }
    return SPF_DNS_TEMPFAIL;    /* a CNAME loop, as a resolver would fail */
}

void spf_zone_source(spf_zone_t *z, spf_dns_source_t *src)
{
    src->query = zone_query;
    src->ctx = z;
}

unsigned long spf_zone_queries(const spf_zone_t *z)
{
    return atomic_load(&((spf_zone_t *) z)->queries);
}
