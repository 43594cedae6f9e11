/*
 * test_policyd_gcra.c - the limiter maths: burst, steady rate, refill,
 * costs above one, refused requests not counted, clock jumps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "gcra.h"

#define S GCRA_SECOND
#define T0 (1700000000LL * S)   /* any wall-clock time */

static gcra_params_t params(uint64_t rate, int64_t period, uint64_t burst)
{
    gcra_params_t p;
    char err[128];

    assert_int_equal(gcra_params_init(&p, rate, period, burst, err, sizeof(err)), 0);
    return p;
}

static void burst_is_allowed_at_once_then_refused(void **state)
{
    gcra_params_t p = params(100, 3600 * S, 10);
    int64_t tat = 0;

    (void) state;
    for (int i = 0; i < 10; i++) {
        gcra_result_t r = gcra_apply(&p, &tat, T0, 1);
        assert_true(r.allowed);
        assert_int_equal(r.remaining, 9 - i);
    }
    gcra_result_t r = gcra_apply(&p, &tat, T0, 1);
    assert_false(r.allowed);
    /* One unit comes back every 36 s. */
    assert_int_equal(r.retry_after_us, 36 * S);
}

static void refill_follows_the_rate(void **state)
{
    gcra_params_t p = params(60, 60 * S, 0);     /* 1/s, burst 60 */
    int64_t tat = 0;

    (void) state;
    for (int i = 0; i < 60; i++)
        assert_true(gcra_apply(&p, &tat, T0, 1).allowed);
    assert_false(gcra_apply(&p, &tat, T0, 1).allowed);
    assert_false(gcra_apply(&p, &tat, T0 + S - 1, 1).allowed);
    assert_true(gcra_apply(&p, &tat, T0 + S, 1).allowed);
    assert_false(gcra_apply(&p, &tat, T0 + S, 1).allowed);
    /* After a full period idle, the whole burst is back. */
    int n = 0;
    while (gcra_apply(&p, &tat, T0 + 200 * S, 1).allowed)
        n++;
    assert_int_equal(n, 60);
}

static void steady_rate_over_a_long_run_is_exact(void **state)
{
    gcra_params_t p = params(100, 3600 * S, 0);
    int64_t tat = 0;
    long allowed = 0;

    (void) state;
    /* A request every second for 10 hours: 100 burst + 100 per hour. */
    for (int64_t t = 0; t < 36000; t++)
        allowed += gcra_apply(&p, &tat, T0 + t * S, 1).allowed;
    assert_int_equal(allowed, 100 + 1000 - 1);
}

static void refused_requests_do_not_count(void **state)
{
    gcra_params_t p = params(2, 60 * S, 0);
    int64_t tat = 0;

    (void) state;
    assert_true(gcra_apply(&p, &tat, T0, 1).allowed);
    assert_true(gcra_apply(&p, &tat, T0, 1).allowed);
    int64_t before = tat;
    for (int i = 0; i < 1000; i++)
        assert_false(gcra_apply(&p, &tat, T0, 1).allowed);
    assert_int_equal(tat, before);
    assert_true(gcra_apply(&p, &tat, T0 + 30 * S, 1).allowed);
}

static void costs_above_one_and_above_the_burst(void **state)
{
    gcra_params_t p = params(1000, 60 * S, 0);     /* e.g. 1000 recipients a minute */
    int64_t tat = 0;

    (void) state;
    assert_true(gcra_apply(&p, &tat, T0, 600).allowed);
    gcra_result_t r = gcra_apply(&p, &tat, T0, 500);
    assert_false(r.allowed);
    assert_int_equal(r.remaining, 400);
    assert_true(gcra_apply(&p, &tat, T0, 400).allowed);
    r = gcra_apply(&p, &tat, T0 + 3600 * S, 1001);
    assert_false(r.allowed);
    assert_int_equal(r.retry_after_us, -1);         /* never fits */
}

static void clock_jumping_back_costs_at_most_one_burst(void **state)
{
    gcra_params_t p = params(10, 10 * S, 0);
    int64_t tat = 0;

    (void) state;
    for (int i = 0; i < 10; i++)
        assert_true(gcra_apply(&p, &tat, T0, 1).allowed);
    /* The clock goes back an hour: the key must not be blocked an hour. */
    gcra_result_t r = gcra_apply(&p, &tat, T0 - 3600 * S, 1);
    assert_false(r.allowed);
    assert_true(r.retry_after_us <= 10 * S);
    assert_true(gcra_apply(&p, &tat, T0 - 3600 * S + 11 * S, 1).allowed);
    /* And forward: a jump ahead just refills. */
    assert_true(gcra_apply(&p, &tat, T0 + 86400 * S, 1).allowed);
}

static void expiry_and_rates(void **state)
{
    static const struct {
        const char *text;
        uint64_t rate;
        int64_t period;
    } ok[] = { { "100/1h", 100, 3600 * S }, { "5/30s", 5, 30 * S }, { "7/d", 7, 86400 * S },
               { "2000/1d", 2000, 86400 * S }, { "10/500ms", 10, 500000 } };
    static const char *const bad[] = { "", "100", "0/1h", "100/", "100/1x", "-1/1h",
                                       "100/0h", "1h/100", "99999999999999999999999/1s" };
    uint64_t rate;
    int64_t period;
    char err[128];
    gcra_params_t p;

    (void) state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(gcra_parse_rate(ok[i].text, &rate, &period, err, sizeof(err)), 0);
        assert_int_equal(rate, ok[i].rate);
        assert_int_equal(period, ok[i].period);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (gcra_parse_rate(bad[i], &rate, &period, err, sizeof(err)) != -1)
            fail_msg("'%s' accepted", bad[i]);
    assert_int_equal(gcra_params_init(&p, 0, S, 0, err, sizeof(err)), -1);
    assert_int_equal(gcra_params_init(&p, 2000000, S, 0, err, sizeof(err)), -1);
    assert_int_equal(gcra_params_init(&p, 1, 3600 * S, 1ULL << 40, err, sizeof(err)), -1);
    assert_true(gcra_expired(T0, T0));
    assert_false(gcra_expired(T0 + 1, T0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(burst_is_allowed_at_once_then_refused),
        cmocka_unit_test(refill_follows_the_rate),
        cmocka_unit_test(steady_rate_over_a_long_run_is_exact),
        cmocka_unit_test(refused_requests_do_not_count),
        cmocka_unit_test(costs_above_one_and_above_the_burst),
        cmocka_unit_test(clock_jumping_back_costs_at_most_one_burst),
        cmocka_unit_test(expiry_and_rates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
