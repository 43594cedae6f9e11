/*
 * test_smtpreply.c - unit tests of smtp-load's SMTP reply parser: which
 * byte streams make one complete reply, which need more bytes, and which
 * an untrusted server must not get away with.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "smtpreply.h"

typedef struct {
    const char *in;
    int want_rc;        /* 1 reply, 0 incomplete, -1 malformed */
    int want_code;
    size_t want_used;   /* bytes of the first reply */
} reply_case_t;

static const reply_case_t cases[] = {
    {"250 2.1.0 Ok\r\n", 1, 250, 14},
    {"250 Ok\r\n354 next\r\n", 1, 250, 8},              /* one at a time */
    {"354 End data with <CR><LF>.<CR><LF>\r\n", 1, 354, 37},
    {"250\r\n", 1, 250, 5},                             /* code alone */
    {"221 Bye\n", 1, 221, 8},                           /* bare LF */
    {"250-mx.postern.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n", 1, 250, 51},
    {"451 4.7.1 Service unavailable - try again later\r\n", 1, 451, 49},
    {"550-5.7.1 no\r\n550 5.7.1 really not\r\n", 1, 550, 36},
    {"", 0, 0, 0},
    {"250 Ok", 0, 0, 0},                                /* no line end */
    {"250-mx.postern.test\r\n", 0, 0, 0},               /* more lines due */
    {"25", 0, 0, 0},
    {"hello\r\n", -1, 0, 0},
    {"25x Ok\r\n", -1, 0, 0},
    {"150 Ok\r\n", -1, 0, 0},                           /* 1xx is not SMTP */
    {"650 Ok\r\n", -1, 0, 0},
    {"250_Ok\r\n", -1, 0, 0},
    {"25\r\n", -1, 0, 0},
    {"250-first\r\n550 second\r\n", -1, 0, 0},          /* mixed codes */
};

static void test_parse_finds_complete_replies_and_rejects_bad_ones(void **st)
{
    (void)st;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const reply_case_t *c = &cases[i];
        int code = -7;
        size_t used = 12345;
        char err[128] = "";
        int rc = smtpreply_parse(c->in, strlen(c->in), &code, &used, err,
                                 sizeof err);
        if (rc != c->want_rc)
            fail_msg("case %zu \"%s\": rc %d, want %d (%s)", i, c->in, rc,
                     c->want_rc, err);
        if (rc == 1) {
            assert_int_equal(code, c->want_code);
            assert_int_equal(used, c->want_used);
        } else if (rc < 0) {
            assert_true(err[0] != '\0');
        } else {
            assert_int_equal(used, 12345);      /* untouched */
        }
    }
}

static void test_parse_reads_only_the_given_length(void **st)
{
    (void)st;
    /* The LF lies just past len: the reply is not complete yet. */
    const char *s = "250 Ok\r\nXXXX";
    int code = 0;
    size_t used = 0;
    char err[128];
    assert_int_equal(smtpreply_parse(s, 7, &code, &used, err, sizeof err), 0);
    assert_int_equal(smtpreply_parse(s, 8, &code, &used, err, sizeof err), 1);
    assert_int_equal(used, 8);
}

/* Over-limit input: `reps` copies of `unit` after `head`. */
typedef struct {
    const char *head;
    const char *unit;
    size_t reps;
    const char *why;        /* expected in the error text */
} limit_case_t;

static const limit_case_t limits[] = {
    {"250 ", "x", SMTPREPLY_MAX_LINE + 10, "longer"},
    {"", "250-x\n", SMTPREPLY_MAX_LINES + 1, "lines"},
};

static void test_parse_refuses_replies_beyond_the_limits(void **st)
{
    (void)st;
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        const limit_case_t *c = &limits[i];
        size_t hl = strlen(c->head), ul = strlen(c->unit);
        size_t n = hl + ul * c->reps;
        char *s = malloc(n);
        assert_non_null(s);
        memcpy(s, c->head, hl);
        for (size_t k = 0; k < c->reps; k++)
            memcpy(s + hl + k * ul, c->unit, ul);
        int code = 0;
        size_t used = 0;
        char err[128] = "";
        assert_int_equal(smtpreply_parse(s, n, &code, &used, err, sizeof err),
                         -1);
        assert_non_null(strstr(err, c->why));
        free(s);
    }
}

static void test_class_maps_codes_to_their_meaning(void **st)
{
    (void)st;
    static const struct { int code, want; } t[] = {
        {250, 2}, {221, 2}, {354, 3}, {451, 4}, {421, 4}, {550, 5},
        {199, 0}, {600, 0}, {0, 0}, {-1, 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        assert_int_equal(smtpreply_class(t[i].code), t[i].want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_finds_complete_replies_and_rejects_bad_ones),
        cmocka_unit_test(test_parse_reads_only_the_given_length),
        cmocka_unit_test(test_parse_refuses_replies_beyond_the_limits),
        cmocka_unit_test(test_class_maps_codes_to_their_meaning),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
