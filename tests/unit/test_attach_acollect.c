/*
 * test_attach_acollect.c - message collection: memory below the spill
 * size, an unlinked file above it with the same bytes, nothing kept
 * past the maximum, reset between messages; and the report texts built
 * from a decision (areport).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "acollect.h"
#include "areport.h"

static size_t files_in(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    while ((e = readdir(d)) != NULL)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void small_messages_stay_in_memory(void **state)
{
    acollect_t *c = acollect_new(1024, 4096, "/tmp");
    const void *data;
    size_t len;
    char err[128];

    (void) state;
    assert_int_equal(acollect_header(c, "Subject", "hi", err, sizeof(err)), 0);
    assert_int_equal(acollect_add(c, "\r\nbody", 6, err, sizeof(err)), 0);
    assert_false(acollect_spilled(c));
    assert_int_equal(acollect_map(c, &data, &len, err, sizeof(err)), 0);
    assert_int_equal(len, 19);
    assert_memory_equal(data, "Subject: hi\r\n\r\nbody", 19);
    acollect_reset(c);
    assert_int_equal(acollect_size(c), 0);
    acollect_free(c);
}

static void large_messages_spill_to_an_unlinked_file(void **state)
{
    char dir[] = "/tmp/attach-collect-XXXXXX";
    char chunk[1000], err[128];
    const void *data;
    size_t len;

    (void) state;
    assert_non_null(mkdtemp(dir));
    acollect_t *c = acollect_new(2500, 1 << 20, dir);
    for (int i = 0; i < 10; i++) {
        memset(chunk, 'a' + i, sizeof(chunk));
        assert_int_equal(acollect_add(c, chunk, sizeof(chunk), err, sizeof(err)), 0);
    }
    assert_true(acollect_spilled(c));
    assert_int_equal(files_in(dir), 0);        /* unlinked at once */
    assert_int_equal(acollect_map(c, &data, &len, err, sizeof(err)), 0);
    assert_int_equal(len, 10000);
    assert_int_equal(((const char *) data)[0], 'a');
    assert_int_equal(((const char *) data)[9999], 'j');
    acollect_free(c);
    rmdir(dir);
}

static void nothing_is_kept_past_the_maximum(void **state)
{
    acollect_t *c = acollect_new(100, 300, "/tmp");
    char chunk[250], err[128];
    const void *data;
    size_t len;

    (void) state;
    memset(chunk, 'x', sizeof(chunk));
    for (int i = 0; i < 4; i++)
        assert_int_equal(acollect_add(c, chunk, sizeof(chunk), err, sizeof(err)), 0);
    assert_true(acollect_over(c));
    assert_int_equal(acollect_size(c), 1000);
    assert_int_equal(acollect_map(c, &data, &len, err, sizeof(err)), 0);
    assert_int_equal(len, 300);
    acollect_free(c);
}

static void a_bad_tmp_dir_is_an_error(void **state)
{
    acollect_t *c = acollect_new(10, 1000, "/nonexistent/dir");
    char chunk[50] = { 0 }, err[128] = "";

    (void) state;
    assert_int_equal(acollect_add(c, chunk, sizeof(chunk), err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/dir"));
    acollect_free(c);
}

static void reports_name_the_file_rule_and_reason(void **state)
{
    awalk_item_t items[2];
    arule_hit_t hit = { 1, 0, ARULE_REJECT, "extension .exe" };
    arule_verdict_t v = { ARULE_REJECT, 0, &hit, 1 };
    adecision_t d = { MACT_REJECT, false, "rule" };
    char buf[512];

    (void) state;
    memset(items, 0, sizeof(items));
    snprintf(items[1].path, sizeof(items[1].path), "2");
    snprintf(items[1].name, sizeof(items[1].name), "invoice.pdf.exe");
    snprintf(items[1].declared, sizeof(items[1].declared), "application/pdf");
    snprintf(items[1].true_type, sizeof(items[1].true_type), "application/x-dosexec");
    areport_t rp = { items, 2, 0, "", NULL, &v, &d, 1234, false, false };
    areport_reply(&rp, buf, sizeof(buf));
    assert_string_equal(buf, "Attachment \"invoice.pdf.exe\" refused: extension .exe");
    areport_notice(&rp, &hit, "Removed {name}: {reason}. {other}", buf, sizeof(buf));
    assert_string_equal(buf, "Removed invoice.pdf.exe: extension .exe. {other}");

    /* An archive entry: the reply names the archive and the entry. */
    items[1].entry = true;
    items[1].part = 0;
    snprintf(items[0].name, sizeof(items[0].name), "files.zip");
    areport_reply(&rp, buf, sizeof(buf));
    assert_string_equal(buf, "Attachment \"files.zip\" refused: it holds \"invoice.pdf.exe\": "
                             "extension .exe");

    adecision_t lim = { MACT_REJECT, false, "limit" };
    rp.decision = &lim;
    areport_reply(&rp, buf, sizeof(buf));
    assert_string_equal(buf, "Message refused: message too complex to examine completely");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(small_messages_stay_in_memory),
        cmocka_unit_test(large_messages_spill_to_an_unlinked_file),
        cmocka_unit_test(nothing_is_kept_past_the_maximum),
        cmocka_unit_test(a_bad_tmp_dir_is_an_error),
        cmocka_unit_test(reports_name_the_file_rule_and_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
