/*
 * spf_header.c - Received-SPF values and A-R spf= results from verdicts.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "authres.h"

#include "spf_eval.h"
#include "spf_header.h"

#define VALUE_MAX 400

typedef struct buf {
    char *p;
    size_t len, cap;
    bool overflow;
} buf_t;

static void bprintf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void bprintf(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->overflow)
        return;
    va_start(ap, fmt);
    n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t) n >= b->cap - b->len)
        b->overflow = true;
    else
        b->len += (size_t) n;
}

/* One byte, for the loops that copy text a byte at a time (a vsnprintf
 * per byte made the Received-SPF value the costliest part of a check). */
static void bputc(buf_t *b, char c)
{
    if (b->overflow)
        return;
    if (b->len + 1 >= b->cap) {
        b->overflow = true;
        return;
    }
    b->p[b->len++] = c;
    b->p[b->len] = '\0';
}

/* Visible ASCII and spaces only, at most VALUE_MAX bytes. */
static void clean(const char *in, char *out, size_t outlen)
{
    size_t o = 0;

    for (; in != NULL && *in != '\0' && o + 1 < outlen && o < VALUE_MAX; in++) {
        unsigned char c = (unsigned char) *in;
        if (c >= 0x20 && c < 0x7f)
            out[o++] = (char) c;
    }
    out[o] = '\0';
}

/* RFC 5322 atext plus '.', and not empty: writable without quotes. */
static bool dot_atom(const char *s)
{
    if (*s == '\0' || *s == '.')
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char) *s) && strchr("!#$%&'*+-/=?^_`{|}~.@", *s) == NULL)
            return false;
    return true;
}

/* "key=value; " with VALUE a dot-atom or a quoted string. */
static void key_value(buf_t *b, const char *key, const char *value)
{
    char v[VALUE_MAX + 1];

    clean(value, v, sizeof(v));
    if (dot_atom(v) && strchr(v, '@') == strrchr(v, '@')) {
        bprintf(b, " %s=%s;", key, v);
        return;
    }
    bprintf(b, " %s=\"", key);
    for (const char *s = v; *s; s++) {
        if (*s == '"' || *s == '\\')
            bputc(b, '\\');
        bputc(b, *s);
    }
    bprintf(b, "\";");
}

/* Comment text (no parentheses inside: they are dropped). */
static void comment(buf_t *b, const spf_verdict_t *v, const char *receiver, const char *ip)
{
    char who[VALUE_MAX + 1], text[600];
    const char *dom = v->identity == SPF_ID_HELO ? "HELO name" : "domain of";

    clean(v->identity == SPF_ID_HELO ? v->domain : v->sender, who, sizeof(who));
    switch (v->result) {
    case SPF_RESULT_PASS:
        snprintf(text, sizeof(text), "%s %s designates %s as permitted sender", dom, who, ip);
        break;
    case SPF_RESULT_FAIL:
        snprintf(text, sizeof(text), "%s %s does not designate %s as permitted sender", dom,
                 who, ip);
        break;
    case SPF_RESULT_SOFTFAIL:
        snprintf(text, sizeof(text), "transitioning %s %s does not designate %s as permitted"
                 " sender", dom, who, ip);
        break;
    case SPF_RESULT_NEUTRAL:
        snprintf(text, sizeof(text), "%s is neither permitted nor denied by %s %s", ip, dom, who);
        break;
    case SPF_RESULT_NONE:
        snprintf(text, sizeof(text), "%s %s does not publish SPF", dom, who);
        break;
    case SPF_RESULT_TEMPERROR:
        snprintf(text, sizeof(text), "temporary error checking %s %s", dom, who);
        break;
    case SPF_RESULT_PERMERROR:
        snprintf(text, sizeof(text), "permanent error in the SPF record of %s %s", dom, who);
        break;
    }
    bprintf(b, " (");
    clean(receiver, who, sizeof(who));
    bprintf(b, "%s: ", who);
    for (const char *s = text; *s; s++)
        if (*s != '(' && *s != ')' && *s != '\\')
            bputc(b, *s);
    bprintf(b, ")");
}

ssize_t spf_header_received(const spf_verdict_t *v, const char *receiver,
                            const char *client_ip, const char *helo,
                            const char *envelope_from, char *out, size_t outlen)
{
    buf_t b = { out, 0, outlen, false };
    char ip[64];

    if (outlen == 0)
        return -1;
    out[0] = '\0';
    clean(client_ip, ip, sizeof(ip));
    bprintf(&b, "%s", spf_result_name(v->result));
    comment(&b, v, receiver, ip);
    key_value(&b, "client-ip", ip);
    key_value(&b, "envelope-from", envelope_from ? envelope_from : "");
    if (helo != NULL && helo[0] != '\0')
        key_value(&b, "helo", helo);
    key_value(&b, "receiver", receiver);
    key_value(&b, "identity", v->identity == SPF_ID_HELO ? "helo" : "mailfrom");
    if (v->mechanism[0] != '\0')
        key_value(&b, "mechanism", v->mechanism);
    if ((v->result == SPF_RESULT_PERMERROR || v->result == SPF_RESULT_TEMPERROR)
        && v->reason[0] != '\0')
        key_value(&b, "problem", v->reason);
    if (b.overflow)
        return -1;
    if (b.len > 0 && out[b.len - 1] == ';')
        out[--b.len] = '\0';
    return (ssize_t) b.len;
}

int spf_header_authres(authres_builder_t *b, const spf_verdict_t *v)
{
    if (authres_add(b, "spf", spf_result_name(v->result), NULL) < 0)
        return -1;
    if (v->identity == SPF_ID_HELO)
        return authres_add_prop(b, "smtp", "helo", v->domain);
    return authres_add_prop(b, "smtp", "mailfrom", v->sender);
}
