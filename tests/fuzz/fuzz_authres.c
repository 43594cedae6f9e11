/*
 * fuzz_authres.c - the Authentication-Results parser on arbitrary bytes.
 * Beyond "no crash, no leak": whatever parses and the builder accepts
 * must format and parse back to the same data, and authres_is_ours
 * must agree with the parsed authserv-id.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authres.h"

static authres_builder_t *rebuild(const authres_t *ar)
{
    authres_builder_t *b = authres_builder_new(ar->authserv_id);

    for (size_t i = 0; b != NULL && i < ar->nresults; i++) {
        const authres_result_t *r = &ar->results[i];
        if (authres_add(b, r->method, r->result, r->reason) < 0)
            goto refused;
        for (size_t j = 0; j < r->nprops; j++)
            if (authres_add_prop(b, r->props[j].ptype, r->props[j].property,
                                 r->props[j].value) < 0)
                goto refused;
    }
    return b;
refused:
    authres_builder_free(b);
    return NULL;
}

static void same_or_die(const authres_t *a, const authres_t *b)
{
    if (strcmp(a->authserv_id, b->authserv_id) != 0 || a->nresults != b->nresults)
        abort();
    for (size_t i = 0; i < a->nresults; i++) {
        const authres_result_t *x = &a->results[i], *y = &b->results[i];
        if (strcmp(x->method, y->method) != 0 || strcmp(x->result, y->result) != 0
            || (x->reason == NULL) != (y->reason == NULL)
            || (x->reason && strcmp(x->reason, y->reason) != 0) || x->nprops != y->nprops)
            abort();
        for (size_t j = 0; j < x->nprops; j++)
            if (strcmp(x->props[j].value, y->props[j].value) != 0)
                abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *v = (const char *) data;
    static char buf[1 << 18];
    char err[256];
    authres_t *ar = NULL, *again = NULL;

    if (authres_parse(v, size, &ar, err, sizeof(err)) == 0) {
        if (!authres_is_ours(v, size, ar->authserv_id) && ar->authserv_id[0] != '\0')
            abort();
        authres_builder_t *b = rebuild(ar);
        if (b != NULL) {
            ssize_t n = authres_format(b, buf, sizeof(buf));
            if (n < 0 || authres_parse(buf, (size_t) n, &again, err, sizeof(err)) != 0)
                abort();
            same_or_die(ar, again);
            authres_free(again);
            authres_builder_free(b);
        }
        authres_free(ar);
    }
    (void) authres_is_ours(v, size, "mx.example.org");
    return 0;
}
