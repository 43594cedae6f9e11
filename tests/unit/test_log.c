/* test_log.c - level parsing and filtering of common/log. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"

static void log_level_names_round_trip(void **state)
{
    (void) state;
    static const struct { const char *name; int ok; log_level_t lvl; } cases[] = {
        { "error", 0, LOG_LVL_ERR }, { "ERR", 0, LOG_LVL_ERR },
        { "warning", 0, LOG_LVL_WARN }, { "warn", 0, LOG_LVL_WARN },
        { "notice", 0, LOG_LVL_NOTICE }, { "info", 0, LOG_LVL_INFO },
        { "Debug", 0, LOG_LVL_DEBUG }, { "verbose", -1, LOG_LVL_ERR },
        { "", -1, LOG_LVL_ERR },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        log_level_t got = LOG_LVL_ERR;
        assert_int_equal(log_level_parse(cases[i].name, &got), cases[i].ok);
        if (cases[i].ok == 0) {
            assert_int_equal(got, cases[i].lvl);
            log_level_t back;
            assert_int_equal(log_level_parse(log_level_name(got), &back), 0);
            assert_int_equal(back, got);
        }
    }
}

/* Capture what log_msg writes to stderr. */
static size_t capture(log_level_t set, log_level_t lvl, const char *text,
                      char *out, size_t outlen)
{
    char path[] = "/tmp/postern-logtest-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    log_open("logtest", LOG_TO_STDERR, set);
    log_msg(lvl, "%s", text);
    dup2(saved, STDERR_FILENO);
    close(saved);
    lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, out, outlen - 1);
    close(fd);
    out[n > 0 ? n : 0] = '\0';
    return n > 0 ? (size_t) n : 0;
}

static void log_filters_below_level_and_writes_whole_lines(void **state)
{
    (void) state;
    char buf[4096];
    assert_int_equal(capture(LOG_LVL_WARN, LOG_LVL_INFO, "hidden", buf, sizeof(buf)), 0);
    assert_true(capture(LOG_LVL_INFO, LOG_LVL_WARN, "Q1: shown", buf, sizeof(buf)) > 0);
    assert_non_null(strstr(buf, "logtest["));
    assert_non_null(strstr(buf, "warning: Q1: shown\n"));

    /* An over-long message is cut, still one line ending in a newline. */
    char big[5000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    size_t n = capture(LOG_LVL_INFO, LOG_LVL_ERR, big, buf, sizeof(buf));
    assert_true(n > 100 && n < sizeof(buf));
    assert_int_equal(buf[n - 1], '\n');
    assert_null(memchr(buf, '\n', n - 1));
}

/* The exact line, with this process's pid: in a forked child too, so a
 * cached pid never outlives fork(). Over-long text is cut at 2047. */
static void log_line_has_the_writers_pid(void **state)
{
    char buf[4096], want[128];
    int status;
    pid_t pid;

    (void) state;
    capture(LOG_LVL_INFO, LOG_LVL_WARN, "Q1: parent", buf, sizeof(buf));
    snprintf(want, sizeof(want), "logtest[%ld]: warning: Q1: parent\n", (long) getpid());
    assert_string_equal(buf, want);
    if ((pid = fork()) == 0) {
        capture(LOG_LVL_INFO, LOG_LVL_NOTICE, "Q2: child", buf, sizeof(buf));
        snprintf(want, sizeof(want), "logtest[%ld]: notice: Q2: child\n", (long) getpid());
        _exit(strcmp(buf, want) == 0 ? 0 : 1);
    }
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    char big[3000];
    memset(big, 'y', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    size_t n = capture(LOG_LVL_INFO, LOG_LVL_ERR, big, buf, sizeof(buf));
    int prefix = snprintf(want, sizeof(want), "logtest[%ld]: error: ", (long) getpid());
    assert_int_equal(n, (size_t) prefix + 2047 + 1);
    assert_memory_equal(buf, want, (size_t) prefix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(log_level_names_round_trip),
        cmocka_unit_test(log_filters_below_level_and_writes_whole_lines),
        cmocka_unit_test(log_line_has_the_writers_pid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
