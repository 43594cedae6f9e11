/*
 * pmetrics.c - register postern-policyd's metrics once, at start.
 */
#include <stdio.h>

#include "metrics.h"

#include "limit.h"
#include "pmetrics.h"

pmetrics_t pmetrics;

static void hits_init(const limits_t *ls)
{
    const char *names[MNAMED_MAX];
    size_t n = 0;

    for (size_t i = 0; ls != NULL && i < limits_count(ls) && n < MNAMED_MAX; i++)
        names[n++] = limits_get(ls, i)->name;
    pmetrics.hits = mnamed_new("postern_policyd_limit_hits_total",
                               "Limit hits by the limit's name.", "limit", names, n);
}

void pmetrics_init(const limits_t *ls)
{
    char labels[64];

    pmetrics.requests = metrics_counter("postern_policyd_requests_total",
                                        "Policy requests answered.", NULL);
    pmetrics.over_limit = metrics_counter("postern_policyd_over_limit_total",
                                          "Limit hits (one request may hit several limits).",
                                          NULL);
    pmetrics.backend_errors = metrics_counter("postern_policyd_backend_errors_total",
                                              "Decisions the state back end could not make.",
                                              NULL);
    pmetrics.connections = metrics_gauge("postern_policyd_connections",
                                         "Open client connections.", NULL);
    pmetrics.decision = metrics_histogram("postern_policyd_decision_seconds",
                                          "Time from request to reply.", NULL);
    for (int a = ACTION_WARN; a <= ACTION_REJECT; a++) {
        snprintf(labels, sizeof(labels), "action=\"%s\"", limit_action_name((limit_action_t) a));
        pmetrics.actions[a] = metrics_counter("postern_policyd_limit_actions_total",
                                              "Limit hits by the limit's action.", labels);
    }
    hits_init(ls);
}
