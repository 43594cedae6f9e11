/*
 * hdrlist.c - the header fields a later milter of a chain is sent:
 * milter-load applies each earlier milter's header edits here, as
 * Postfix's cleanup server does in the queue file (see hdrlist.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libmilter/mfdef.h>

#include "hdrlist.h"

typedef struct {
    const char *name;
    const char *value;
    char *owned;            /* name\0value\0 of an added field, or NULL */
} field_t;

struct hdrlist {
    field_t f[HDRLIST_MAX];
    size_t n;
};

hdrlist_t *hdrlist_new(void)
{
    return calloc(1, sizeof(hdrlist_t));
}

static void drop_owned(hdrlist_t *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->f[i].owned);
    h->n = 0;
}

void hdrlist_free(hdrlist_t *h)
{
    if (h == NULL)
        return;
    drop_owned(h);
    free(h);
}

int hdrlist_reset(hdrlist_t *h, const msgfile_t *m)
{
    drop_owned(h);
    if (m->nhdr > HDRLIST_MAX)
        return -1;
    for (size_t i = 0; i < m->nhdr; i++)
        h->f[i] = (field_t){m->hdr[i].name, m->hdr[i].value, NULL};
    h->n = m->nhdr;
    return 0;
}

size_t hdrlist_count(const hdrlist_t *h) { return h->n; }
const char *hdrlist_name(const hdrlist_t *h, size_t i) { return h->f[i].name; }
const char *hdrlist_value(const hdrlist_t *h, size_t i) { return h->f[i].value; }

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* A field as Postfix stores it: "name: value" unless the value already
 * starts with white space. */
static int make_field(field_t *f, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    int pad = value[0] != ' ' && value[0] != '\t';
    char *s = malloc(nl + 1 + (size_t)pad + vl + 1);
    if (s == NULL)
        return -1;
    memcpy(s, name, nl + 1);
    s[nl + 1] = ' ';
    memcpy(s + nl + 1 + pad, value, vl + 1);
    *f = (field_t){s, s + nl + 1, s};
    return 0;
}

static int insert_at(hdrlist_t *h, size_t at, const char *name,
                     const char *value)
{
    field_t f;
    if (h->n == HDRLIST_MAX || make_field(&f, name, value) < 0)
        return -1;
    if (at > h->n)
        at = h->n;
    memmove(&h->f[at + 1], &h->f[at], (h->n - at) * sizeof f);
    h->f[at] = f;
    h->n++;
    return 0;
}

/* CHGHEADER: the index-th field called name, replaced or deleted. */
static int change(hdrlist_t *h, uint32_t index, const char *name,
                  const char *value)
{
    uint32_t seen = 0;
    for (size_t i = 0; i < h->n; i++) {
        if (strcasecmp(h->f[i].name, name) != 0 || ++seen < index)
            continue;
        if (*value == '\0') {
            free(h->f[i].owned);
            memmove(&h->f[i], &h->f[i + 1], (h->n - i - 1) * sizeof h->f[i]);
            h->n--;
            return 0;
        }
        field_t f;
        if (make_field(&f, name, value) < 0)
            return -1;
        free(h->f[i].owned);
        h->f[i] = f;
        return 0;
    }
    return *value == '\0' ? 0 : insert_at(h, h->n, name, value);
}

int hdrlist_apply(hdrlist_t *h, const mproto_pkt_t *pkt)
{
    const char *s = (const char *)pkt->data;
    switch (pkt->cmd) {
    case SMFIR_ADDHEADER:
        return insert_at(h, h->n, s, s + strlen(s) + 1);
    case SMFIR_INSHEADER:
        return insert_at(h, get_u32(pkt->data), s + 4,
                         s + 4 + strlen(s + 4) + 1);
    case SMFIR_CHGHEADER:
        return change(h, get_u32(pkt->data), s + 4,
                      s + 4 + strlen(s + 4) + 1);
    default:
        return 0;
    }
}
