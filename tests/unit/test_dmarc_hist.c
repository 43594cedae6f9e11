/*
 * test_dmarc_hist.c - the SQLite history writes in batches from its own
 * thread: every row added by many milter threads is in the database
 * after a clean close (also when they outrun the writer and wait for
 * room), a lone row reaches the database within about a second without
 * any close or query, a query sees every row added before it, and a
 * history opened before fork(2) (the daemon detaching) still stores
 * what the child adds.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "dmarc_hist.h"

#define THREADS 4
#define PER_THREAD 1500         /* together well above the queue's 512 */

static char dir[] = "/tmp/test_dmarc_hist.XXXXXX";
static char db[300];

static dmarc_hist_row_t row(int i)
{
    dmarc_hist_row_t r;

    memset(&r, 0, sizeof r);
    r.ts = 1000 + i % 100;
    snprintf(r.source_ip, sizeof r.source_ip, "192.0.2.%d", i % 250);
    snprintf(r.header_from, sizeof r.header_from, "example.org");
    snprintf(r.policy_domain, sizeof r.policy_domain, "example.org");
    r.p = DMARC_P_REJECT;
    r.result = DMARC_RESULT_PASS;
    r.ndkim = 1;
    snprintf(r.dkim[0].domain, sizeof r.dkim[0].domain, "example.org");
    snprintf(r.dkim[0].selector, sizeof r.dkim[0].selector, "s1");
    r.dkim[0].result = DMARC_AUTH_PASS;
    return r;
}

static dmarc_hist_t *open_hist(void)
{
    char err[256];
    dmarc_hist_t *h = dmarc_hist_open("sqlite", db, err, sizeof err);
    if (h == NULL)
        fail_msg("%s", err);
    return h;
}

/* Rows in the file, through a connection of its own (as the report
 * command reads it while the milter runs). */
static long rows_on_disk(void)
{
    sqlite3 *c;
    sqlite3_stmt *st;
    long n = -1;
    if (sqlite3_open_v2(db, &c, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(c, "SELECT COUNT(*) FROM evaluations", -1, &st,
                           NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(c);
    return n;
}

static int setup(void **state)
{
    (void) state;
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(db, sizeof db, "%s/h.db", dir);
    return 0;
}

static int teardown(void **state)
{
    char cmd[400];

    (void) state;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void *adder(void *arg)
{
    dmarc_hist_t *h = arg;
    char err[256];

    for (int i = 0; i < PER_THREAD; i++) {
        dmarc_hist_row_t r = row(i);
        if (dmarc_hist_add(h, &r, err, sizeof err) < 0)
            return (void *) 1;
    }
    return NULL;
}

static int count_group(void *arg, const dmarc_hist_row_t *g, unsigned long n)
{
    (void) g;
    *(unsigned long *) arg += n;
    return 0;
}

static void rows_of_many_threads_all_stored_by_close(void **state)
{
    pthread_t t[THREADS];
    dmarc_hist_t *h = open_hist();
    unsigned long total = 0;
    char err[256];

    (void) state;
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, adder, h), 0);
    for (int i = 0; i < THREADS; i++) {
        void *rc;
        pthread_join(t[i], &rc);
        assert_null(rc);
    }
    dmarc_hist_close(h);
    assert_int_equal(rows_on_disk(), THREADS * PER_THREAD);

    h = open_hist();        /* and the report side reads them back */
    assert_int_equal(dmarc_hist_groups(h, "example.org", 0, 5000, count_group,
                                       &total, err, sizeof err), 0);
    assert_int_equal(total, THREADS * PER_THREAD);
    dmarc_hist_close(h);
}

static void lone_row_reaches_disk_without_close(void **state)
{
    dmarc_hist_t *h = open_hist();
    dmarc_hist_row_t r = row(1);
    char err[256];
    long before = rows_on_disk(), now = before;

    (void) state;
    assert_int_equal(dmarc_hist_add(h, &r, err, sizeof err), 0);
    for (int i = 0; i < 50 && now == before; i++) {     /* up to 5 s */
        struct timespec pause = { 0, 100 * 1000 * 1000 };
        nanosleep(&pause, NULL);
        now = rows_on_disk();
    }
    assert_int_equal(now, before + 1);
    dmarc_hist_close(h);
}

static void query_sees_rows_added_before_it(void **state)
{
    dmarc_hist_t *h = open_hist();
    unsigned long before = 0, after = 0;
    char err[256];

    (void) state;
    assert_int_equal(dmarc_hist_groups(h, "example.org", 0, 5000, count_group,
                                       &before, err, sizeof err), 0);
    for (int i = 0; i < 10; i++) {
        dmarc_hist_row_t r = row(i);
        assert_int_equal(dmarc_hist_add(h, &r, err, sizeof err), 0);
    }
    assert_int_equal(dmarc_hist_groups(h, "example.org", 0, 5000, count_group,
                                       &after, err, sizeof err), 0);
    assert_int_equal(after, before + 10);
    dmarc_hist_close(h);
}

static void history_opened_before_fork_works_in_the_child(void **state)
{
    dmarc_hist_t *h = open_hist();
    long before = rows_on_disk();
    int status = -1;

    (void) state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char err[256];
        alarm(20);              /* a stuck writer kills the child */
        for (int i = 0; i < 600; i++) {     /* more than the queue holds */
            dmarc_hist_row_t r = row(i);
            if (dmarc_hist_add(h, &r, err, sizeof err) < 0)
                _exit(2);
        }
        dmarc_hist_close(h);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(rows_on_disk(), before + 600);
    dmarc_hist_close(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rows_of_many_threads_all_stored_by_close),
        cmocka_unit_test(lone_row_reaches_disk_without_close),
        cmocka_unit_test(query_sees_rows_added_before_it),
        cmocka_unit_test(history_opened_before_fork_works_in_the_child),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
