/*
 * test_postern_logscan.c - the block search of "postern why": every line
 * holding a needle is found exactly once, across block boundaries, with
 * and without case folding; no needles means every line; a torn last
 * line counts; an over-long line is skipped without losing the next.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "logscan.h"

typedef struct seen {
    size_t lines, bytes;
    unsigned long sum;          /* of the numbers the lines carry */
} seen_t;

static int count(void *arg, const char *line, size_t len)
{
    seen_t *s = arg;
    char num[24];

    assert_null(memchr(line, '\n', len));
    s->lines++;
    s->bytes += len;
    if (len > 5 && memcmp(line, "{\"n\":", 5) == 0) {
        size_t k = 0;
        while (k + 1 < sizeof(num) && 5 + k < len && line[5 + k] != ',')
            num[k] = line[5 + k], k++;
        num[k] = '\0';
        s->sum += strtoul(num, NULL, 10);
    }
    return 0;
}

/* N lines, line i naming "Alice@Example.NET" when i % 1000 == 7 and
 * "q-<i>" always: long enough to cross several 4 MB blocks. */
static char *write_log(size_t n, const char *tail)
{
    static char path[] = "/tmp/postern-logscan-XXXXXX";
    char *p = strdup(path);
    int fd = mkstemp(p);
    FILE *f = fdopen(fd, "w");

    assert_non_null(f);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "{\"n\":%zu,\"qid\":\"q-%zu\",\"from\":\"%s\",\"pad\":\"%0*d\"}\n", i, i,
                i % 1000 == 7 ? "Alice@Example.NET" : "bob@example.org", (int) (i % 300), 0);
    fputs(tail, f);
    fclose(f);
    return p;
}

static void needles_find_each_line_once_across_blocks(void **state)
{
    char *path = write_log(60000, "");
    const char *one[] = { "\"q-59999\"" };
    const char *two[] = { "\"q-12\"", "\"q-40001\"" };
    const char *folded[] = { "alice@example.net" };
    seen_t s = { 0 };
    char err[128];

    (void) state;
    assert_int_equal(logscan_file(path, one, 1, false, count, &s, err, sizeof(err)), 0);
    assert_int_equal(s.lines, 1);
    assert_int_equal(s.sum, 59999);
    memset(&s, 0, sizeof(s));
    assert_int_equal(logscan_file(path, two, 2, false, count, &s, err, sizeof(err)), 0);
    assert_int_equal(s.lines, 2);
    assert_int_equal(s.sum, 12 + 40001);
    memset(&s, 0, sizeof(s));
    assert_int_equal(logscan_file(path, folded, 1, false, count, &s, err, sizeof(err)), 0);
    assert_int_equal(s.lines, 0);                       /* case matters without NOCASE */
    assert_int_equal(logscan_file(path, folded, 1, true, count, &s, err, sizeof(err)), 0);
    assert_int_equal(s.lines, 60);                      /* i % 1000 == 7 */
    unsigned long want = 0;
    for (size_t i = 7; i < 60000; i += 1000)
        want += i;
    assert_int_equal(s.sum, want);
    memset(&s, 0, sizeof(s));
    assert_int_equal(logscan_file(path, NULL, 0, false, count, &s, err, sizeof(err)), 0);
    assert_int_equal(s.lines, 60000);
    assert_int_equal(s.sum, 59999UL * 60000 / 2);
    unlink(path);
    free(path);
}

static void torn_last_line_and_overlong_line(void **state)
{
    size_t big = LOGSCAN_MAX_LINE + 100;
    char *tail = malloc(big + 64);
    const char *needle[] = { "q-" };
    seen_t s = { 0 };
    char err[128];

    (void) state;
    memset(tail, 'x', big);
    strcpy(tail + big, "q-huge\n{\"n\":5,\"qid\":\"q-torn\"");
    char *path = write_log(3, tail);
    assert_int_equal(logscan_file(path, needle, 1, false, count, &s, err, sizeof(err)), 0);
    assert_int_equal(s.lines, 4);                       /* 3 + the torn one, not the huge */
    assert_int_equal(s.sum, 0 + 1 + 2 + 5);
    assert_int_equal(logscan_file("/nonexistent/x", needle, 1, false, count, &s, err,
                                  sizeof(err)), -1);
    assert_non_null(strstr(err, "No such file"));
    unlink(path);
    free(path);
    free(tail);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(needles_find_each_line_once_across_blocks),
        cmocka_unit_test(torn_last_line_and_overlong_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
