/*
 * dmarc_hist.h - the history of DMARC evaluations that aggregate
 * reports are built from (RFC 7489 section 7.2): one row per evaluated
 * message, behind a small table of operations so that the store can
 * change (SQLite today, a server database later) without touching the
 * milter or the report builder.
 *
 * NAME
 *	dmarc_hist - store evaluations, read them back grouped per report
 *
 * SYNOPSIS
 *	dmarc_hist_t *h = dmarc_hist_open("sqlite", "/var/lib/postern/dmarc.db",
 *	                                  err, sizeof err);
 *	dmarc_hist_row_t row;
 *	dmarc_hist_row_fill(&row, &outcome, &input, client_ip, mail_from_domain,
 *	                    rcpt_domain, time(NULL));
 *	dmarc_hist_add(h, &row, err, sizeof err);
 *	dmarc_hist_domains(h, begin, end, each_domain, arg, err, sizeof err);
 *	dmarc_hist_close(h);
 *
 * DESCRIPTION
 *	Back ends: "sqlite" (dmarc_hist_sqlite.c; PATH is the database file,
 *	created with its table on first use, WAL journal so that the report
 *	command reads while the milter writes) and "none" (keeps nothing;
 *	history = none).
 *
 *	A row holds what a report needs: time, source IP, header From
 *	domain, envelope domains, the policy published (domain, p, sp, pct,
 *	adkim, aspf, fo, rua), the disposition applied, the DMARC-aligned
 *	DKIM and SPF results, the override reason, and the raw SPF and DKIM
 *	results with their domains. Rows without a policy domain (no DMARC
 *	record) are kept for statistics but belong to no report.
 *
 *	Periods are [begin, end) in seconds since the epoch, UTC.
 *
 * THREADS
 *	One handle may be used by many threads; the back end serialises.
 */
#ifndef POSTERN_DMARC_HIST_H
#define POSTERN_DMARC_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmarc_eval.h"
#include "dmarc_lib.h"
#include "dmarc_policy.h"

#define DMARC_HIST_MAX_DKIM 8
#define DMARC_HIST_SELECTOR_MAX 63

typedef struct dmarc_hist_dkim {
    char domain[DMARC_DOMAIN_MAX + 1];
    char selector[DMARC_HIST_SELECTOR_MAX + 1];
    dmarc_auth_t result;
} dmarc_hist_dkim_t;

typedef struct dmarc_hist_row {
    int64_t ts;
    char source_ip[64];
    char header_from[DMARC_DOMAIN_MAX + 1];
    char envelope_from[DMARC_DOMAIN_MAX + 1];   /* "" for the null sender */
    char envelope_to[DMARC_DOMAIN_MAX + 1];
    /* policy published */
    char policy_domain[DMARC_DOMAIN_MAX + 1];   /* "" when no record */
    dmarc_p_t p, sp;
    int pct;
    char adkim, aspf;
    char fo[16];
    char rua[DMARC_URIS_MAX];
    /* policy evaluated */
    dmarc_result_t result;
    dmarc_p_t disposition;
    bool dkim_aligned, spf_aligned;
    char override[24];                          /* "" or a PolicyOverrideType */
    /* raw results */
    char spf_domain[DMARC_DOMAIN_MAX + 1];
    bool spf_helo;
    dmarc_auth_t spf_result;
    size_t ndkim;
    dmarc_hist_dkim_t dkim[DMARC_HIST_MAX_DKIM];
} dmarc_hist_row_t;

typedef struct dmarc_hist dmarc_hist_t;

/* Per report row: GROUP stands for COUNT identical messages. */
typedef int (*dmarc_hist_group_fn)(void *arg, const dmarc_hist_row_t *group,
                                   unsigned long count);
typedef int (*dmarc_hist_domain_fn)(void *arg, const char *policy_domain);

/* The operations one back end provides; each returns 0 or -1 with ERR. */
typedef struct dmarc_hist_ops {
    const char *name;
    void *(*open)(const char *path, char *err, size_t errlen);
    int (*add)(void *h, const dmarc_hist_row_t *row, char *err, size_t errlen);
    int (*domains)(void *h, int64_t begin, int64_t end, dmarc_hist_domain_fn each,
                   void *arg, char *err, size_t errlen);
    /* The latest row of DOMAIN in the period, for policy_published;
     * 1 found, 0 none, -1 error. */
    int (*latest)(void *h, const char *domain, int64_t begin, int64_t end,
                  dmarc_hist_row_t *out, char *err, size_t errlen);
    int (*groups)(void *h, const char *domain, int64_t begin, int64_t end,
                  dmarc_hist_group_fn each, void *arg, char *err, size_t errlen);
    void (*close)(void *h);
} dmarc_hist_ops_t;

extern const dmarc_hist_ops_t dmarc_hist_sqlite_ops;

/* Opens back end BACKEND ("sqlite" or "none") at PATH. NULL with ERR.
 * Caller frees with dmarc_hist_close. */
dmarc_hist_t *dmarc_hist_open(const char *backend, const char *path, char *err,
                              size_t errlen);
void dmarc_hist_close(dmarc_hist_t *h);

int dmarc_hist_add(dmarc_hist_t *h, const dmarc_hist_row_t *row, char *err,
                   size_t errlen);
/* Policy domains with rows in [BEGIN, END), each once, sorted. */
int dmarc_hist_domains(dmarc_hist_t *h, int64_t begin, int64_t end,
                       dmarc_hist_domain_fn each, void *arg, char *err, size_t errlen);
int dmarc_hist_latest(dmarc_hist_t *h, const char *domain, int64_t begin, int64_t end,
                      dmarc_hist_row_t *out, char *err, size_t errlen);
/* The rows of DOMAIN in [BEGIN, END) grouped as a report lists them:
 * by source IP, header From, disposition, aligned results, override,
 * SPF and DKIM results. EACH returning non-zero stops (and is returned). */
int dmarc_hist_groups(dmarc_hist_t *h, const char *domain, int64_t begin, int64_t end,
                      dmarc_hist_group_fn each, void *arg, char *err, size_t errlen);

/*
 * dmarc_hist_row_fill - the row for outcome O of input IN (its SPF and
 * DKIM results), from CLIENT_IP, with the envelope domains (NULL: "")
 * at time TS.
 */
void dmarc_hist_row_fill(dmarc_hist_row_t *row, const dmarc_outcome_t *o,
                         const dmarc_input_t *in, const char *client_ip,
                         const char *envelope_from, const char *envelope_to,
                         int64_t ts);

#endif
