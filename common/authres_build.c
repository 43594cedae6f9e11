/*
 * authres_build.c - build the Authentication-Results value we add. Every
 * input is checked before it is stored, so formatting cannot fail except
 * for buffer size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authres.h"
#include "authres_lex.h"

/* Fold before a part would make a line longer than this. */
#define FOLD_AT 78

typedef struct bprop {
    char *ptype, *property, *value;
} bprop_t;

typedef struct bresult {
    char *method, *result, *reason;
    bprop_t props[AUTHRES_MAX_PROPS];
    size_t nprops;
} bresult_t;

/* Results grow as they are added: a builder holds one to three of the
 * AUTHRES_MAX_RESULTS allowed, and clearing room for all of them (50 KB)
 * for every message cost a milter more than building the field. */
struct authres_builder {
    char *id;
    bresult_t *res;
    size_t n, cap;
};

static bool is_keyword(const char *s)
{
    if (s == NULL || *s == '\0' || strlen(s) > 64)
        return false;
    for (; *s; s++)
        if (!arlex_is_keyword_char((unsigned char) *s))
            return false;
    return true;
}

/* No control characters: nothing may start a new header line. */
static bool is_safe_text(const char *s)
{
    if (s == NULL || strlen(s) > AUTHRES_MAX_VALUE)
        return false;
    for (; *s; s++)
        if ((unsigned char) *s < 32 || (unsigned char) *s == 127)
            return false;
    return true;
}

authres_builder_t *authres_builder_new(const char *authserv_id)
{
    authres_builder_t *b;

    if (!is_safe_text(authserv_id) || *authserv_id == '\0')
        return NULL;
    if ((b = calloc(1, sizeof(*b))) == NULL || (b->id = strdup(authserv_id)) == NULL) {
        free(b);
        return NULL;
    }
    return b;
}

void authres_builder_free(authres_builder_t *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->n; i++) {
        free(b->res[i].method);
        free(b->res[i].result);
        free(b->res[i].reason);
        for (size_t j = 0; j < b->res[i].nprops; j++) {
            free(b->res[i].props[j].ptype);
            free(b->res[i].props[j].property);
            free(b->res[i].props[j].value);
        }
    }
    free(b->res);
    free(b->id);
    free(b);
}

int authres_add(authres_builder_t *b, const char *method, const char *result,
                const char *reason)
{
    bresult_t *r;

    if (b->n >= AUTHRES_MAX_RESULTS || !is_keyword(method) || !is_keyword(result)
        || (reason != NULL && !is_safe_text(reason)))
        return -1;
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 4;
        bresult_t *more = realloc(b->res, cap * sizeof(*more));
        if (more == NULL)
            return -1;
        b->res = more;
        b->cap = cap;
    }
    r = &b->res[b->n];
    memset(r, 0, sizeof(*r));
    r->method = strdup(method);
    r->result = strdup(result);
    r->reason = reason ? strdup(reason) : NULL;
    b->n++;                     /* counted now so free() finds the strings */
    return r->method && r->result && (reason == NULL || r->reason) ? 0 : -1;
}

int authres_add_prop(authres_builder_t *b, const char *ptype, const char *property,
                     const char *value)
{
    bresult_t *r;
    bprop_t *p;

    if (b->n == 0 || !is_keyword(ptype) || !is_keyword(property) || !is_safe_text(value)
        || *value == '\0')
        return -1;
    r = &b->res[b->n - 1];
    if (r->nprops >= AUTHRES_MAX_PROPS)
        return -1;
    p = &r->props[r->nprops++];
    p->ptype = strdup(ptype);
    p->property = strdup(property);
    p->value = strdup(value);
    return p->ptype && p->property && p->value ? 0 : -1;
}

/* ---- formatting ---- */

typedef struct out {
    char *buf;
    size_t len, pos, line;      /* line: length of the current line */
    bool overflow;
} out_t;

static void put(out_t *o, const char *s, size_t n)
{
    if (o->pos + n >= o->len) {
        o->overflow = true;
        return;
    }
    memcpy(o->buf + o->pos, s, n);
    o->pos += n;
    o->line += n;
}

static void newline(out_t *o)
{
    put(o, "\n\t", 2);
    o->line = 8;                /* a tab counts as a few columns */
}

/* A bare word when it is a token (or local@domain), else quoted. */
static bool needs_quotes(const char *v, bool allow_at)
{
    if (*v == '\0')
        return true;
    for (; *v; v++)
        if (!arlex_is_token_char((unsigned char) *v) && !(allow_at && *v == '@'))
            return true;
    return false;
}

static void put_value(out_t *o, const char *v, bool allow_at)
{
    if (!needs_quotes(v, allow_at)) {
        put(o, v, strlen(v));
        return;
    }
    put(o, "\"", 1);
    for (; *v; v++) {
        if (*v == '"' || *v == '\\')
            put(o, "\\", 1);
        put(o, v, 1);
    }
    put(o, "\"", 1);
}

/* Writes one " part", folding first when it would not fit. */
static void put_part(out_t *o, const char *a, const char *sep, const char *v,
                     bool allow_at)
{
    char tmp[2 * AUTHRES_MAX_VALUE + 160];
    out_t t = { tmp, sizeof(tmp), 0, 0, false };

    put(&t, a, strlen(a));
    put(&t, sep, strlen(sep));
    put_value(&t, v, allow_at);
    if (o->line + 1 + t.pos > FOLD_AT)
        newline(o);
    else
        put(o, " ", 1);
    put(o, tmp, t.pos);
}

static void put_result(out_t *o, const bresult_t *r)
{
    char prop[140];

    put(o, ";", 1);
    newline(o);
    put(o, r->method, strlen(r->method));
    put(o, "=", 1);
    put(o, r->result, strlen(r->result));
    if (r->reason)
        put_part(o, "reason", "=", r->reason, false);
    for (size_t i = 0; i < r->nprops; i++) {
        snprintf(prop, sizeof(prop), "%s.%s", r->props[i].ptype, r->props[i].property);
        put_part(o, prop, "=", r->props[i].value, true);
    }
}

ssize_t authres_format(const authres_builder_t *b, char *buf, size_t buflen)
{
    out_t o = { buf, buflen, 0, 0, false };

    put_value(&o, b->id, false);
    if (b->n == 0)
        put(&o, "; none", 6);
    for (size_t i = 0; i < b->n; i++)
        put_result(&o, &b->res[i]);
    if (o.overflow || buflen == 0)
        return -1;
    buf[o.pos] = '\0';
    return (ssize_t) o.pos;
}
