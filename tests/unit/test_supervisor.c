/* test_supervisor.c - restart with back-off, clean stop, SIGKILL fallback. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "supervisor.h"

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void backoff_doubles_then_caps(void **state)
{
    (void) state;
    static const struct { unsigned n, ms; } cases[] = {
        { 0, 0 }, { 1, 0 }, { 2, 1000 }, { 3, 2000 }, { 4, 4000 },
        { 7, 32000 }, { 8, 60000 }, { 9, 60000 }, { 1000, 60000 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(sup_backoff_ms(cases[i].n), cases[i].ms);
}

struct stopper { sup_t *s; unsigned after_ms; };

static void *stop_later(void *arg)
{
    struct stopper *st = arg;
    usleep(st->after_ms * 1000);
    sup_request_stop(st->s);
    return NULL;
}

/* Runs the supervisor until a thread asks it to stop; returns elapsed ms. */
static int64_t run_for(sup_t *s, unsigned ms, unsigned stop_timeout_ms)
{
    sigset_t mask, old;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &mask, &old);   /* the thread inherits it */
    struct stopper st = { s, ms };
    pthread_t t;
    pthread_create(&t, NULL, stop_later, &st);
    sup_opts_t opts = { .stop_timeout_ms = stop_timeout_ms, .quick_exit_ms = 5000 };
    char err[256] = "";
    int64_t t0 = mono_ms();
    assert_int_equal(sup_run(s, &opts, err, sizeof(err)), 0);
    int64_t elapsed = mono_ms() - t0;
    pthread_join(t, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return elapsed;
}

static int count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    int n = 0, c;
    if (f == NULL)
        return 0;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

static void crashing_child_is_restarted_with_backoff(void **state)
{
    (void) state;
    char path[] = "/tmp/postern-suptest-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char script[512];
    snprintf(script, sizeof(script), "echo run >> %s; exit 3", path);
    char *argv[] = { "/bin/sh", "-c", script, NULL };
    sup_t *s = sup_new();
    assert_non_null(s);
    assert_int_equal(sup_add(s, "crasher", argv), 0);
    /* Starts at 0, restarts at once (first failure), then after 1 s, then
     * 2 s: in 2.5 s exactly three runs, not a tight loop. */
    run_for(s, 2500, 2000);
    int runs = count_lines(path);
    assert_int_equal(runs, 3);
    assert_int_equal(sup_starts(s, 0), 3);
    sup_free(s);
    unlink(path);
}

static void stop_terminates_children_promptly(void **state)
{
    (void) state;
    char *argv[] = { "/bin/sleep", "100", NULL };
    sup_t *s = sup_new();
    assert_int_equal(sup_add(s, "a", argv), 0);
    assert_int_equal(sup_add(s, "b", argv), 0);
    int64_t ms = run_for(s, 300, 20000);
    /* sleep dies on SIGTERM at once, far below the 20 s grace after
     * which SIGKILL would come (slack for a loaded machine). */
    assert_true(ms < 10000);
    assert_int_equal(sup_starts(s, 0), 1);
    assert_int_equal(sup_starts(s, 1), 1);
    sup_free(s);
}

static void child_ignoring_sigterm_is_killed_after_grace(void **state)
{
    (void) state;
    char *argv[] = { "/bin/sh", "-c", "trap '' TERM; sleep 100 & wait; sleep 100",
                     NULL };
    sup_t *s = sup_new();
    assert_int_equal(sup_add(s, "stubborn", argv), 0);
    int64_t ms = run_for(s, 300, 800);
    assert_true(ms >= 1000);        /* waited the grace period ... */
    assert_true(ms < 4000);         /* ... and then killed it */
    sup_free(s);
}

static void add_rejects_bad_argv(void **state)
{
    (void) state;
    sup_t *s = sup_new();
    char *empty[] = { NULL };
    assert_int_equal(sup_add(s, "x", empty), -1);
    assert_int_equal(sup_add(s, "x", NULL), -1);
    char *ok[] = { "/bin/true", NULL };
    for (int i = 0; i < SUP_MAX_CHILDREN; i++)
        assert_int_equal(sup_add(s, "x", ok), 0);
    assert_int_equal(sup_add(s, "x", ok), -1);
    sup_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(backoff_doubles_then_caps),
        cmocka_unit_test(add_rejects_bad_argv),
        cmocka_unit_test(crashing_child_is_restarted_with_backoff),
        cmocka_unit_test(stop_terminates_children_promptly),
        cmocka_unit_test(child_ignoring_sigterm_is_killed_after_grace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
