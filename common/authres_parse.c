/*
 * authres_parse.c - parse an Authentication-Results field value
 * (RFC 8601 section 2.2) into an authres_t, within fixed limits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authres.h"
#include "authres_lex.h"

static void free_result(authres_result_t *r)
{
    free(r->method);
    free(r->result);
    free(r->reason);
    for (size_t i = 0; i < r->nprops; i++) {
        free(r->props[i].ptype);
        free(r->props[i].property);
        free(r->props[i].value);
    }
    free(r->props);
}

void authres_free(authres_t *ar)
{
    if (ar == NULL)
        return;
    for (size_t i = 0; i < ar->nresults; i++)
        free_result(&ar->results[i]);
    free(ar->results);
    free(ar->authserv_id);
    free(ar);
}

const authres_result_t *authres_find(const authres_t *ar, const char *method)
{
    for (size_t i = 0; ar != NULL && i < ar->nresults; i++)
        if (strcasecmp(ar->results[i].method, method) == 0)
            return &ar->results[i];
    return NULL;
}

/* 1*DIGIT, at most 3 of them (versions are small). */
static int number(arlex_t *l, int *out)
{
    int v = 0, n = 0;

    while (!arlex_at_end(l) && *l->p >= '0' && *l->p <= '9' && n < 3) {
        v = v * 10 + (*l->p++ - '0');
        n++;
    }
    if (n == 0 || (!arlex_at_end(l) && *l->p >= '0' && *l->p <= '9')) {
        snprintf(l->err, l->errlen, "bad version number");
        return -1;
    }
    *out = v;
    return 0;
}

/* ptype "." property "=" pvalue, the ptype already read. */
static int parse_prop(arlex_t *l, authres_result_t *r, char *ptype)
{
    authres_prop_t *p;

    if (r->nprops >= AUTHRES_MAX_PROPS) {
        snprintf(l->err, l->errlen, "more than %d properties", AUTHRES_MAX_PROPS);
        free(ptype);
        return -1;
    }
    p = &r->props[r->nprops];
    p->ptype = ptype;
    r->nprops++;
    if (arlex_skip_cfws(l) < 0 || arlex_expect(l, '.', "after the property type") < 0
        || arlex_skip_cfws(l) < 0
        || (p->property = arlex_keyword(l, "property name")) == NULL
        || arlex_skip_cfws(l) < 0 || arlex_expect(l, '=', "after the property") < 0
        || arlex_skip_cfws(l) < 0 || (p->value = arlex_pvalue(l)) == NULL)
        return -1;
    return 0;
}

/* After "method=result": [reason=value] *(ptype.property=value). */
static int parse_details(arlex_t *l, authres_result_t *r)
{
    if ((r->props = calloc(AUTHRES_MAX_PROPS, sizeof(authres_prop_t))) == NULL)
        return -1;
    for (;;) {
        if (arlex_skip_cfws(l) < 0)
            return -1;
        if (arlex_at_end(l) || *l->p == ';')
            return 0;
        char *word = arlex_keyword(l, "property or reason");
        if (word == NULL)
            return -1;
        if (strcmp(word, "reason") == 0 && r->reason == NULL && r->nprops == 0) {
            free(word);
            if (arlex_skip_cfws(l) < 0 || arlex_expect(l, '=', "after reason") < 0
                || arlex_skip_cfws(l) < 0
                || (r->reason = arlex_value(l, "reason")) == NULL)
                return -1;
            continue;
        }
        if (parse_prop(l, r, word) < 0)
            return -1;
    }
}

static int parse_resinfo(arlex_t *l, authres_t *ar, char *method)
{
    authres_result_t *r = &ar->results[ar->nresults++];

    r->method = method;
    r->method_version = 1;
    if (arlex_skip_cfws(l) < 0)
        return -1;
    if (!arlex_at_end(l) && *l->p == '/') {
        l->p++;
        if (arlex_skip_cfws(l) < 0 || number(l, &r->method_version) < 0
            || arlex_skip_cfws(l) < 0)
            return -1;
    }
    if (arlex_expect(l, '=', "after the method") < 0 || arlex_skip_cfws(l) < 0
        || (r->result = arlex_keyword(l, "result")) == NULL)
        return -1;
    return parse_details(l, r);
}

/* authserv-id [version] */
static int parse_head(arlex_t *l, authres_t *ar)
{
    ar->version = 1;
    if (arlex_skip_cfws(l) < 0 || (ar->authserv_id = arlex_value(l, "authserv-id")) == NULL
        || arlex_skip_cfws(l) < 0)
        return -1;
    if (!arlex_at_end(l) && *l->p >= '0' && *l->p <= '9')
        return number(l, &ar->version) < 0 ? -1 : arlex_skip_cfws(l);
    return 0;
}

static int parse_body(arlex_t *l, authres_t *ar)
{
    if (parse_head(l, ar) < 0)
        return -1;
    if ((ar->results = calloc(AUTHRES_MAX_RESULTS, sizeof(authres_result_t))) == NULL)
        return -1;
    while (!arlex_at_end(l)) {
        if (arlex_expect(l, ';', "between results") < 0 || arlex_skip_cfws(l) < 0)
            return -1;
        char *method = arlex_keyword(l, "method");
        if (method == NULL)
            return -1;
        if (strcmp(method, "none") == 0 && ar->nresults == 0) {
            free(method);
            if (arlex_skip_cfws(l) < 0)
                return -1;
            if (arlex_at_end(l))
                return 0;
            snprintf(l->err, l->errlen, "text after \"none\"");
            return -1;
        }
        if (ar->nresults >= AUTHRES_MAX_RESULTS) {
            free(method);
            snprintf(l->err, l->errlen, "more than %d results", AUTHRES_MAX_RESULTS);
            return -1;
        }
        if (parse_resinfo(l, ar, method) < 0)
            return -1;
    }
    if (ar->nresults == 0) {
        snprintf(l->err, l->errlen, "no results and no \"none\"");
        return -1;
    }
    return 0;
}

int authres_parse(const char *value, size_t len, authres_t **out, char *err,
                  size_t errlen)
{
    arlex_t l = { value, value + len, err, errlen };
    authres_t *ar = calloc(1, sizeof(*ar));

    *out = NULL;
    if (ar == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (parse_body(&l, ar) < 0) {
        authres_free(ar);
        return -1;
    }
    *out = ar;
    return 0;
}

bool authres_is_ours(const char *value, size_t len, const char *authserv_id)
{
    char err[64];
    arlex_t l = { value, value + len, err, sizeof(err) };
    char *id;
    bool ours;

    if (value == NULL || authserv_id == NULL || *authserv_id == '\0'
        || arlex_skip_cfws(&l) < 0 || (id = arlex_value(&l, "authserv-id")) == NULL)
        return false;
    ours = strcasecmp(id, authserv_id) == 0;
    free(id);
    return ours;
}
