/*
 * av_metrics.c - register postern-av's scan and reload metrics once, at
 * start; the milter counts each scan, the scanner each engine reload.
 */
#include <stdio.h>

#include "metrics.h"

#include "av_metrics.h"

#define NSTATUS (AVSCAN_UNSCANNED + 1)

static metric_t *scans[NSTATUS], *scan_time, *reloads[2];

void av_metrics_init(const config_t *cfg)
{
    char labels[64];

    (void) cfg;
    for (int s = 0; s < NSTATUS; s++) {
        snprintf(labels, sizeof(labels), "result=\"%s\"",
                 avscan_status_name((avscan_status_t) s));
        scans[s] = metrics_counter("postern_av_scans_total", "Messages scanned, by result.",
                                   labels);
    }
    scan_time = metrics_histogram("postern_av_scan_seconds", "Time to scan one message.",
                                  NULL);
    reloads[0] = metrics_counter("postern_av_engine_reloads_total",
                                 "Database changes picked up while running.",
                                 "outcome=\"failed\"");
    reloads[1] = metrics_counter("postern_av_engine_reloads_total",
                                 "Database changes picked up while running.", "outcome=\"ok\"");
}

void av_metrics_scan(avscan_status_t st, double ms)
{
    if ((unsigned) st < NSTATUS)
        metric_add(scans[st], 1);
    metric_observe_ms(scan_time, ms);
}

void av_metrics_reload(void *arg, bool ok)
{
    (void) arg;
    metric_add(reloads[ok], 1);
}
