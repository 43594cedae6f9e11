/*
 * spf_metrics.c - register postern-spf's result counters once, at start;
 * the milter counts each message's results when it reports them.
 */
#include <stdio.h>

#include "metrics.h"

#include "spf_metrics.h"

#define NSKIP (SPF_SKIP_RELAY + 1)

static metric_t *results[2][SPF_RESULT_COUNT];
static metric_t *skipped[NSKIP];

void spf_metrics_init(const config_t *cfg)
{
    static const char *const ids[2] = { "mailfrom", "helo" };
    char labels[96];

    (void) cfg;
    for (int i = 0; i < 2; i++)
        for (int r = 0; r < SPF_RESULT_COUNT; r++) {
            snprintf(labels, sizeof(labels), "identity=\"%s\",result=\"%s\"", ids[i],
                     spf_result_name((spf_result_t) r));
            results[i][r] = metrics_counter("postern_spf_results_total",
                                            "SPF results by identity checked.", labels);
        }
    for (int s = SPF_SKIP_INTERNAL; s < NSKIP; s++) {
        snprintf(labels, sizeof(labels), "reason=\"%s\"", spf_skip_name((spf_skip_t) s));
        skipped[s] = metrics_counter("postern_spf_skipped_total",
                                     "Messages not checked, by why.", labels);
    }
}

void spf_metrics_result(spf_identity_t id, spf_result_t r)
{
    if ((unsigned) id < 2 && (unsigned) r < SPF_RESULT_COUNT)
        metric_add(results[id][r], 1);
}

void spf_metrics_skipped(spf_skip_t why)
{
    if ((unsigned) why < NSKIP)
        metric_add(skipped[why], 1);
}
