/*
 * test_mnamed.c - counters per configured name: each name at start has
 * its own series, unknown names count as "other", label values are made
 * safe for the text format, and a NULL table does nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"
#include "mnamed.h"

static void names_others_and_safe_labels(void **state)
{
    const char *names[] = { "per-sender", "odd\"name\\x", "per-ip" };
    mnamed_t *m = mnamed_new("t_hits_total", "Hits.", "limit", names, 3);
    char *text;

    (void) state;
    assert_non_null(m);
    mnamed_add(m, "per-sender", 2);
    mnamed_add(m, "per-ip", 1);
    mnamed_add(m, "odd\"name\\x", 4);
    mnamed_add(m, "added-by-reload", 5);
    mnamed_add(NULL, "per-sender", 1);
    text = metrics_render();
    assert_non_null(text);
    assert_non_null(strstr(text, "t_hits_total{limit=\"per-sender\"} 2\n"));
    assert_non_null(strstr(text, "t_hits_total{limit=\"per-ip\"} 1\n"));
    assert_non_null(strstr(text, "t_hits_total{limit=\"odd_name_x\"} 4\n"));
    assert_non_null(strstr(text, "t_hits_total{limit=\"other\"} 5\n"));
    free(text);
    mnamed_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_others_and_safe_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
