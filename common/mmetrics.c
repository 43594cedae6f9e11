/*
 * mmetrics.c - the milter metrics, registered once per process.
 */
#include <stdio.h>

#include "metrics.h"
#include "mmetrics.h"

enum { R_REJECT, R_TEMPFAIL, R_DISCARD, R_ACCEPT, R_N };

static const char *const stage_names[MM_STAGES] = {
    "connect", "helo", "envfrom", "envrcpt", "data", "header", "eoh", "body", "eom", "abort"
};
static const char *const reply_names[R_N] = { "reject", "tempfail", "discard", "accept" };

static struct {
    metric_t *latency[MM_STAGES];
    metric_t *replies[MM_STAGES][R_N];
    metric_t *actions[MACT_QUARANTINE + 1][2];
    metric_t *connections;
} mm;

void mmetrics_init(const char *component)
{
    char labels[160];

    for (int s = 0; s < MM_STAGES; s++) {
        snprintf(labels, sizeof(labels), "component=\"%s\",stage=\"%s\"", component,
                 stage_names[s]);
        mm.latency[s] = metrics_histogram("postern_milter_callback_seconds",
                                          "Time spent in a milter callback.", labels);
        for (int r = 0; r < R_N; r++) {
            snprintf(labels, sizeof(labels), "component=\"%s\",stage=\"%s\",reply=\"%s\"",
                     component, stage_names[s], reply_names[r]);
            mm.replies[s][r] = metrics_counter("postern_milter_replies_total",
                                               "Replies other than continue, by stage.",
                                               labels);
        }
    }
    for (int a = MACT_ACCEPT; a <= MACT_QUARANTINE; a++)
        for (int e = 0; e < 2; e++) {
            snprintf(labels, sizeof(labels), "component=\"%s\",action=\"%s\",enforced=\"%s\"",
                     component, mact_name((mact_t) a), e ? "yes" : "no");
            mm.actions[a][e] = metrics_counter("postern_milter_actions_total",
                                               "Actions decided (enforced=no: monitor mode).",
                                               labels);
        }
    snprintf(labels, sizeof(labels), "component=\"%s\"", component);
    mm.connections = metrics_counter("postern_milter_connections_total",
                                     "SMTP connections the MTA reported (connect callbacks).",
                                     labels);
}

static int reply_index(sfsistat rc)
{
    switch (rc) {
    case SMFIS_REJECT: return R_REJECT;
    case SMFIS_TEMPFAIL: return R_TEMPFAIL;
    case SMFIS_DISCARD: return R_DISCARD;
    case SMFIS_ACCEPT: return R_ACCEPT;
    default: return -1;
    }
}

void mmetrics_callback(mm_stage_t stage, sfsistat rc, double ms)
{
    int r;

    if ((unsigned) stage >= MM_STAGES || mm.latency[stage] == NULL)
        return;
    metric_observe_ms(mm.latency[stage], ms);
    if ((r = reply_index(rc)) >= 0)
        metric_add(mm.replies[stage][r], 1);
}

void mmetrics_action(mact_t action, bool enforced)
{
    if ((unsigned) action <= MACT_QUARANTINE && mm.actions[action][enforced] != NULL)
        metric_add(mm.actions[action][enforced], 1);
}

void mmetrics_connection(void)
{
    metric_add(mm.connections, 1);
}
