/*
 * test_authres.c - Authentication-Results: exact builder output, quoting
 * and folding, header injection refused; the parser on well-formed
 * fields in the styles of RFC 8601 appendix B, on malformed ones and at
 * its limits; round trips; and the authserv-id rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "authres.h"

static void builder_writes_one_result_per_line(void **state)
{
    char buf[512];
    authres_builder_t *b = authres_builder_new("mx.example.org");

    (void) state;
    assert_int_equal(authres_add(b, "spf", "pass", NULL), 0);
    assert_int_equal(authres_add_prop(b, "smtp", "mailfrom", "alice@example.net"), 0);
    assert_int_equal(authres_add(b, "dkim", "fail", "body hash mismatch"), 0);
    assert_int_equal(authres_add_prop(b, "header", "d", "example.net"), 0);
    assert_int_equal(authres_add_prop(b, "header", "s", "s1"), 0);
    assert_true(authres_format(b, buf, sizeof(buf)) > 0);
    assert_string_equal(buf, "mx.example.org;\n"
                             "\tspf=pass smtp.mailfrom=alice@example.net;\n"
                             "\tdkim=fail reason=\"body hash mismatch\" header.d=example.net"
                             " header.s=s1");
    authres_builder_free(b);
}

static void builder_with_no_results_says_none(void **state)
{
    char buf[64];
    authres_builder_t *b = authres_builder_new("mx.example.org");

    (void) state;
    assert_int_equal(authres_format(b, buf, sizeof(buf)), 20);
    assert_string_equal(buf, "mx.example.org; none");
    assert_int_equal(authres_format(b, buf, 10), -1);
    authres_builder_free(b);
}

static void values_that_are_not_tokens_are_quoted(void **state)
{
    char buf[512];
    authres_builder_t *b = authres_builder_new("mx.example.org");

    (void) state;
    authres_add(b, "dkim", "pass", NULL);
    authres_add_prop(b, "header", "b", "ab/cd+ef");
    authres_add_prop(b, "header", "i", "\"quoted\" \\ user@example.net");
    authres_add_prop(b, "header", "from", "a b@example.net");
    authres_format(b, buf, sizeof(buf));
    assert_non_null(strstr(buf, "header.b=\"ab/cd+ef\""));
    assert_non_null(strstr(buf, "header.i=\"\\\"quoted\\\" \\\\ user@example.net\""));
    assert_non_null(strstr(buf, "header.from=\"a b@example.net\""));
    authres_builder_free(b);
}

static void long_results_fold_below_80_columns(void **state)
{
    char buf[4096];
    authres_builder_t *b = authres_builder_new("mx.example.org");

    (void) state;
    authres_add(b, "dkim", "pass", NULL);
    for (int i = 0; i < 10; i++)
        authres_add_prop(b, "header", "d", "a-rather-long-signing-domain.example.net");
    assert_true(authres_format(b, buf, sizeof(buf)) > 0);
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
        assert_true(strlen(line) + 7 < 80);
    authres_builder_free(b);
}

static void control_characters_never_reach_the_header(void **state)
{
    authres_builder_t *b = authres_builder_new("mx.example.org");

    (void) state;
    assert_null(authres_builder_new("mx\r\nX-Evil: 1"));
    assert_null(authres_builder_new(""));
    assert_int_equal(authres_add(b, "spf", "pass", "ok\nX-Injected: yes"), -1);
    assert_int_equal(authres_add(b, "sp f", "pass", NULL), -1);
    assert_int_equal(authres_add(b, "spf", "pa=ss", NULL), -1);
    assert_int_equal(authres_add_prop(b, "smtp", "mailfrom", "x@y"), -1);   /* no result yet */
    assert_int_equal(authres_add(b, "spf", "pass", NULL), 0);
    assert_int_equal(authres_add_prop(b, "smtp", "mailfrom", "a@b\r\nX-Evil: 1"), -1);
    assert_int_equal(authres_add_prop(b, "smtp", "mailfrom", "a\tb"), -1);
    assert_int_equal(authres_add_prop(b, "smtp", "mail.from", "a@b"), -1);
    assert_int_equal(authres_add_prop(b, "smtp", "mailfrom", ""), -1);
    authres_builder_free(b);
}

static authres_t *parse_ok(const char *v)
{
    char err[256] = "";
    authres_t *ar;

    if (authres_parse(v, strlen(v), &ar, err, sizeof(err)) != 0)
        fail_msg("'%s': %s", v, err);
    return ar;
}

static void parser_reads_the_rfc_styles(void **state)
{
    authres_t *ar;
    const authres_result_t *r;

    (void) state;
    ar = parse_ok("example.org 1; none");
    assert_string_equal(ar->authserv_id, "example.org");
    assert_int_equal(ar->version, 1);
    assert_int_equal(ar->nresults, 0);
    authres_free(ar);

    ar = parse_ok("example.com; spf=pass smtp.mailfrom=example.net");
    r = authres_find(ar, "SPF");
    assert_non_null(r);
    assert_string_equal(r->result, "pass");
    assert_string_equal(r->props[0].ptype, "smtp");
    assert_string_equal(r->props[0].property, "mailfrom");
    assert_string_equal(r->props[0].value, "example.net");
    authres_free(ar);

    ar = parse_ok("example.com;\r\n\t  auth=pass (cram-md5) smtp.auth=sender@example.net;\r\n"
                  "\t  spf=pass smtp.mailfrom=example.net;\r\n"
                  "\t  sender-id=pass header.from=example.net");
    assert_int_equal(ar->nresults, 3);
    assert_string_equal(ar->results[0].props[0].value, "sender@example.net");
    assert_string_equal(ar->results[2].method, "sender-id");
    authres_free(ar);

    ar = parse_ok("(comment) \"mail-router.example.net\" (another) 1 ;"
                  " dkim/1 (x) = (y) pass (good signature) reason=\"signature ok; fine\""
                  " header.d=example.com header.b=\"oPlC\\\"2o\" ;"
                  " DKIM=Fail header.i=@newyork.example.com");
    assert_string_equal(ar->authserv_id, "mail-router.example.net");
    assert_int_equal(ar->nresults, 2);
    assert_string_equal(ar->results[0].reason, "signature ok; fine");
    assert_string_equal(ar->results[0].props[1].value, "oPlC\"2o");
    assert_string_equal(ar->results[1].method, "dkim");
    assert_string_equal(ar->results[1].result, "fail");
    assert_string_equal(ar->results[1].props[0].value, "@newyork.example.com");
    authres_free(ar);
}

static const struct {
    const char *value;
    const char *why;
} malformed[] = {
    { "", "expected authserv-id" },
    { "example.com", "no results" },
    { "example.com;", "expected method" },
    { "example.com; spf", "expected '='" },
    { "example.com; spf=", "expected result" },
    { "example.com; spf=pass smtp", "expected '.'" },
    { "example.com; spf=pass smtp.mailfrom", "expected '='" },
    { "example.com; spf=pass smtp.mailfrom=", "expected property value" },
    { "example.com; spf=pass (unterminated", "unterminated comment" },
    { "example.com; spf=pass reason=\"open", "unterminated quoted" },
    { "example.com; none extra", "text after" },
    { "example.com 1x; none", "expected ';'" },
    { "example.com 1234; none", "bad version" },
    { "example.com spf=pass", "expected ';'" },
    { "example.com; dkim/=pass", "bad version" },
    { "example.com; spf=pass ((((((((((deep))))))))))", "nested too deep" },
};

static void malformed_fields_are_refused_with_a_reason(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        char err[256] = "";
        authres_t *ar = (authres_t *) 1;
        int rc = authres_parse(malformed[i].value, strlen(malformed[i].value), &ar, err,
                               sizeof(err));
        if (rc != -1 || ar != NULL || strstr(err, malformed[i].why) == NULL)
            fail_msg("'%s': rc %d, err '%s'", malformed[i].value, rc, err);
    }
}

static void limits_are_errors_not_crashes(void **state)
{
    char *v = malloc(100000), err[256];
    authres_t *ar;
    size_t o;

    (void) state;
    o = (size_t) sprintf(v, "example.com");
    for (int i = 0; i < AUTHRES_MAX_RESULTS + 1; i++)
        o += (size_t) sprintf(v + o, "; spf=pass");
    assert_int_equal(authres_parse(v, o, &ar, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "more than 64 results"));

    o = (size_t) sprintf(v, "example.com; dkim=pass");
    for (int i = 0; i < AUTHRES_MAX_PROPS + 1; i++)
        o += (size_t) sprintf(v + o, " header.d=x");
    assert_int_equal(authres_parse(v, o, &ar, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "more than 32 properties"));

    o = (size_t) sprintf(v, "example.com; dkim=pass header.b=");
    memset(v + o, 'A', 2000);
    o += 2000;
    assert_int_equal(authres_parse(v, o, &ar, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "longer than the limit"));
    /* Explicit length: bytes past it are not read. */
    strcpy(v, "example.com; none; spf=pass");
    assert_int_equal(authres_parse(v, 18, &ar, err, sizeof(err)), -1);
    assert_int_equal(authres_parse(v, 17, &ar, err, sizeof(err)), 0);
    authres_free(ar);
    free(v);
}

static void built_fields_parse_back_to_the_same_data(void **state)
{
    char buf[2048], err[256];
    authres_builder_t *b = authres_builder_new("mx.example.org");
    authres_t *ar;

    (void) state;
    authres_add(b, "dmarc", "pass", "p=reject; aligned");
    authres_add_prop(b, "header", "from", "example.net");
    authres_add(b, "dkim", "pass", NULL);
    authres_add_prop(b, "header", "b", "q\"x/y\\z");
    assert_true(authres_format(b, buf, sizeof(buf)) > 0);
    assert_int_equal(authres_parse(buf, strlen(buf), &ar, err, sizeof(err)), 0);
    assert_string_equal(ar->authserv_id, "mx.example.org");
    assert_int_equal(ar->nresults, 2);
    assert_string_equal(ar->results[0].reason, "p=reject; aligned");
    assert_string_equal(ar->results[1].props[0].value, "q\"x/y\\z");
    authres_free(ar);
    authres_builder_free(b);
}

static const struct {
    const char *value;
    bool ours;
} ids[] = {
    { "mx.example.org; spf=pass", true },
    { "MX.Example.ORG; spf=pass", true },
    { "  (forged) mx.example.org 1; dkim=pass", true },
    { "\"mx.example.org\"; none", true },
    { "mx.example.org; this is {{ not valid", true },   /* forgers need no syntax */
    { "mx.example.org", true },
    { "mx.example.org.evil.net; spf=pass", false },
    { "evil-mx.example.org; spf=pass", false },
    { "other.example.org; spf=pass", false },
    { "; spf=pass", false },
    { "(unterminated mx.example.org", false },
    { "", false },
};

static void authserv_id_rule_matches_whole_ids_only(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        if (authres_is_ours(ids[i].value, strlen(ids[i].value), "mx.example.org")
            != ids[i].ours)
            fail_msg("'%s': want %d", ids[i].value, ids[i].ours);
    assert_false(authres_is_ours("x; none", 7, ""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(builder_writes_one_result_per_line),
        cmocka_unit_test(builder_with_no_results_says_none),
        cmocka_unit_test(values_that_are_not_tokens_are_quoted),
        cmocka_unit_test(long_results_fold_below_80_columns),
        cmocka_unit_test(control_characters_never_reach_the_header),
        cmocka_unit_test(parser_reads_the_rfc_styles),
        cmocka_unit_test(malformed_fields_are_refused_with_a_reason),
        cmocka_unit_test(limits_are_errors_not_crashes),
        cmocka_unit_test(built_fields_parse_back_to_the_same_data),
        cmocka_unit_test(authserv_id_rule_matches_whole_ids_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
