/*
 * pmetrics.h - what postern-policyd counts for the metrics listener.
 * The pointers are NULL until pmetrics_init() (then updates are no-ops,
 * as in the unit tests).
 */
#ifndef POSTERN_PMETRICS_H
#define POSTERN_PMETRICS_H

#include "metrics.h"
#include "mnamed.h"

#include "limit.h"

typedef struct pmetrics {
    metric_t *requests, *over_limit, *backend_errors, *connections, *decision;
    metric_t *actions[4];       /* by limit_action_t */
    mnamed_t *hits;             /* by limit name */
} pmetrics_t;

extern pmetrics_t pmetrics;

/* LS: the limits at start, one hits counter each (mnamed.h). */
void pmetrics_init(const limits_t *ls);

#endif
