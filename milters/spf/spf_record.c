/*
 * spf_record.c - SPF record syntax (RFC 7208 4.5, 4.6, 5, 6): a record
 * is parsed whole before any term is evaluated.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spf_macro.h"
#include "spf_record.h"

static const struct {
    const char *name;
    spf_mech_t mech;
} mechs[] = {
    { "all", SPF_MECH_ALL }, { "include", SPF_MECH_INCLUDE }, { "a", SPF_MECH_A },
    { "mx", SPF_MECH_MX }, { "ptr", SPF_MECH_PTR }, { "ip4", SPF_MECH_IP4 },
    { "ip6", SPF_MECH_IP6 }, { "exists", SPF_MECH_EXISTS },
};

const char *spf_mech_name(spf_mech_t m)
{
    for (size_t i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
        if (mechs[i].mech == m)
            return mechs[i].name;
    return "?";
}

bool spf_record_is_spf(const char *txt, size_t len)
{
    return len >= 6 && strncasecmp(txt, "v=spf1", 6) == 0
           && (len == 6 || txt[6] == ' ');
}

void spf_record_free(spf_record_t *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->nterms; i++) {
        free(r->terms[i].domain);
        free(r->terms[i].text);
    }
    free(r->terms);
    free(r->redirect);
    free(r->exp);
    free(r);
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);

    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* A prefix length: "0" or no leading zero, at most MAX. -1 when bad. */
static int parse_cidr(const char *s, size_t n, int max)
{
    int v = 0;

    if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char) s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v <= max ? v : -1;
}

/* Length of the trailing run of digits of S[0..N). */
static size_t trailing_digits(const char *s, size_t n)
{
    size_t k = 0;

    while (k < n && isdigit((unsigned char) s[n - 1 - k]))
        k++;
    return k;
}

/* Strips "[/N][//M]" from the end of S[0..*N) into T (a and mx). */
static int strip_dual_cidr(const char *s, size_t *n, spf_term_t *t,
                           char *err, size_t errlen)
{
    size_t len = *n, d = trailing_digits(s, len);

    if (d > 0 && len >= d + 2 && s[len - d - 1] == '/' && s[len - d - 2] == '/') {
        if ((t->cidr6 = parse_cidr(s + len - d, d, 128)) < 0)
            goto bad;
        len -= d + 2;
        d = trailing_digits(s, len);
    }
    if (d > 0 && len >= d + 1 && s[len - d - 1] == '/'
        && !(len >= d + 2 && s[len - d - 2] == '/')) {
        if ((t->cidr4 = parse_cidr(s + len - d, d, 32)) < 0)
            goto bad;
        len -= d + 1;
    }
    *n = len;
    return 0;
bad:
    snprintf(err, errlen, "bad prefix length");
    return -1;
}

static int set_domain(spf_term_t *t, const char *s, size_t n, char *err,
                      size_t errlen)
{
    if (spf_macro_check(s, n, SPF_MACRO_DOMAIN, err, errlen) < 0)
        return -1;
    t->domain = dup_n(s, n);
    if (t->domain == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* ip4:ADDR[/N] or ip6:ADDR[/N]; ARG points after the ':'. */
static int parse_ip(spf_term_t *t, const char *arg, size_t n, char *err,
                    size_t errlen)
{
    const char *slash = memchr(arg, '/', n);
    size_t alen = slash ? (size_t) (slash - arg) : n;
    char buf[64];
    bool v6 = t->mech == SPF_MECH_IP6;

    if (alen == 0 || alen >= sizeof(buf))
        goto bad;
    memcpy(buf, arg, alen);
    buf[alen] = '\0';
    if (inet_pton(v6 ? AF_INET6 : AF_INET, buf, v6 ? (void *) &t->ip6 : (void *) &t->ip4) != 1)
        goto bad;
    if (slash != NULL) {
        int c = parse_cidr(slash + 1, n - alen - 1, v6 ? 128 : 32);
        if (c < 0)
            goto bad;
        if (v6)
            t->cidr6 = c;
        else
            t->cidr4 = c;
    }
    return 0;
bad:
    snprintf(err, errlen, "bad %s network", v6 ? "ip6" : "ip4");
    return -1;
}

/* The part of a directive after the mechanism name: REST[0..N). */
static int parse_args(spf_term_t *t, const char *rest, size_t n, char *err,
                      size_t errlen)
{
    bool colon = n > 0 && rest[0] == ':';

    switch (t->mech) {
    case SPF_MECH_ALL:
        if (n == 0)
            return 0;
        break;
    case SPF_MECH_INCLUDE:
    case SPF_MECH_EXISTS:
        if (colon)
            return set_domain(t, rest + 1, n - 1, err, errlen);
        break;
    case SPF_MECH_PTR:
        if (n == 0)
            return 0;
        if (colon)
            return set_domain(t, rest + 1, n - 1, err, errlen);
        break;
    case SPF_MECH_A:
    case SPF_MECH_MX:
        if (strip_dual_cidr(rest, &n, t, err, errlen) < 0)
            return -1;
        if (n == 0)
            return 0;
        if (colon)
            return set_domain(t, rest + 1, n - 1, err, errlen);
        break;
    case SPF_MECH_IP4:
    case SPF_MECH_IP6:
        if (colon)
            return parse_ip(t, rest + 1, n - 1, err, errlen);
        break;
    }
    snprintf(err, errlen, "bad arguments to %s", spf_mech_name(t->mech));
    return -1;
}

static int parse_directive(spf_record_t *r, const char *tok, size_t n,
                           char *err, size_t errlen)
{
    spf_term_t *t = &r->terms[r->nterms];
    size_t i = 0, nl;

    memset(t, 0, sizeof(*t));
    t->cidr4 = 32;
    t->cidr6 = 128;
    t->qualifier = '+';
    if (strchr("+-~?", tok[0]) != NULL)
        t->qualifier = tok[i++];
    nl = i;
    while (nl < n && isalnum((unsigned char) tok[nl]))
        nl++;
    for (size_t m = 0; m < sizeof(mechs) / sizeof(mechs[0]); m++)
        if (nl - i == strlen(mechs[m].name)
            && strncasecmp(tok + i, mechs[m].name, nl - i) == 0) {
            t->mech = mechs[m].mech;
            t->text = dup_n(tok, n);
            r->nterms++;    /* owned now, freed with the record */
            if (t->text == NULL) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            return parse_args(t, tok + nl, n - nl, err, errlen);
        }
    snprintf(err, errlen, "unknown mechanism '%.*s'", (int) (n > 40 ? 40 : n), tok);
    return -1;
}

/* name "=" macro-string (section 4.6.1); returns the name's length or 0. */
static size_t modifier_name_len(const char *tok, size_t n)
{
    size_t i = 0;

    if (n == 0 || !isalpha((unsigned char) tok[0]))
        return 0;
    while (i < n && (isalnum((unsigned char) tok[i]) || tok[i] == '-'
                     || tok[i] == '_' || tok[i] == '.'))
        i++;
    return i < n && tok[i] == '=' ? i : 0;
}

static int parse_modifier(spf_record_t *r, const char *tok, size_t nl, size_t n,
                          char *err, size_t errlen)
{
    const char *val = tok + nl + 1;
    size_t vlen = n - nl - 1;
    char **slot = NULL;

    if (nl == 8 && strncasecmp(tok, "redirect", 8) == 0)
        slot = &r->redirect;
    else if (nl == 3 && strncasecmp(tok, "exp", 3) == 0)
        slot = &r->exp;
    if (slot == NULL)   /* unknown modifiers are ignored, syntax still counts */
        return spf_macro_check(val, vlen, SPF_MACRO_TEXT, err, errlen);
    if (*slot != NULL) {
        snprintf(err, errlen, "duplicate %.*s modifier", (int) nl, tok);
        return -1;
    }
    if (spf_macro_check(val, vlen, SPF_MACRO_DOMAIN, err, errlen) < 0)
        return -1;
    if ((*slot = dup_n(val, vlen)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static int parse_terms(spf_record_t *r, const char *txt, size_t len, char *err,
                       size_t errlen)
{
    size_t i = 6;

    while (i < len) {
        size_t start, n, nl;
        while (i < len && txt[i] == ' ')
            i++;
        if (i >= len)
            break;
        start = i;
        while (i < len && txt[i] != ' ')
            i++;
        n = i - start;
        if ((nl = modifier_name_len(txt + start, n)) > 0) {
            if (parse_modifier(r, txt + start, nl, n, err, errlen) < 0)
                return -1;
            continue;
        }
        if (r->nterms >= SPF_RECORD_MAX_TERMS) {
            snprintf(err, errlen, "more than %d terms", SPF_RECORD_MAX_TERMS);
            return -1;
        }
        if (parse_directive(r, txt + start, n, err, errlen) < 0)
            return -1;
    }
    return 0;
}

int spf_record_parse(const char *txt, size_t len, spf_record_t **out,
                     char *err, size_t errlen)
{
    spf_record_t *r;

    *out = NULL;
    if (!spf_record_is_spf(txt, len)) {
        snprintf(err, errlen, "not an SPF record");
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) txt[i];
        if (c != ' ' && (c < 0x21 || c > 0x7e)) {
            snprintf(err, errlen, "invalid character 0x%02x in record", c);
            return -1;
        }
    }
    r = calloc(1, sizeof(*r));
    if (r == NULL || (r->terms = calloc(SPF_RECORD_MAX_TERMS, sizeof(spf_term_t))) == NULL) {
        free(r);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (parse_terms(r, txt, len, err, errlen) < 0) {
        spf_record_free(r);
        return -1;
    }
    *out = r;
    return 0;
}
