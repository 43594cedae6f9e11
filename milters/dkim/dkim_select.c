/*
 * dkim_select.c - sign or verify, and the From domain: the decisions
 * taken before any DKIM work starts, kept free of libmilter so a table
 * of cases tests them.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dkim_select.h"

dkim_role_t dkim_select_role(const dkim_select_in_t *in, const dkim_select_policy_t *p,
                             const char **why)
{
    if (p->sign_internal && in->internal) {
        *why = "internal";
        return DKIM_ROLE_SIGN;
    }
    if (p->sign_authenticated && in->auth != NULL && in->auth[0] != '\0') {
        *why = "authenticated";
        return DKIM_ROLE_SIGN;
    }
    if (in->daemon_name != NULL && in->daemon_name[0] != '\0')
        for (size_t i = 0; i < p->nsign_daemons; i++)
            if (strcasecmp(in->daemon_name, p->sign_daemons[i]) == 0) {
                *why = "daemon";
                return DKIM_ROLE_SIGN;
            }
    *why = "inbound";
    return DKIM_ROLE_VERIFY;
}

/* Copies VALUE without comments and quoted strings into BUF, so that
 * '@', '<' and ',' left in BUF are structure, not text. Quoted strings
 * become a single 'q' so "a b"@x keeps a local part. -1 on unbalanced
 * input. */
static int strip_cfws(const char *v, size_t len, char *buf, size_t buflen)
{
    size_t o = 0;
    int depth = 0;
    bool quoted = false;

    for (size_t i = 0; i < len; i++) {
        char c = v[i];

        if (c == '\\' && (quoted || depth > 0)) {
            i++;
            continue;
        }
        if (quoted) {
            if (c == '"')
                quoted = false;
            continue;
        }
        if (depth > 0) {
            depth += c == '(' ? 1 : c == ')' ? -1 : 0;
            continue;
        }
        if (c == '(') {
            depth = 1;
            continue;
        }
        if (c == '"') {
            quoted = true;
            c = 'q';
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (o + 1 >= buflen)
            return -1;
        buf[o++] = c;
    }
    buf[o] = '\0';
    return quoted || depth > 0 ? -1 : 0;
}

static bool host_ok(const char *d, size_t n)
{
    size_t label = 0;

    if (n == 0 || n > 253 || d[0] == '.' || d[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) d[i];

        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
        } else if (isalnum(c) || c == '-' || c == '_') {
            if (++label > 63)
                return false;
        } else {
            return false;
        }
    }
    return true;
}

int dkim_from_domain(const char *value, size_t len, char *out, size_t outlen)
{
    char buf[DKIM_FROM_MAX + 1];
    const char *addr, *at, *end;
    size_t n;

    if (value == NULL || len > DKIM_FROM_MAX || strip_cfws(value, len, buf, sizeof(buf)) < 0)
        return -1;
    /* Group syntax and address lists: more than one mailbox, or none. */
    if (strchr(buf, ',') != NULL || strchr(buf, ';') != NULL)
        return -1;
    addr = strchr(buf, '<');
    if (addr != NULL) {
        end = strchr(++addr, '>');
        if (end == NULL || strchr(end + 1, '<') != NULL)
            return -1;
    } else {
        addr = buf;
        end = buf + strlen(buf);
    }
    at = memrchr(addr, '@', (size_t) (end - addr));
    if (at == NULL || at == addr)
        return -1;
    n = (size_t) (end - at - 1);
    if (!host_ok(at + 1, n) || n + 1 > outlen)
        return -1;
    for (size_t i = 0; i < n; i++)
        out[i] = (char) tolower((unsigned char) at[1 + i]);
    out[n] = '\0';
    return 0;
}
