/*
 * test_audit.c - the audit log: record format, the hash chain, what the
 * verifier calls tampering and what it calls a torn record, rotation,
 * and many processes and threads writing one file at once.
 */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "audit.h"

static char dir[] = "/tmp/postern-test-audit.XXXXXX";

static int setup(void **state)
{
    (void) state;
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    char cmd[128];

    (void) state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *path_of(const char *name)
{
    static char buf[256];

    snprintf(buf, sizeof(buf), "%s/%s", dir, name);
    return buf;
}

static void write_n(const char *path, int n)
{
    char err[256];
    audit_t *a = audit_open(path, "test", err, sizeof(err));
    const char *rcpt[] = { "a@example.org", "b@example.org" };

    assert_non_null(a);
    for (int i = 0; i < n; i++) {
        char qid[16];
        snprintf(qid, sizeof(qid), "Q%05d", i);
        audit_record_t r = { .qid = qid, .client_ip = "192.0.2.1", .helo = "mx.example.net",
                             .from = "s@example.net", .rcpt = rcpt, .nrcpt = 2,
                             .step = "eom", .result = "pass", .reason = "ok",
                             .action = "accept", .ms = 1.5 };
        if (audit_write(a, &r, err, sizeof(err)) != 0)
            fail_msg("write: %s", err);
    }
    audit_close(a);
}

static int verify(const char *path, audit_verify_result_t *res)
{
    char err[256];

    return audit_verify_file(path, res, err, sizeof(err));
}

/* Reads the whole file; lines are split in place. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    char *buf = calloc(1, 1 << 22);

    assert_non_null(f);
    *len = fread(buf, 1, (1 << 22) - 1, f);
    fclose(f);
    return buf;
}

static void spit(const char *path, const char *buf, size_t len)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    fclose(f);
}

static void record_has_fields_in_fixed_order(void **state)
{
    const char *rcpt[] = { "x@example.org" };
    json_t *extra = json_pack("{s:s}", "selector", "s1");
    audit_record_t r = { .qid = "3F2A11C0", .conn = "c1", .client_ip = "192.0.2.7",
                         .helo = "h", .from = "f@example.net", .rcpt = rcpt, .nrcpt = 1,
                         .step = "verify", .result = "fail", .reason = "body hash mismatch",
                         .action = "reject", .ms = 1.23456, .extra = extra };
    char *text = audit_format(&r, "dkim", "0123");
    static const char *const order[] = { "\"ts\"", "\"host\"", "\"component\":\"dkim\"",
        "\"pid\"", "\"qid\":\"3F2A11C0\"", "\"conn\"", "\"client_ip\"", "\"helo\"",
        "\"from\"", "\"rcpt\":[\"x@example.org\"]", "\"step\"", "\"result\":\"fail\"",
        "\"reason\"", "\"action\":\"reject\"", "\"ms\":1.235", "\"extra\":{\"selector\":\"s1\"}",
        "\"prev\":\"0123\"" };
    const char *at = text;

    (void) state;
    assert_non_null(text);
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        const char *p = strstr(at, order[i]);
        if (p == NULL)
            fail_msg("%s missing or out of order in %s", order[i], text);
        at = p;
    }
    free(text);
    json_decref(extra);
}

static void absent_fields_are_null(void **state)
{
    audit_record_t r = { .step = "connect" };
    char *text = audit_format(&r, "spf", "00");

    (void) state;
    assert_non_null(strstr(text, "\"qid\":null"));
    assert_non_null(strstr(text, "\"from\":null"));
    assert_non_null(strstr(text, "\"rcpt\":[]"));
    free(text);
}

static void hostile_strings_stay_one_valid_json_line(void **state)
{
    audit_record_t r = { .helo = "evil\r\n{\"forged\":1}\"\\",
                         .from = "bad\xff\xfe utf8 \xc3\x28 \xed\xa0\x80 end",
                         .reason = "\x01\x02\x1b[31m" };
    char *text = audit_format(&r, "spf", "00");
    json_error_t e;
    json_t *o;

    (void) state;
    assert_null(strchr(text, '\n'));
    assert_null(strchr(text, '\r'));
    o = json_loads(text, 0, &e);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "helo")),
                        "evil\r\n{\"forged\":1}\"\\");
    /* Invalid bytes are replaced, the valid text around them kept. */
    const char *from = json_string_value(json_object_get(o, "from"));
    assert_non_null(strstr(from, "bad\xef\xbf\xbd"));
    assert_non_null(strstr(from, " end"));
    json_decref(o);
    free(text);
}

static void huge_fields_are_cut_not_dropped(void **state)
{
    char *big = malloc(200000);
    char err[256];
    audit_verify_result_t res;

    (void) state;
    memset(big, 'x', 199999);
    big[199999] = '\0';
    audit_t *a = audit_open(path_of("big.jsonl"), "t", err, sizeof(err));
    audit_record_t r = { .reason = big, .helo = big, .from = big };
    assert_int_equal(audit_write(a, &r, err, sizeof(err)), 0);
    assert_int_equal(audit_write(a, &r, err, sizeof(err)), 0);
    audit_close(a);
    assert_int_equal(verify(path_of("big.jsonl"), &res), 0);
    assert_int_equal(res.records, 2);
    free(big);
}

static void chain_of_many_records_verifies(void **state)
{
    audit_verify_result_t res;

    (void) state;
    write_n(path_of("chain.jsonl"), 300);
    assert_int_equal(verify(path_of("chain.jsonl"), &res), 0);
    assert_int_equal(res.records, 300);
    assert_int_equal(res.torn, 0);
    /* A second writer continues the same chain. */
    write_n(path_of("chain.jsonl"), 5);
    assert_int_equal(verify(path_of("chain.jsonl"), &res), 0);
    assert_int_equal(res.records, 305);
}

/* Start offsets of lines, for the tampering cases. */
static size_t line_starts(const char *buf, size_t len, size_t *starts, size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < len && n < max; i++)
        if (i == 0 || buf[i - 1] == '\n')
            starts[n++] = i;
    return n;
}

static void changed_byte_is_found_at_its_line(void **state)
{
    audit_verify_result_t res;
    size_t len, starts[16];
    char *buf;

    (void) state;
    write_n(path_of("t1.jsonl"), 10);
    buf = slurp(path_of("t1.jsonl"), &len);
    line_starts(buf, len, starts, 16);
    char *p = strstr(buf + starts[4], "\"pass\"");     /* line 5 */
    memcpy(p, "\"fail\"", 6);
    spit(path_of("t1.jsonl"), buf, len);
    assert_int_equal(verify(path_of("t1.jsonl"), &res), 1);
    /* Line 5 itself still parses; line 6 no longer chains to it. */
    assert_int_equal(res.first_bad_line, 6);
    assert_non_null(strstr(res.why, "line 5"));
    free(buf);
}

static void removed_line_breaks_the_chain(void **state)
{
    audit_verify_result_t res;
    size_t len, starts[16];
    char *buf;

    (void) state;
    write_n(path_of("t2.jsonl"), 10);
    buf = slurp(path_of("t2.jsonl"), &len);
    line_starts(buf, len, starts, 16);
    memmove(buf + starts[3], buf + starts[4], len - starts[4]);
    spit(path_of("t2.jsonl"), buf, len - (starts[4] - starts[3]));
    assert_int_equal(verify(path_of("t2.jsonl"), &res), 1);
    assert_int_equal(res.first_bad_line, 4);
    free(buf);
}

static void swapped_lines_break_the_chain(void **state)
{
    audit_verify_result_t res;
    size_t len, starts[16];
    char *buf, *out;

    (void) state;
    write_n(path_of("t3.jsonl"), 10);
    buf = slurp(path_of("t3.jsonl"), &len);
    line_starts(buf, len, starts, 16);
    out = malloc(len);
    size_t l2 = starts[2] - starts[1], l3 = starts[3] - starts[2];
    memcpy(out, buf, starts[1]);
    memcpy(out + starts[1], buf + starts[2], l3);
    memcpy(out + starts[1] + l3, buf + starts[1], l2);
    memcpy(out + starts[3], buf + starts[3], len - starts[3]);
    spit(path_of("t3.jsonl"), out, len);
    assert_int_equal(verify(path_of("t3.jsonl"), &res), 1);
    assert_int_equal(res.first_bad_line, 2);
    free(out);
    free(buf);
}

static void a_file_missing_its_head_shows_it_continues_something(void **state)
{
    audit_verify_result_t res;
    size_t len, starts[16];
    char *buf;

    (void) state;
    write_n(path_of("t4.jsonl"), 4);
    assert_int_equal(verify(path_of("t4.jsonl"), &res), 0);
    assert_true(audit_hash_is_zero(res.first_prev));
    buf = slurp(path_of("t4.jsonl"), &len);
    line_starts(buf, len, starts, 16);
    spit(path_of("t4.jsonl"), buf + starts[1], len - starts[1]);
    /* Alone it reads as a rotated file's successor; the link to the file
     * before it (checked by "postern audit verify OLD NEW") cannot hold. */
    assert_int_equal(verify(path_of("t4.jsonl"), &res), 0);
    assert_false(audit_hash_is_zero(res.first_prev));
    assert_int_equal(res.records, 3);
    free(buf);
}

static void torn_record_is_a_warning_and_the_chain_goes_on(void **state)
{
    audit_verify_result_t res;
    size_t len;
    char *buf;

    (void) state;
    write_n(path_of("torn.jsonl"), 5);
    buf = slurp(path_of("torn.jsonl"), &len);
    /* A crash during write(2): half of a sixth record, no newline. */
    spit(path_of("torn.jsonl"), buf, len);
    int fd = open(path_of("torn.jsonl"), O_WRONLY | O_APPEND);
    assert_int_equal(write(fd, "{\"ts\":\"2026-11-25T00:00:00Z\",\"host\":\"h", 38), 38);
    close(fd);
    assert_int_equal(verify(path_of("torn.jsonl"), &res), 0);
    assert_int_equal(res.torn, 1);
    write_n(path_of("torn.jsonl"), 3);
    assert_int_equal(verify(path_of("torn.jsonl"), &res), 0);
    assert_int_equal(res.records, 8);
    assert_int_equal(res.torn, 1);
    assert_int_equal(res.first_torn_line, 6);
    free(buf);
}

static void rotation_continues_the_chain_in_the_new_file(void **state)
{
    char err[256], rotated[300], old_last[AUDIT_HASH_HEX + 1];
    audit_verify_result_t res;
    audit_t *a = audit_open(path_of("rot.jsonl"), "t", err, sizeof(err));
    audit_t *b = audit_open(path_of("rot.jsonl"), "u", err, sizeof(err));
    audit_record_t r = { .step = "x" };

    (void) state;
    for (int i = 0; i < 3; i++)
        assert_int_equal(audit_write(a, &r, err, sizeof(err)), 0);
    assert_int_equal(audit_write(b, &r, err, sizeof(err)), 0);
    snprintf(rotated, sizeof(rotated), "%s.1", path_of("rot.jsonl"));
    assert_int_equal(rename(path_of("rot.jsonl"), rotated), 0);
    /* Two writers that both still hold the old file: one starts the new
     * file from the old one's last record, the other chains after it. */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(audit_write(a, &r, err, sizeof(err)), 0);
        assert_int_equal(audit_write(b, &r, err, sizeof(err)), 0);
    }
    audit_close(a);
    audit_close(b);
    assert_int_equal(verify(rotated, &res), 0);
    assert_int_equal(res.records, 4);
    memcpy(old_last, res.last_hash, sizeof(old_last));
    assert_int_equal(verify(path_of("rot.jsonl"), &res), 0);
    assert_int_equal(res.records, 4);
    assert_string_equal(res.first_prev, old_last);
}

static void disabled_log_accepts_writes(void **state)
{
    char err[64];
    audit_t *a = audit_open("", "t", err, sizeof(err));
    audit_record_t r = { .step = "x" };

    (void) state;
    assert_non_null(a);
    assert_int_equal(audit_write(a, &r, err, sizeof(err)), 0);
    audit_close(a);
}

static void unwritable_path_is_an_error(void **state)
{
    char err[256] = "";

    (void) state;
    assert_null(audit_open("/nonexistent/dir/audit.jsonl", "t", err, sizeof(err)));
    assert_non_null(strstr(err, "/nonexistent/dir/audit.jsonl"));
}

/* ---- many writers ---- */

#define HAMMER_PROCS 4
#define HAMMER_THREADS 8
#define HAMMER_RECORDS 500

struct hammer_arg {
    audit_t *a;
    int proc, thread, failures;
};

static void *hammer_thread(void *p)
{
    struct hammer_arg *h = p;
    char err[256], qid[32];

    for (int i = 0; i < HAMMER_RECORDS; i++) {
        snprintf(qid, sizeof(qid), "P%dT%dN%d", h->proc, h->thread, i);
        audit_record_t r = { .qid = qid, .step = "hammer", .result = "pass",
                             .action = "accept", .ms = i };
        if (audit_write(h->a, &r, err, sizeof(err)) != 0)
            h->failures++;
    }
    return NULL;
}

static int hammer_process(const char *path, int proc)
{
    char err[256];
    audit_t *a = audit_open(path, "hammer", err, sizeof(err));
    pthread_t t[HAMMER_THREADS];
    struct hammer_arg args[HAMMER_THREADS];
    int failures = 0;

    if (a == NULL)
        return 1;
    for (int i = 0; i < HAMMER_THREADS; i++) {
        args[i] = (struct hammer_arg) { a, proc, i, 0 };
        pthread_create(&t[i], NULL, hammer_thread, &args[i]);
    }
    for (int i = 0; i < HAMMER_THREADS; i++) {
        pthread_join(t[i], NULL);
        failures += args[i].failures;
    }
    audit_close(a);
    return failures ? 1 : 0;
}

static void concurrent_processes_and_threads_keep_one_chain(void **state)
{
    const char *path = path_of("hammer.jsonl");
    audit_verify_result_t res;
    struct timespec t0, t1;
    pid_t pids[HAMMER_PROCS];

    (void) state;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int p = 0; p < HAMMER_PROCS; p++) {
        pids[p] = fork();
        assert_true(pids[p] >= 0);
        if (pids[p] == 0)
            _exit(hammer_process(path, p));
    }
    for (int p = 0; p < HAMMER_PROCS; p++) {
        int status;
        assert_int_equal(waitpid(pids[p], &status, 0), pids[p]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_int_equal(verify(path, &res), 0);
    assert_int_equal(res.records, HAMMER_PROCS * HAMMER_THREADS * HAMMER_RECORDS);
    assert_int_equal(res.torn, 0);
    printf("hammer: %d processes x %d threads x %d records in %.2f s (%.0f records/s)\n",
           HAMMER_PROCS, HAMMER_THREADS, HAMMER_RECORDS, secs,
           HAMMER_PROCS * HAMMER_THREADS * HAMMER_RECORDS / secs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(record_has_fields_in_fixed_order),
        cmocka_unit_test(absent_fields_are_null),
        cmocka_unit_test(hostile_strings_stay_one_valid_json_line),
        cmocka_unit_test(huge_fields_are_cut_not_dropped),
        cmocka_unit_test(chain_of_many_records_verifies),
        cmocka_unit_test(changed_byte_is_found_at_its_line),
        cmocka_unit_test(removed_line_breaks_the_chain),
        cmocka_unit_test(swapped_lines_break_the_chain),
        cmocka_unit_test(a_file_missing_its_head_shows_it_continues_something),
        cmocka_unit_test(torn_record_is_a_warning_and_the_chain_goes_on),
        cmocka_unit_test(rotation_continues_the_chain_in_the_new_file),
        cmocka_unit_test(disabled_log_accepts_writes),
        cmocka_unit_test(unwritable_path_is_an_error),
        cmocka_unit_test(concurrent_processes_and_threads_keep_one_chain),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
