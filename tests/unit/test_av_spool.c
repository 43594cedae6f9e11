/*
 * test_av_spool.c - the message spool: memory below the threshold, a
 * private unnamed file above it, the hard limit, reads back.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "avspool.h"

static void small_message_stays_in_memory(void **s)
{
    char err[128], buf[16];
    size_t len = 0;
    avspool_t *sp = avspool_new(64, 1024, "/tmp", err, sizeof(err));

    (void) s;
    assert_non_null(sp);
    assert_int_equal(avspool_append(sp, "Subject: x\r\n", 12, err, sizeof(err)), 0);
    assert_int_equal(avspool_append(sp, "", 0, err, sizeof(err)), 0);
    assert_int_equal(avspool_fd(sp), -1);
    assert_memory_equal(avspool_mem(sp, &len), "Subject: x\r\n", 12);
    assert_int_equal(len, 12);
    assert_int_equal(avspool_read(sp, 9, buf, sizeof(buf)), 3);
    assert_memory_equal(buf, "x\r\n", 3);
    assert_int_equal(avspool_read(sp, 12, buf, sizeof(buf)), 0);
    avspool_free(sp);
}

static void large_message_spills_to_a_private_unnamed_file(void **s)
{
    char err[128], chunk[100], back[1000];
    size_t len;
    struct stat st;
    avspool_t *sp = avspool_new(250, 10000, "/tmp", err, sizeof(err));

    (void) s;
    assert_non_null(sp);
    for (int i = 0; i < 10; i++) {
        memset(chunk, 'a' + i, sizeof(chunk));
        assert_int_equal(avspool_append(sp, chunk, sizeof(chunk), err, sizeof(err)), 0);
    }
    assert_null(avspool_mem(sp, &len));
    assert_true(avspool_fd(sp) >= 0);
    assert_int_equal(fstat(avspool_fd(sp), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_nlink, 0);           /* no name anywhere */
    assert_int_equal(st.st_size, 1000);
    assert_int_equal(avspool_size(sp), 1000);
    assert_int_equal(avspool_read(sp, 0, back, sizeof(back)), 1000);
    for (int i = 0; i < 10; i++)
        assert_int_equal(back[i * 100 + 50], 'a' + i);  /* memory part kept in order */
    avspool_reset(sp);
    assert_int_equal(avspool_fd(sp), -1);
    assert_int_equal(avspool_size(sp), 0);
    avspool_free(sp);
}

static void hard_limit_stops_storing_but_counts(void **s)
{
    char err[128], chunk[400];
    avspool_t *sp = avspool_new(100, 1000, "/tmp", err, sizeof(err));

    (void) s;
    memset(chunk, 'x', sizeof(chunk));
    assert_int_equal(avspool_append(sp, chunk, 400, err, sizeof(err)), 0);
    assert_int_equal(avspool_append(sp, chunk, 400, err, sizeof(err)), 0);
    assert_false(avspool_over(sp));
    assert_int_equal(avspool_append(sp, chunk, 400, err, sizeof(err)), 1);
    assert_true(avspool_over(sp));
    assert_int_equal(avspool_append(sp, chunk, 1, err, sizeof(err)), 1);  /* stays over */
    assert_int_equal(avspool_size(sp), 800);
    assert_int_equal(avspool_total(sp), 1201);
    avspool_free(sp);
}

static void bad_directory_is_an_error_not_a_crash(void **s)
{
    char err[128] = "";
    avspool_t *sp;

    (void) s;
    assert_null(avspool_new(10, 100, "relative", err, sizeof(err)));
    assert_true(strlen(err) > 0);
    sp = avspool_new(10, 100, "/nonexistent/postern-av", err, sizeof(err));
    assert_non_null(sp);
    assert_int_equal(avspool_append(sp, "12345", 5, err, sizeof(err)), 0);
    err[0] = '\0';
    assert_int_equal(avspool_append(sp, "1234567890", 10, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/postern-av"));
    assert_true(avspool_failed(sp));
    assert_int_equal(avspool_append(sp, "1", 1, err, sizeof(err)), -1);
    avspool_reset(sp);
    assert_false(avspool_failed(sp));
    avspool_free(sp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(small_message_stays_in_memory),
        cmocka_unit_test(large_message_spills_to_a_private_unnamed_file),
        cmocka_unit_test(hard_limit_stops_storing_but_counts),
        cmocka_unit_test(bad_directory_is_an_error_not_a_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
