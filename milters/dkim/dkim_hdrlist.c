/*
 * dkim_hdrlist.c - signed and over-signed header lists: validated and
 * normalised at config load, so the signer only passes pointers on.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dkim_hdrlist.h"

struct dkim_hdrlist {
    char names[DKIM_HDRLIST_MAX][DKIM_HDRLIST_MAX_NAME + 1];
    const char *sign[DKIM_HDRLIST_MAX + 1];
    const char *over[DKIM_HDRLIST_MAX + 1];
    size_t nsign, nover;
};

/* Fields that trace the path or carry results: they change in transit
 * or are added by verifiers, so a signature covering them breaks. */
static const char *const never_sign[] = {
    "received", "return-path", "dkim-signature", "authentication-results",
    "arc-seal", "arc-message-signature", "arc-authentication-results", NULL
};

static int name_check(const char *n, char *err, size_t errlen)
{
    size_t len = strlen(n);

    if (len == 0 || len > DKIM_HDRLIST_MAX_NAME) {
        snprintf(err, errlen, "header name '%.70s': empty or longer than %d",
                 n, DKIM_HDRLIST_MAX_NAME);
        return -1;
    }
    for (const char *p = n; *p; p++)
        if (!isalnum((unsigned char) *p) && *p != '-' && *p != '_') {
            snprintf(err, errlen, "header name '%s': only letters, digits, '-' and '_'", n);
            return -1;
        }
    for (size_t i = 0; never_sign[i]; i++)
        if (strcasecmp(n, never_sign[i]) == 0) {
            snprintf(err, errlen, "header name '%s': changed or added in transit, "
                     "a signature covering it would break", n);
            return -1;
        }
    return 0;
}

static bool in_list(const char *const *list, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(list[i], name) == 0)
            return true;
    return false;
}

/* Adds NAME to the signed list (and the over-signed one when OVER). */
static int add(dkim_hdrlist_t *h, const char *name, bool over, char *err, size_t errlen)
{
    size_t k;

    if (name_check(name, err, errlen) < 0)
        return -1;
    if (!in_list(h->sign, h->nsign, name)) {
        if (h->nsign >= DKIM_HDRLIST_MAX) {
            snprintf(err, errlen, "more than %d header names", DKIM_HDRLIST_MAX);
            return -1;
        }
        k = h->nsign;
        for (size_t i = 0; name[i]; i++)
            h->names[k][i] = (char) tolower((unsigned char) name[i]);
        h->sign[h->nsign++] = h->names[k];
    }
    if (over && !in_list(h->over, h->nover, name)) {
        for (k = 0; k < h->nsign && strcasecmp(h->sign[k], name) != 0; k++)
            ;
        h->over[h->nover++] = h->sign[k];
    }
    return 0;
}

dkim_hdrlist_t *dkim_hdrlist_new(const char *const *sign, size_t nsign,
                                 const char *const *over, size_t nover,
                                 char *err, size_t errlen)
{
    dkim_hdrlist_t *h = calloc(1, sizeof(*h));

    if (h == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (add(h, "from", false, err, errlen) < 0)
        goto fail;
    for (size_t i = 0; i < nsign; i++)
        if (add(h, sign[i], false, err, errlen) < 0)
            goto fail;
    for (size_t i = 0; i < nover; i++)
        if (add(h, over[i], true, err, errlen) < 0)
            goto fail;
    h->sign[h->nsign] = NULL;
    h->over[h->nover] = NULL;
    return h;
fail:
    free(h);
    return NULL;
}

void dkim_hdrlist_free(dkim_hdrlist_t *h)
{
    free(h);
}

const char **dkim_hdrlist_signed(const dkim_hdrlist_t *h)
{
    return (const char **) h->sign;
}

const char **dkim_hdrlist_oversigned(const dkim_hdrlist_t *h)
{
    return (const char **) h->over;
}

bool dkim_hdrlist_is_signed(const dkim_hdrlist_t *h, const char *name)
{
    return in_list(h->sign, h->nsign, name);
}

bool dkim_hdrlist_is_oversigned(const dkim_hdrlist_t *h, const char *name)
{
    return in_list(h->over, h->nover, name);
}
