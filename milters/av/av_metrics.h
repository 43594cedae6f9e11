/*
 * av_metrics.h - what postern-av counts for the metrics listener:
 *
 *	postern_av_scans_total{result}          counter
 *	    messages scanned: clean, infected, limit (over a scan limit),
 *	    error, unscanned (no database, on_no_database = pass)
 *	postern_av_scan_seconds                 histogram
 *	    time to scan one message, spool to verdict
 *	postern_av_engine_reloads_total{outcome} counter
 *	    signature database changes picked up while running: ok (new
 *	    engine in use) or failed (old engine kept)
 *
 * Before av_metrics_init() the updates do nothing.
 */
#ifndef POSTERN_AV_METRICS_H
#define POSTERN_AV_METRICS_H

#include <stdbool.h>

#include "config.h"

#include "avscan.h"

void av_metrics_init(const config_t *cfg);
void av_metrics_scan(avscan_status_t st, double ms);
/* An avscan_reload_fn; ARG is unused. */
void av_metrics_reload(void *arg, bool ok);

#endif
