/*
 * test_dmarc_arin.c - SPF and DKIM results taken from our own
 * Authentication-Results fields: only our authserv-id counts, MAIL FROM
 * wins over HELO, every DKIM signature is kept, bad fields are ignored.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dmarc_arin.h"

static int add(dmarc_arin_t *ar, const char *v)
{
    return dmarc_arin_add(ar, v, strlen(v), "mx.test");
}

static void arin_takes_our_spf_and_dkim(void **state)
{
    dmarc_arin_t ar;
    dmarc_input_t in = { .from_domain = "example.com" };

    (void) state;
    dmarc_arin_reset(&ar);
    assert_int_equal(add(&ar, "mx.test; spf=pass smtp.helo=mail.other.example"), 1);
    assert_int_equal(add(&ar, "mx.test;\n\tspf=softfail smtp.mailfrom=Bounce@Example.COM"), 1);
    assert_int_equal(add(&ar, "mx.test; dkim=pass header.d=example.com header.s=s1;"
                              " dkim=fail header.i=@news.example.com"), 1);
    assert_int_equal(add(&ar, "other.example; dkim=pass header.d=forged.example"), 0);
    assert_int_equal(add(&ar, "mx.test; spf=pass smtp.mailfrom=late@forged.example"), 1);
    assert_int_equal(add(&ar, "mx.test; ((( broken"), 0);
    dmarc_arin_input(&ar, &in);
    assert_string_equal(in.spf_domain, "example.com");
    assert_false(in.spf_helo);
    assert_int_equal(in.spf_result, DMARC_AUTH_SOFTFAIL);
    assert_int_equal(in.ndkim, 2);
    assert_string_equal(in.dkim[0].domain, "example.com");
    assert_string_equal(in.dkim[0].selector, "s1");
    assert_int_equal(in.dkim[0].result, DMARC_AUTH_PASS);
    assert_string_equal(in.dkim[1].domain, "news.example.com");
    assert_int_equal(in.dkim[1].result, DMARC_AUTH_FAIL);
}

static void arin_helo_only_and_nothing(void **state)
{
    dmarc_arin_t ar;
    dmarc_input_t in = { .from_domain = "example.com" };

    (void) state;
    dmarc_arin_reset(&ar);
    dmarc_arin_input(&ar, &in);
    assert_null(in.spf_domain);
    assert_int_equal(in.ndkim, 0);
    add(&ar, "mx.test; spf=temperror smtp.helo=mx.example.com; dkim=weird header.d=x.example");
    dmarc_arin_input(&ar, &in);
    assert_string_equal(in.spf_domain, "mx.example.com");
    assert_true(in.spf_helo);
    assert_int_equal(in.spf_result, DMARC_AUTH_TEMPERROR);
    assert_int_equal(in.dkim[0].result, DMARC_AUTH_PERMERROR);
}

static void arin_keeps_at_most_max_signatures(void **state)
{
    dmarc_arin_t ar;
    dmarc_input_t in = { .from_domain = "example.com" };
    char v[128];

    (void) state;
    dmarc_arin_reset(&ar);
    for (int i = 0; i < DMARC_MAX_DKIM + 5; i++) {
        snprintf(v, sizeof v, "mx.test; dkim=pass header.d=d%d.example", i);
        add(&ar, v);
    }
    dmarc_arin_input(&ar, &in);
    assert_int_equal(in.ndkim, DMARC_MAX_DKIM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(arin_takes_our_spf_and_dkim),
        cmocka_unit_test(arin_helo_only_and_nothing),
        cmocka_unit_test(arin_keeps_at_most_max_signatures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
