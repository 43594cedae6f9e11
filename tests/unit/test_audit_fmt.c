/*
 * test_audit_fmt.c - the audit record's bytes are exactly what jansson's
 * json_dumps() makes of the same record built as an object, the way the
 * audit module made records before it formatted them itself: the hash
 * chain covers these bytes, so not one may change. Also the cut at 2048
 * bytes and the U+FFFD replacement of bad UTF-8, and the pid after fork.
 */
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "audit.h"

#define FIELD_MAX 2048
#define RCPT_MAX 50
#define TS_AT 7                 /* after {"ts":" */
#define TS_LEN 27

/* ---- the reference: the record as a jansson object ---- */

/* Fields in these tests are valid UTF-8, so the only change the format
 * makes to them is the cut, which for ASCII is a prefix. */
static json_t *ref_str(const char *s)
{
    if (s == NULL)
        return json_null();
    return json_stringn(s, strnlen(s, FIELD_MAX));
}

static json_t *ref_object(const audit_record_t *r, const char *component, const char *ts)
{
    char host[256] = "";
    json_t *o = json_object(), *rcpt = json_array();

    gethostname(host, sizeof(host) - 1);
    json_object_set_new(o, "ts", json_stringn(ts, TS_LEN));
    json_object_set_new(o, "host", ref_str(host));
    json_object_set_new(o, "component", ref_str(r->component ? r->component : component));
    json_object_set_new(o, "pid", json_integer(getpid()));
    json_object_set_new(o, "qid", ref_str(r->qid));
    json_object_set_new(o, "conn", ref_str(r->conn));
    json_object_set_new(o, "client_ip", ref_str(r->client_ip));
    json_object_set_new(o, "helo", ref_str(r->helo));
    json_object_set_new(o, "from", ref_str(r->from));
    for (size_t i = 0; i < r->nrcpt && i < RCPT_MAX; i++)
        json_array_append_new(rcpt, ref_str(r->rcpt[i]));
    json_object_set_new(o, "rcpt", rcpt);
    if (r->nrcpt > RCPT_MAX)
        json_object_set_new(o, "rcpt_more", json_integer((json_int_t) (r->nrcpt - RCPT_MAX)));
    if (r->msgid != NULL)
        json_object_set_new(o, "msgid", ref_str(r->msgid));
    json_object_set_new(o, "step", ref_str(r->step));
    json_object_set_new(o, "result", ref_str(r->result));
    json_object_set_new(o, "reason", ref_str(r->reason));
    json_object_set_new(o, "action", ref_str(r->action));
    /* json_real() refuses NaN and infinities: no "ms" then. */
    json_object_set_new(o, "ms", json_real(round(r->ms * 1000.0) / 1000.0));
    if (r->extra != NULL && json_is_object(r->extra))
        json_object_set(o, "extra", r->extra);
    return o;
}

static char *ref_dump(json_t *o, const char *prev)
{
    json_object_set_new(o, "prev", json_string(prev));
    return json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
}

/* What the record was before: dumped, and when too long dumped again
 * with extra replaced (or added, after prev, when there was none). */
static char *reference(const audit_record_t *r, const char *component, const char *prev,
                       const char *ts)
{
    json_t *o = ref_object(r, component, ts);
    char *text = ref_dump(o, prev);

    if (text != NULL && strlen(text) > AUDIT_MAX_RECORD - 256) {
        free(text);
        json_object_set_new(o, "extra", json_pack("{s:b}", "dropped_too_large", 1));
        text = ref_dump(o, prev);
    }
    json_decref(o);
    return text;
}

/* The record from audit_format must equal the reference byte for byte
 * (its own time stamp given to the reference). */
static void assert_same_bytes(const audit_record_t *r, const char *component, const char *prev)
{
    char *text = audit_format(r, component, prev), *ref;

    assert_non_null(text);
    assert_true(strncmp(text, "{\"ts\":\"", TS_AT) == 0);
    assert_true(strlen(text) > TS_AT + TS_LEN);
    ref = reference(r, component, prev, text + TS_AT);
    assert_non_null(ref);
    if (strcmp(text, ref) != 0) {
        size_t i = 0;
        while (text[i] == ref[i])
            i++;
        fail_msg("differs at byte %zu:\n  ours: %.120s\n  json: %.120s", i, text + i, ref + i);
    }
    free(ref);
    free(text);
}

/* The too-long cases are the ones meant: extra was dropped, and its
 * marker sits after prev (AFTER) or in extra's place. */
static void assert_marker_after_prev(const audit_record_t *r, int after)
{
    char *text = audit_format(r, "spf", "00");
    const char *mark = strstr(text, "\"extra\":{\"dropped_too_large\":true}");
    const char *prev = strstr(text, "\"prev\":\"00\"");

    assert_non_null(mark);
    assert_non_null(prev);
    assert_int_equal(mark > prev, after);
    free(text);
}

/* ---- cases ---- */

static const char prev64[] = "9f2c5e01a7b3d4c6e8f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e01a";

static void full_record_matches_jansson(void **state)
{
    const char *rcpt[] = { "bob@example.org", "carol@example.org" };
    json_t *extra = json_pack("{s:s,s:i,s:b,s:n,s:f,s:[i,f,s,{}],s:{s:{s:[]}}}",
                              "d", "example.net", "bits", 2048, "monitor", 0, "rule",
                              "scan_ms", 4.2, "list", -7, 0.1, "x", "nest", "a", "b");
    audit_record_t r = { .qid = "3F2A11C0", .conn = "4711.17", .client_ip = "192.0.2.7",
                         .helo = "mail.example.net", .from = "alice@example.net",
                         .rcpt = rcpt, .nrcpt = 2, .msgid = "<a.b@example.net>",
                         .step = "verify", .result = "fail", .reason = "body hash mismatch",
                         .action = "reject", .ms = 1.23456, .extra = extra };

    (void) state;
    assert_same_bytes(&r, "dkim", prev64);
    r.component = "dmarc";
    assert_same_bytes(&r, "dkim", prev64);
    json_decref(extra);
}

static void absent_fields_match_jansson(void **state)
{
    audit_record_t r = { .step = "connect" };
    json_t *array = json_pack("[i]", 1);

    (void) state;
    assert_same_bytes(&r, "spf", "00");
    assert_same_bytes(&r, NULL, prev64);
    r.extra = array;            /* not an object: left out */
    assert_same_bytes(&r, "spf", prev64);
    json_decref(array);
}

static void escapes_match_jansson(void **state)
{
    static const char *const s[] = {
        "quote\" backslash\\ slash/ tab\t nl\n cr\r bs\b ff\f",
        "\x01\x02\x03\x1b\x1f\x7f end",
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe2\x80\xa8 \xef\xbb\xbf",
        "", "{\"forged\":1}",
    };
    json_t *extra = json_object();
    audit_record_t r = { .step = "x" };

    (void) state;
    json_object_set_new(extra, "nul", json_stringn("a\0b", 3));
    json_object_set_new(extra, "key \"with\"\n\\escapes\x01", json_string("v"));
    json_object_set_new(extra, "caf\xc3\xa9", json_string("\xf0\x9f\x98\x80"));
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
        json_object_set_new(extra, "s", json_string(s[i]));
        r.helo = r.from = r.reason = s[i];
        r.rcpt = &s[i];
        r.nrcpt = 1;
        r.extra = extra;
        assert_same_bytes(&r, "spf", prev64);
    }
    json_decref(extra);
}

static void numbers_match_jansson(void **state)
{
    static const double ms[] = {
        0, 0.0004, 0.0005, -0.0004, 0.001, 0.01, 0.1, 1, 1.5, 2.4, 1.23456, 10.05,
        123.4567, 999.9995, 999999.999, 1e6, 999999999.999, 1e9, 1e12, 123456789012.345,
        1e15, 1e17, 1e300, 1e308, -1, -3.2, -1e9, 5e-7, NAN, INFINITY, -INFINITY,
    };
    static const json_int_t ints[] = { 0, 1, -1, 42, LLONG_MAX, LLONG_MIN };
    static const double reals[] = { 0.0, -0.0, 4.2, 0.1, 1e-7, 1e300, -2.5e-300,
        123456789012345.0, 1.0 / 3, 1e21, 0.000123456789012345 };
    audit_record_t r = { .step = "x" };
    json_t *extra = json_object();

    (void) state;
    for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
        r.ms = ms[i];
        assert_same_bytes(&r, "spf", prev64);
    }
    /* A spread of ordinary times, where the short cut is taken. */
    for (unsigned i = 0; i < 5000; i++) {
        r.ms = (double) i * 0.0173 + (double) (i % 7) * 12.5;
        assert_same_bytes(&r, "spf", prev64);
    }
    r.extra = extra;
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        json_object_set_new(extra, "i", json_integer(ints[i]));
        assert_same_bytes(&r, "spf", prev64);
    }
    for (size_t i = 0; i < sizeof(reals) / sizeof(reals[0]); i++) {
        json_object_set_new(extra, "f", json_real(reals[i]));
        assert_same_bytes(&r, "spf", prev64);
    }
    json_decref(extra);
}

static void long_fields_and_many_rcpts_match_jansson(void **state)
{
    char *big = malloc(200000), *ctl = malloc(FIELD_MAX + 100);
    const char *rcpt[60];
    audit_record_t r = { .step = "x" };

    (void) state;
    memset(big, 'x', 199999);
    big[199999] = '\0';
    memset(ctl, '\x01', FIELD_MAX + 99);      /* six bytes each once escaped */
    ctl[FIELD_MAX + 99] = '\0';
    for (size_t i = 0; i < 60; i++)
        rcpt[i] = i % 10 == 3 ? NULL : i % 2 ? ctl : "r@example.org";
    r.helo = r.from = r.reason = big;
    r.rcpt = rcpt;
    r.nrcpt = 60;
    /* Over AUDIT_MAX_RECORD without extra: the marker goes after prev. */
    assert_same_bytes(&r, "spf", prev64);
    assert_marker_after_prev(&r, 1);
    r.nrcpt = 3;
    assert_same_bytes(&r, "spf", prev64);
    free(big);
    free(ctl);
}

static void huge_extra_is_replaced_as_before(void **state)
{
    char *big = malloc(100000);
    json_t *extra;
    audit_record_t r = { .qid = "Q1", .step = "x" };

    (void) state;
    memset(big, '\x01', 99999);
    big[99999] = '\0';
    extra = json_pack("{s:s,s:s}", "before", "a", "big", big);
    r.extra = extra;
    assert_same_bytes(&r, "spf", prev64);
    assert_marker_after_prev(&r, 0);
    json_decref(extra);
    free(big);
}

/* ---- what the format does to bad input ---- */

static void bad_utf8_and_the_cut(void **state)
{
    char *s = malloc(FIELD_MAX + 16), *e = malloc(FIELD_MAX + 16);
    static const struct {
        const char *in, *out;
    } cases[] = {
        { "a\xff" "b", "a\xef\xbf\xbd" "b" },
        { "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },                 /* overlong */
        { "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* surrogate */
        { "\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
        { "end \xe2\x82", "end \xef\xbf\xbd\xef\xbf\xbd" },          /* cut short */
        { "\xf0\x9f\x98\x80 ok", "\xf0\x9f\x98\x80 ok" },
    };
    audit_record_t r = { .step = "x" };

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        r.reason = cases[i].in;
        char *text = audit_format(&r, "spf", prev64);
        json_t *o = json_loads(text, 0, NULL);
        assert_non_null(o);
        assert_string_equal(json_string_value(json_object_get(o, "reason")), cases[i].out);
        json_decref(o);
        free(text);
    }
    /* The cut: whole sequences are kept up to 2048 bytes, and the one
     * that starts before the limit is kept whole. */
    memset(s, 'a', FIELD_MAX - 1);
    strcpy(s + FIELD_MAX - 1, "\xc3\xa9" "tail");
    memcpy(e, s, FIELD_MAX + 1);
    e[FIELD_MAX + 1] = '\0';
    r.reason = s;
    char *text = audit_format(&r, "spf", prev64);
    json_t *o = json_loads(text, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(o, "reason")), e);
    json_decref(o);
    free(text);
    free(s);
    free(e);
}

static void child_writes_its_own_pid(void **state)
{
    audit_record_t r = { .step = "x" };
    char *text = audit_format(&r, "spf", prev64);
    int status;
    pid_t pid;

    (void) state;
    free(text);                 /* the parent's pid is now known */
    if ((pid = fork()) == 0) {
        char *t = audit_format(&r, "spf", prev64);
        json_t *o = json_loads(t, 0, NULL);
        long got = o ? (long) json_integer_value(json_object_get(o, "pid")) : -1;
        _exit(got == (long) getpid() ? 0 : 1);
    }
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_record_matches_jansson),
        cmocka_unit_test(absent_fields_match_jansson),
        cmocka_unit_test(escapes_match_jansson),
        cmocka_unit_test(numbers_match_jansson),
        cmocka_unit_test(long_fields_and_many_rcpts_match_jansson),
        cmocka_unit_test(huge_extra_is_replaced_as_before),
        cmocka_unit_test(bad_utf8_and_the_cut),
        cmocka_unit_test(child_writes_its_own_pid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
