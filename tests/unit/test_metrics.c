/*
 * test_metrics.c - the metrics registry: exact counts under concurrent
 * updates, cumulative histogram buckets, and the text format.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

static metric_t *hits;

static void *adder(void *arg)
{
    (void) arg;
    for (int i = 0; i < 100000; i++)
        metric_add(hits, 1);
    return NULL;
}

static void counters_are_exact_under_threads_and_rendered(void **state)
{
    pthread_t t[4];
    metric_t *g, *h, *labelled;
    char *text;

    (void) state;
    hits = metrics_counter("test_hits_total", "Hits.", NULL);
    labelled = metrics_counter("test_hits_total", "Hits.", "kind=\"b\"");
    g = metrics_gauge("test_open", "Open things.", NULL);
    h = metrics_histogram("test_seconds", "Times.", NULL);
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, adder, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    metric_add(labelled, 7);
    metric_set(g, 42);
    metric_observe_ms(h, 0.05);     /* first bucket */
    metric_observe_ms(h, 3);        /* le 0.005 */
    metric_observe_ms(h, 60000);    /* +Inf only */
    text = metrics_render();
    assert_non_null(text);
    assert_non_null(strstr(text, "# HELP test_hits_total Hits.\n# TYPE test_hits_total counter\n"
                                 "test_hits_total 400000\n"));
    /* One HELP/TYPE per name, labelled series after it. */
    assert_non_null(strstr(text, "test_hits_total{kind=\"b\"} 7\n"));
    assert_null(strstr(strstr(text, "test_hits_total 400000") , "# HELP test_hits_total"));
    assert_non_null(strstr(text, "test_open 42\n"));
    assert_non_null(strstr(text, "test_seconds_bucket{le=\"0.0001\"} 1\n"));
    assert_non_null(strstr(text, "test_seconds_bucket{le=\"0.0025\"} 1\n"));
    assert_non_null(strstr(text, "test_seconds_bucket{le=\"0.005\"} 2\n"));
    assert_non_null(strstr(text, "test_seconds_bucket{le=\"10\"} 2\n"));
    assert_non_null(strstr(text, "test_seconds_bucket{le=\"+Inf\"} 3\n"));
    assert_non_null(strstr(text, "test_seconds_count 3\n"));
    free(text);
}

static void null_metrics_are_ignored_and_bad_listeners_refused(void **state)
{
    char err[128];

    (void) state;
    metric_add(NULL, 1);
    metric_set(NULL, 1);
    metric_observe_ms(NULL, 1);
    assert_int_equal(metrics_serve("0.0.0.0:9101", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "127.x.x.x"));
    assert_int_equal(metrics_serve("127.0.0.1", err, sizeof(err)), -1);
    assert_int_equal(metrics_serve("127.0.0.1:0", err, sizeof(err)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counters_are_exact_under_threads_and_rendered),
        cmocka_unit_test(null_metrics_are_ignored_and_bad_listeners_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
