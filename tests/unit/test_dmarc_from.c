/*
 * test_dmarc_from.c - the From field parser: display names, comments,
 * quoted strings, groups, routes, encoded words, folding, and the
 * inputs a forger uses to make two parsers see two different authors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dmarc_from.h"

typedef struct fcase {
    const char *value;
    dmarc_from_status_t st;
    size_t n;
    const char *d0, *d1;
} fcase_t;

static const fcase_t cases[] = {
    { "ann@example.com", DMARC_FROM_OK, 1, "example.com", NULL },
    { "Ann <ann@Example.COM>", DMARC_FROM_OK, 1, "example.com", NULL },
    { "\"Doe, Ann\" <ann@example.com>", DMARC_FROM_OK, 1, "example.com", NULL },
    { "ann@example.com (Ann <evil@attacker.example>)", DMARC_FROM_OK, 1, "example.com", NULL },
    { "(c (nested) c) ann@example.com", DMARC_FROM_OK, 1, "example.com", NULL },
    { "\"evil@attacker.example\" <ann@example.com>", DMARC_FROM_OK, 1, "example.com", NULL },
    { "\"ann\"@example.com", DMARC_FROM_OK, 1, "example.com", NULL },
    { "John Q. Public <jqp@example.org>", DMARC_FROM_OK, 1, "example.org", NULL },
    { "Ann\r\n <ann@example.com>", DMARC_FROM_OK, 1, "example.com", NULL },
    { "<@relay.example:ann@example.com>", DMARC_FROM_OK, 1, "example.com", NULL },
    { "=?utf-8?q?evil@attacker.example?= <ann@example.com>", DMARC_FROM_OK, 1,
      "example.com", NULL },
    { "=?UTF-8?B?QW5u?= =?UTF-8?B?IERvZQ==?= <ann@example.com>", DMARC_FROM_OK, 1,
      "example.com", NULL },
    { "ann@example.com.", DMARC_FROM_OK, 1, "example.com", NULL },
    { "a@one.example, b@two.example", DMARC_FROM_OK, 2, "one.example", "two.example" },
    { "A <a@one.example>, B <b@two.example>", DMARC_FROM_OK, 2, "one.example", "two.example" },
    { "team: a@one.example, b@two.example;", DMARC_FROM_OK, 2, "one.example", "two.example" },
    { "undisclosed-recipients:;", DMARC_FROM_OK, 0, NULL, NULL },
    { "", DMARC_FROM_OK, 0, NULL, NULL },
    { " , ,ann@example.com,", DMARC_FROM_OK, 1, "example.com", NULL },
    /* errors */
    { "ann", DMARC_FROM_SYNTAX, 0, NULL, NULL },
    { "ann@", DMARC_FROM_SYNTAX, 0, NULL, NULL },
    { "@example.com", DMARC_FROM_SYNTAX, 0, NULL, NULL },
    { "ann@[192.0.2.1]", DMARC_FROM_SYNTAX, 0, NULL, NULL },
    { "Ann <ann@example.com", DMARC_FROM_SYNTAX, 0, NULL, NULL },
    { "ann@example.com <b@x.example>", DMARC_FROM_SYNTAX, 0, NULL, NULL },
    { "ann@exa!mple.com", DMARC_FROM_SYNTAX, 0, NULL, NULL },
    { "ann@example..com", DMARC_FROM_SYNTAX, 0, NULL, NULL },
    { "\"unterminated <ann@example.com>", DMARC_FROM_SYNTAX, 0, NULL, NULL },
    { "(unterminated ann@example.com", DMARC_FROM_SYNTAX, 0, NULL, NULL },
    { "g: a@x.example", DMARC_FROM_SYNTAX, 0, NULL, NULL },
    { "g: h: a@x.example;;", DMARC_FROM_SYNTAX, 0, NULL, NULL },
    { "=?utf-8?q?x?=@example.com", DMARC_FROM_SYNTAX, 0, NULL, NULL },
    { "((((((((((a)))))))))) ann@example.com", DMARC_FROM_LIMIT, 0, NULL, NULL },
};

static void from_cases_give_the_expected_domains(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const fcase_t *c = &cases[i];
        dmarc_from_t f;
        dmarc_from_status_t st = dmarc_from_parse(c->value, strlen(c->value), &f);
        if (st != c->st || f.naddrs != c->n)
            fail_msg("case %zu \"%s\": status %s n %zu, want %s n %zu", i, c->value,
                     dmarc_from_status_name(st), f.naddrs,
                     dmarc_from_status_name(c->st), c->n);
        if (c->d0)
            assert_string_equal(f.domain[0], c->d0);
        if (c->d1)
            assert_string_equal(f.domain[1], c->d1);
    }
}

static void from_reads_only_len_bytes(void **state)
{
    const char buf[] = "ann@example.comXXXX";
    dmarc_from_t f;

    (void) state;
    assert_int_equal(dmarc_from_parse(buf, 15, &f), DMARC_FROM_OK);
    assert_string_equal(f.domain[0], "example.com");
}

static void from_nul_byte_is_a_syntax_error(void **state)
{
    const char buf[] = "ann@example.com\0, b@evil.example";
    dmarc_from_t f;

    (void) state;
    assert_int_equal(dmarc_from_parse(buf, sizeof buf - 1, &f), DMARC_FROM_SYNTAX);
    assert_int_equal(f.naddrs, 0);
}

static void from_limits_are_enforced(void **state)
{
    static char big[DMARC_FROM_MAX_LEN + 2];
    char many[1024] = "";
    dmarc_from_t f;

    (void) state;
    memset(big, ' ', sizeof big - 1);
    assert_int_equal(dmarc_from_parse(big, sizeof big - 1, &f), DMARC_FROM_LIMIT);
    for (int i = 0; i <= DMARC_FROM_MAX_ADDRS; i++) {
        char one[40];
        snprintf(one, sizeof one, "%sa@d%d.example", i ? "," : "", i);
        strcat(many, one);
    }
    assert_int_equal(dmarc_from_parse(many, strlen(many), &f), DMARC_FROM_LIMIT);
    assert_int_equal(f.naddrs, 0);
}

static void from_long_domain_is_refused(void **state)
{
    char v[400] = "a@";
    dmarc_from_t f;

    (void) state;
    for (int i = 0; i < 5; i++)
        strcat(v, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.");
    strcat(v, "com");
    assert_int_equal(dmarc_from_parse(v, strlen(v), &f), DMARC_FROM_SYNTAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(from_cases_give_the_expected_domains),
        cmocka_unit_test(from_reads_only_len_bytes),
        cmocka_unit_test(from_nul_byte_is_a_syntax_error),
        cmocka_unit_test(from_limits_are_enforced),
        cmocka_unit_test(from_long_domain_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
