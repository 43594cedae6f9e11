/*
 * spf_macro.c - RFC 7208 section 7 macro strings. One walker both checks
 * and expands, so the syntax accepted at check time is the syntax
 * expanded later.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spf_macro.h"

#define MAX_PARTS 128
#define DOMAIN_MAX 253

typedef struct out {
    char *buf;
    size_t len, cap;
    bool overflow;
} out_t;

static void put(out_t *o, const char *s, size_t n)
{
    if (o->buf == NULL)
        return;
    if (o->len + n >= o->cap) {
        o->overflow = true;
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static bool is_delim(char c)
{
    return c != '\0' && strchr(".-+,/_=", c) != NULL;
}

static bool unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* Value of macro letter C (lower case), or NULL when not allowed. */
static const char *letter_value(const spf_macro_env_t *env, char c,
                                spf_macro_kind_t kind, char *tbuf, size_t tlen)
{
    bool exp = kind == SPF_MACRO_EXPLAIN;

    switch (c) {
    case 's': return env->sender;
    case 'l': return env->local;
    case 'o': return env->sender_domain;
    case 'd': return env->domain;
    case 'i': return env->ip;
    case 'h': return env->helo;
    case 'v': return env->ipv6 ? "ip6" : "in-addr";
    case 'p': return env->ptr ? env->ptr(env->ptr_arg) : "unknown";
    case 'c': return exp ? env->client : NULL;
    case 'r': return exp ? (env->receiver ? env->receiver : "unknown") : NULL;
    case 't':
        if (!exp)
            return NULL;
        snprintf(tbuf, tlen, "%lld", (long long) env->now);
        return tbuf;
    }
    return NULL;
}

static bool letter_known(char c, spf_macro_kind_t kind)
{
    if (strchr("slodiphv", c) != NULL)
        return true;
    return kind == SPF_MACRO_EXPLAIN && strchr("crt", c) != NULL;
}

typedef struct transform {
    unsigned keep;              /* 0: all parts */
    bool reverse;
    char delims[8];
    bool upper;
} transform_t;

/* Splits VALUE on the delimiters, applies T, writes the joined parts. */
static void emit_transformed(out_t *o, const char *value, const transform_t *t)
{
    const char *part[MAX_PARTS];
    size_t plen[MAX_PARTS], n = 0, first = 0;
    const char *delims = t->delims[0] ? t->delims : ".";
    const char *p = value;

    for (;;) {
        size_t l = strcspn(p, delims);
        if (n < MAX_PARTS) {
            part[n] = p;
            plen[n++] = l;
        }
        if (p[l] == '\0')
            break;
        p += l + 1;
    }
    /* Section 7.3: reverse first, then keep the right-hand parts. */
    if (t->keep > 0 && t->keep < n)
        first = n - t->keep;
    for (size_t k = first; k < n; k++) {
        size_t i = t->reverse ? n - 1 - k : k;
        if (k > first)
            put(o, ".", 1);
        if (!t->upper) {
            put(o, part[i], plen[i]);
            continue;
        }
        for (size_t j = 0; j < plen[i]; j++) {
            unsigned char c = (unsigned char) part[i][j];
            char esc[4];
            if (unreserved(c))
                put(o, (const char *) &c, 1);
            else {
                snprintf(esc, sizeof(esc), "%%%02X", c);
                put(o, esc, 3);
            }
        }
    }
}

/* Parses the body of "%{...}" at IN[*pos] (just after '{'); expands it
 * into O when ENV is set. 0, or -1 with ERR. */
static int macro_expand_one(const spf_macro_env_t *env, const char *in, size_t len,
                            size_t *pos, spf_macro_kind_t kind, out_t *o,
                            char *err, size_t errlen)
{
    size_t i = *pos;
    transform_t t;
    char c, tbuf[32];
    const char *value;

    memset(&t, 0, sizeof(t));
    if (i >= len) {
        snprintf(err, errlen, "unterminated macro");
        return -1;
    }
    c = in[i++];
    if (!letter_known((char) tolower((unsigned char) c), kind)) {
        snprintf(err, errlen, "unknown macro letter '%c'", c);
        return -1;
    }
    t.upper = isupper((unsigned char) c);
    if (i < len && isdigit((unsigned char) in[i])) {
        unsigned long v = 0;
        while (i < len && isdigit((unsigned char) in[i])) {
            v = v * 10 + (unsigned long) (in[i++] - '0');
            if (v > 10000)
                break;
        }
        if (v == 0 || v > 10000) {
            snprintf(err, errlen, "bad macro transformer");
            return -1;
        }
        t.keep = (unsigned) v;
    }
    if (i < len && (in[i] == 'r' || in[i] == 'R')) {
        t.reverse = true;
        i++;
    }
    for (size_t nd = 0; i < len && is_delim(in[i]); i++)
        if (nd < sizeof(t.delims) - 1 && strchr(t.delims, in[i]) == NULL)
            t.delims[nd++] = in[i];
    if (i >= len || in[i] != '}') {
        snprintf(err, errlen, "bad macro syntax");
        return -1;
    }
    *pos = i + 1;
    if (env == NULL)
        return 0;
    value = letter_value(env, (char) tolower((unsigned char) c), kind, tbuf,
                         sizeof(tbuf));
    emit_transformed(o, value ? value : "", &t);
    return 0;
}

/* The walker. ENV NULL: check only. LAST_MACRO_END receives the offset
 * just past the last macro (0 when none). */
static int walk(const spf_macro_env_t *env, const char *in, size_t len,
                spf_macro_kind_t kind, out_t *o, size_t *last_macro_end,
                char *err, size_t errlen)
{
    size_t i = 0;

    *last_macro_end = 0;
    while (i < len) {
        unsigned char c = (unsigned char) in[i];
        if (c != '%') {
            /* macro-literal: visible ASCII except '%'; explanations may
             * also hold spaces (section 7.1 explain-string). */
            if (c < 0x21 || c > 0x7e) {
                if (!(c == ' ' && kind != SPF_MACRO_DOMAIN)) {
                    snprintf(err, errlen, "invalid character 0x%02x", c);
                    return -1;
                }
            }
            put(o, (const char *) &c, 1);
            i++;
            continue;
        }
        if (i + 1 >= len) {
            snprintf(err, errlen, "'%%' at end of macro string");
            return -1;
        }
        switch (in[i + 1]) {
        case '%': put(o, "%", 1); i += 2; break;
        case '_': put(o, " ", 1); i += 2; break;
        case '-': put(o, "%20", 3); i += 2; break;
        case '{':
            i += 2;
            if (macro_expand_one(env, in, len, &i, kind, o, err, errlen) < 0)
                return -1;
            *last_macro_end = i;
            break;
        default:
            snprintf(err, errlen, "invalid macro escape '%%%c'", in[i + 1]);
            return -1;
        }
    }
    return 0;
}

bool spf_macro_toplabel_ok(const char *name, size_t len)
{
    size_t end = len, start;
    bool alpha = false;

    if (end > 0 && name[end - 1] == '.')
        end--;
    start = end;
    while (start > 0 && name[start - 1] != '.')
        start--;
    if (start == end || name[start] == '-' || name[end - 1] == '-')
        return false;
    for (size_t i = start; i < end; i++) {
        unsigned char c = (unsigned char) name[i];
        if (isalpha(c))
            alpha = true;
        else if (!isdigit(c) && c != '-')
            return false;
    }
    return alpha;
}

/* domain-end (section 4.6.1): "." toplabel ["."], or a macro last. */
static int check_domain_end(const char *in, size_t len, size_t last_macro_end,
                            char *err, size_t errlen)
{
    size_t end = len, dot;

    if (len == 0) {
        snprintf(err, errlen, "empty domain-spec");
        return -1;
    }
    if (last_macro_end == len)
        return 0;
    if (in[end - 1] == '.')
        end--;
    dot = end;
    while (dot > last_macro_end && in[dot - 1] != '.')
        dot--;
    /* The top label's dot must be literal text after the last macro. */
    if (dot <= last_macro_end || !spf_macro_toplabel_ok(in, len)) {
        snprintf(err, errlen, "domain-spec does not end in a top label");
        return -1;
    }
    return 0;
}

int spf_macro_check(const char *in, size_t len, spf_macro_kind_t kind,
                    char *err, size_t errlen)
{
    out_t o = { 0 };
    size_t last;

    if (walk(NULL, in, len, kind, &o, &last, err, errlen) < 0)
        return -1;
    if (kind == SPF_MACRO_DOMAIN)
        return check_domain_end(in, len, last, err, errlen);
    return 0;
}

/* Section 7.3: drop labels on the left until the name fits. */
static size_t cut_left(char *s, size_t len)
{
    size_t off = 0;

    while (len - off > DOMAIN_MAX) {
        char *dot = memchr(s + off, '.', len - off);
        if (dot == NULL)
            break;
        off = (size_t) (dot - s) + 1;
    }
    if (off > 0)
        memmove(s, s + off, len - off + 1);
    return len - off;
}

int spf_macro_expand(const spf_macro_env_t *env, const char *in, size_t len,
                     spf_macro_kind_t kind, char *out, size_t outlen,
                     char *err, size_t errlen)
{
    out_t o = { out, 0, outlen, false };
    size_t last;

    if (outlen == 0)
        return -1;
    out[0] = '\0';
    if (walk(env, in, len, kind, &o, &last, err, errlen) < 0)
        return -1;
    if (kind == SPF_MACRO_DOMAIN
        && check_domain_end(in, len, last, err, errlen) < 0)
        return -1;
    if (o.overflow) {
        snprintf(err, errlen, "macro expansion too long");
        return -1;
    }
    if (kind == SPF_MACRO_DOMAIN)
        o.len = cut_left(out, o.len);
    return (int) o.len;
}
