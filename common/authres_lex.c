/*
 * authres_lex.c - tokens, quoted strings and comments of header field
 * values, with explicit lengths and limits (the input is untrusted).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "authres_lex.h"

bool arlex_is_token_char(unsigned char c)
{
    return c > 32 && c < 127 && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

bool arlex_is_keyword_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
           || c == '-' || c == '_';
}

static int fail(arlex_t *l, const char *a, const char *b)
{
    snprintf(l->err, l->errlen, "%s%s", a, b);
    return -1;
}

bool arlex_at_end(const arlex_t *l)
{
    return l->p >= l->end;
}

static int skip_comment(arlex_t *l)
{
    int depth = 0;

    while (l->p < l->end) {
        char c = *l->p++;
        if (c == '\\' && l->p < l->end) {
            l->p++;
        } else if (c == '(') {
            if (++depth > AUTHRES_MAX_NESTING)
                return fail(l, "comments nested too deep", "");
        } else if (c == ')' && --depth == 0) {
            return 0;
        }
    }
    return fail(l, "unterminated comment", "");
}

int arlex_skip_cfws(arlex_t *l)
{
    while (l->p < l->end) {
        char c = *l->p;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            l->p++;
        else if (c == '(') {
            if (skip_comment(l) < 0)
                return -1;
        } else
            break;
    }
    return 0;
}

static char *take(arlex_t *l, const char *start, size_t n, const char *what)
{
    char *s;

    if (n > AUTHRES_MAX_VALUE) {
        fail(l, what, " longer than the limit");
        return NULL;
    }
    if ((s = malloc(n + 1)) == NULL) {
        fail(l, "out of memory", "");
        return NULL;
    }
    memcpy(s, start, n);
    s[n] = '\0';
    return s;
}

char *arlex_keyword(arlex_t *l, const char *what)
{
    const char *start = l->p;

    while (l->p < l->end && arlex_is_keyword_char((unsigned char) *l->p))
        l->p++;
    if (l->p == start) {
        fail(l, "expected ", what);
        return NULL;
    }
    char *s = take(l, start, (size_t) (l->p - start), what);
    for (char *c = s; c && *c; c++)
        if (*c >= 'A' && *c <= 'Z')
            *c = (char) (*c - 'A' + 'a');
    return s;
}

static char *quoted(arlex_t *l, const char *what)
{
    char buf[AUTHRES_MAX_VALUE + 1];
    size_t n = 0;

    l->p++;                     /* the opening quote */
    while (l->p < l->end && *l->p != '"') {
        char c = *l->p++;
        if (c == '\\') {
            if (l->p >= l->end)
                break;
            c = *l->p++;
        }
        if (n >= AUTHRES_MAX_VALUE) {
            fail(l, what, " longer than the limit");
            return NULL;
        }
        buf[n++] = c;
    }
    if (l->p >= l->end) {
        fail(l, "unterminated quoted ", what);
        return NULL;
    }
    l->p++;
    return take(l, buf, n, what);
}

char *arlex_value(arlex_t *l, const char *what)
{
    const char *start = l->p;

    if (l->p < l->end && *l->p == '"')
        return quoted(l, what);
    while (l->p < l->end && arlex_is_token_char((unsigned char) *l->p))
        l->p++;
    if (l->p == start) {
        fail(l, "expected ", what);
        return NULL;
    }
    return take(l, start, (size_t) (l->p - start), what);
}

char *arlex_pvalue(arlex_t *l)
{
    const char *start = l->p;

    if (l->p < l->end && *l->p == '"')
        return quoted(l, "property value");
    while (l->p < l->end && strchr(" \t\r\n;()\"", *l->p) == NULL
           && (unsigned char) *l->p >= 32)
        l->p++;
    if (l->p == start) {
        fail(l, "expected ", "property value");
        return NULL;
    }
    return take(l, start, (size_t) (l->p - start), "property value");
}

int arlex_expect(arlex_t *l, char c, const char *where)
{
    char what[48];

    if (l->p < l->end && *l->p == c) {
        l->p++;
        return 0;
    }
    snprintf(what, sizeof(what), "expected '%c' %s", c, where);
    return fail(l, what, "");
}
