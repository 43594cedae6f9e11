/*
 * metrics.h - counters, gauges and latency histograms of a daemon, in the
 * Prometheus text format on an optional loopback HTTP listener.
 *
 * NAME
 *	metrics - what each daemon counts, for scraping and "postern stats"
 *
 * SYNOPSIS
 *	static metric_t *reqs;
 *	reqs = metrics_counter("postern_policyd_requests_total",
 *	                       "Policy requests answered.", NULL);
 *	metric_add(reqs, 1);
 *	metrics_serve("127.0.0.1:9101", err, sizeof(err));
 *
 * DESCRIPTION
 *	A metric is registered once, at start, with a name, a help line and
 *	an optional label set ("limit=\"per-sender\""), and updated from any
 *	thread with relaxed atomic operations: counting never takes a lock.
 *	Histograms have fixed buckets in milliseconds (0.1 to 10,000).
 *	metrics_serve() starts libmicrohttpd in a thread of its own that
 *	answers GET /metrics; it refuses addresses outside loopback, since
 *	the numbers describe the mail flow.
 */
#ifndef POSTERN_METRICS_H
#define POSTERN_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define METRICS_MAX 256

typedef struct metric metric_t;

/* NULL when the registry is full (METRICS_MAX). Names and labels are
 * copied. */
metric_t *metrics_counter(const char *name, const char *help, const char *labels);
metric_t *metrics_gauge(const char *name, const char *help, const char *labels);
metric_t *metrics_histogram(const char *name, const char *help, const char *labels);

void metric_add(metric_t *m, uint64_t n);        /* counters, gauges */
void metric_set(metric_t *m, int64_t v);         /* gauges */
void metric_observe_ms(metric_t *m, double ms);  /* histograms */

/* Writes every metric in the text exposition format to a malloc'd
 * string (caller frees); NULL when out of memory. */
char *metrics_render(void);

/* Serves /metrics on HOST:PORT (loopback only); 0 or -1 with ERR. */
int metrics_serve(const char *hostport, char *err, size_t errlen);
void metrics_stop(void);

#endif
