/*
 * dmarc_metrics.c - register postern-dmarc's result and disposition
 * counters once, at start; the milter counts each message's outcome.
 */
#include <stdio.h>

#include "metrics.h"

#include "dmarc_eval.h"
#include "dmarc_lib.h"
#include "dmarc_metrics.h"

#define NRES (DMARC_RESULT_PERMERROR + 1)
#define NP (DMARC_P_REJECT + 1)

enum { NO_FROM = NRES, MULTI_FROM, BAD_FROM, NALL };

static metric_t *results[NALL], *dispositions[NP][NP];

static metric_t *result_counter(const char *result)
{
    char labels[64];

    snprintf(labels, sizeof(labels), "result=\"%s\"", result);
    return metrics_counter("postern_dmarc_results_total",
                           "DMARC results, one per message.", labels);
}

void dmarc_metrics_init(const config_t *cfg)
{
    char labels[96];

    (void) cfg;
    for (int r = 0; r < NRES; r++)
        results[r] = result_counter(dmarc_result_name((dmarc_result_t) r));
    results[NO_FROM] = result_counter("no-from");
    results[MULTI_FROM] = result_counter("multi-from");
    results[BAD_FROM] = result_counter("bad-from");
    for (int p = 0; p < NP; p++)
        for (int d = 0; d < NP; d++) {
            snprintf(labels, sizeof(labels), "policy=\"%s\",disposition=\"%s\"",
                     dmarc_p_name((dmarc_p_t) p), dmarc_p_name((dmarc_p_t) d));
            dispositions[p][d] = metrics_counter("postern_dmarc_dispositions_total",
                                                 "Messages under a published policy, by the "
                                                 "policy and the disposition applied.", labels);
        }
}

void dmarc_metrics_outcome(const dmarc_outcome_t *o)
{
    const dmarc_verdict_t *v = &o->verdict;

    if (!o->evaluated) {
        metric_add(results[o->authors == DMARC_AUTHORS_NONE ? NO_FROM
                           : o->authors == DMARC_AUTHORS_MULTI ? MULTI_FROM : BAD_FROM], 1);
        return;
    }
    if ((unsigned) v->result < NRES)
        metric_add(results[v->result], 1);
    if (v->record_found && (unsigned) v->policy < NP && (unsigned) o->action.dis < NP)
        metric_add(dispositions[v->policy][o->action.dis], 1);
}
