/*
 * mmetrics.h - what every milter counts: callback latency and replies
 * per protocol stage, the actions taken, connections. milterd
 * registers them and times the callbacks, mglue counts the actions, so a
 * component gets its metrics without a line of its own.
 *
 * NAME
 *	mmetrics - milter metrics
 *
 * DESCRIPTION
 *	postern_milter_callback_seconds{component,stage}   histogram
 *	postern_milter_replies_total{component,stage,reply} counter
 *	    (reply: reject, tempfail, discard, accept; "continue" is not
 *	    counted, it is the histogram's count minus these)
 *	postern_milter_actions_total{component,action,enforced} counter
 *	    (enforced="no" in monitor mode: what would have been done)
 *	postern_milter_connections_total{component}         counter
 *	    (libmilter may close a session that never had a connect
 *	    callback, so open sessions cannot be counted reliably)
 *
 *	Before mmetrics_init() every update does nothing.
 */
#ifndef POSTERN_MMETRICS_H
#define POSTERN_MMETRICS_H

#include <stdbool.h>

#include <libmilter/mfapi.h>

#include "mact.h"

typedef enum {
    MM_CONNECT, MM_HELO, MM_ENVFROM, MM_ENVRCPT, MM_DATA, MM_HEADER, MM_EOH,
    MM_BODY, MM_EOM, MM_ABORT, MM_STAGES
} mm_stage_t;

/* Registers the metrics of COMPONENT; call once, before serving. */
void mmetrics_init(const char *component);
void mmetrics_callback(mm_stage_t stage, sfsistat rc, double ms);
void mmetrics_action(mact_t action, bool enforced);
void mmetrics_connection(void);

#endif
