/*
 * dmarc_hist.c - the history front: picks a back end by name, and turns
 * an evaluation into a row. The milter writes through it, "postern dmarc
 * report" reads through it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc_hist.h"

struct dmarc_hist {
    const dmarc_hist_ops_t *ops;
    void *h;
};

/* The "none" back end: history = none. */
static void *none_open(const char *path, char *err, size_t errlen)
{
    static int token;

    (void) path; (void) err; (void) errlen;
    return &token;
}

static int none_add(void *h, const dmarc_hist_row_t *row, char *err, size_t errlen)
{
    (void) h; (void) row; (void) err; (void) errlen;
    return 0;
}

static int none_domains(void *h, int64_t begin, int64_t end, dmarc_hist_domain_fn each,
                        void *arg, char *err, size_t errlen)
{
    (void) h; (void) begin; (void) end; (void) each; (void) arg; (void) err; (void) errlen;
    return 0;
}

static int none_latest(void *h, const char *domain, int64_t begin, int64_t end,
                       dmarc_hist_row_t *out, char *err, size_t errlen)
{
    (void) h; (void) domain; (void) begin; (void) end; (void) out; (void) err; (void) errlen;
    return 0;
}

static int none_groups(void *h, const char *domain, int64_t begin, int64_t end,
                       dmarc_hist_group_fn each, void *arg, char *err, size_t errlen)
{
    (void) h; (void) domain; (void) begin; (void) end; (void) each; (void) arg;
    (void) err; (void) errlen;
    return 0;
}

static void none_close(void *h)
{
    (void) h;
}

static const dmarc_hist_ops_t none_ops = {
    "none", none_open, none_add, none_domains, none_latest, none_groups, none_close
};

static const dmarc_hist_ops_t *const backends[] = { &dmarc_hist_sqlite_ops, &none_ops, NULL };

dmarc_hist_t *dmarc_hist_open(const char *backend, const char *path, char *err,
                              size_t errlen)
{
    for (const dmarc_hist_ops_t *const *b = backends; *b != NULL; b++) {
        if (strcmp((*b)->name, backend) != 0)
            continue;
        dmarc_hist_t *h = calloc(1, sizeof *h);
        if (h == NULL) {
            snprintf(err, errlen, "out of memory");
            return NULL;
        }
        h->ops = *b;
        if ((h->h = h->ops->open(path, err, errlen)) == NULL) {
            free(h);
            return NULL;
        }
        return h;
    }
    snprintf(err, errlen, "unknown history back end \"%s\"", backend);
    return NULL;
}

void dmarc_hist_close(dmarc_hist_t *h)
{
    if (h == NULL)
        return;
    h->ops->close(h->h);
    free(h);
}

int dmarc_hist_add(dmarc_hist_t *h, const dmarc_hist_row_t *row, char *err, size_t errlen)
{
    return h->ops->add(h->h, row, err, errlen);
}

int dmarc_hist_domains(dmarc_hist_t *h, int64_t begin, int64_t end,
                       dmarc_hist_domain_fn each, void *arg, char *err, size_t errlen)
{
    return h->ops->domains(h->h, begin, end, each, arg, err, errlen);
}

int dmarc_hist_latest(dmarc_hist_t *h, const char *domain, int64_t begin, int64_t end,
                      dmarc_hist_row_t *out, char *err, size_t errlen)
{
    return h->ops->latest(h->h, domain, begin, end, out, err, errlen);
}

int dmarc_hist_groups(dmarc_hist_t *h, const char *domain, int64_t begin, int64_t end,
                      dmarc_hist_group_fn each, void *arg, char *err, size_t errlen)
{
    return h->ops->groups(h->h, domain, begin, end, each, arg, err, errlen);
}

#define COPY(dst, src) snprintf((dst), sizeof(dst), "%s", (src) ? (src) : "")

void dmarc_hist_row_fill(dmarc_hist_row_t *row, const dmarc_outcome_t *o,
                         const dmarc_input_t *in, const char *client_ip,
                         const char *envelope_from, const char *envelope_to,
                         int64_t ts)
{
    const dmarc_verdict_t *v = &o->verdict;

    memset(row, 0, sizeof *row);
    row->ts = ts;
    COPY(row->source_ip, client_ip);
    COPY(row->header_from, o->from_domain);
    COPY(row->envelope_from, envelope_from);
    COPY(row->envelope_to, envelope_to);
    if (o->evaluated && v->record_found) {
        COPY(row->policy_domain, v->policy_domain);
        row->p = v->tags.p;
        row->sp = v->tags.sp;
        row->pct = v->tags.pct;
        row->adkim = v->tags.adkim;
        row->aspf = v->tags.aspf;
        COPY(row->fo, v->tags.fo);
        COPY(row->rua, v->tags.rua);
    }
    row->result = o->evaluated ? v->result : DMARC_RESULT_PERMERROR;
    row->disposition = o->action.dis;
    row->dkim_aligned = v->dkim_aligned;
    row->spf_aligned = v->spf_aligned;
    COPY(row->override, o->action.override);
    COPY(row->spf_domain, in->spf_domain);
    row->spf_helo = in->spf_helo;
    row->spf_result = in->spf_result;
    for (size_t i = 0; i < in->ndkim && row->ndkim < DMARC_HIST_MAX_DKIM; i++) {
        dmarc_hist_dkim_t *d = &row->dkim[row->ndkim++];
        COPY(d->domain, in->dkim[i].domain);
        COPY(d->selector, in->dkim[i].selector);
        d->result = in->dkim[i].result;
    }
}
