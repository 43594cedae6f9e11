/*
 * test_dmarc_dkim.c - postern-dkim's signature results as DMARC input:
 * every result maps to the DMARC-side result of the same meaning, the
 * d= domain is the identifier, unusable signatures are left out and the
 * output bound is respected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dkim_result.h"

#include "dmarc_dkim.h"
#include "dmarc_eval.h"

static void dkim_results_map_by_meaning(void **state)
{
    static const struct { dkim_res_t in; dmarc_auth_t out; } cases[] = {
        { DKIM_RES_NONE, DMARC_AUTH_NONE },
        { DKIM_RES_PASS, DMARC_AUTH_PASS },
        { DKIM_RES_FAIL, DMARC_AUTH_FAIL },
        { DKIM_RES_NEUTRAL, DMARC_AUTH_NEUTRAL },
        { DKIM_RES_POLICY, DMARC_AUTH_POLICY },
        { DKIM_RES_TEMPERROR, DMARC_AUTH_TEMPERROR },
        { DKIM_RES_PERMERROR, DMARC_AUTH_PERMERROR },
        { (dkim_res_t)99, DMARC_AUTH_PERMERROR },
    };

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(dmarc_dkim_auth(cases[i].in), cases[i].out);
    /* Same names on both sides for every known result. */
    for (int r = DKIM_RES_NONE; r <= DKIM_RES_PERMERROR; r++)
        assert_string_equal(dmarc_auth_name(dmarc_dkim_auth((dkim_res_t)r)),
                            dkim_result_name((dkim_res_t)r));
}

static void dkim_entries_skip_unusable_and_respect_max(void **state)
{
    dkim_sigres_t r[3];
    dmarc_dkim_in_t d[DMARC_MAX_DKIM];

    (void) state;
    memset(r, 0, sizeof r);
    r[0].res = DKIM_RES_PASS;
    snprintf(r[0].domain, sizeof r[0].domain, "example.com");
    snprintf(r[0].selector, sizeof r[0].selector, "sel1");
    r[1].res = DKIM_RES_PERMERROR;      /* d= unusable: no identifier */
    r[2].res = DKIM_RES_FAIL;
    snprintf(r[2].domain, sizeof r[2].domain, "other.example");
    assert_int_equal(dmarc_dkim_from_results(r, 3, d, DMARC_MAX_DKIM), 2);
    assert_string_equal(d[0].domain, "example.com");
    assert_string_equal(d[0].selector, "sel1");
    assert_int_equal(d[0].result, DMARC_AUTH_PASS);
    assert_string_equal(d[1].domain, "other.example");
    assert_null(d[1].selector);
    assert_int_equal(d[1].result, DMARC_AUTH_FAIL);
    assert_int_equal(dmarc_dkim_from_results(r, 3, d, 1), 1);
    assert_int_equal(dmarc_dkim_from_results(r, 0, d, DMARC_MAX_DKIM), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dkim_results_map_by_meaning),
        cmocka_unit_test(dkim_entries_skip_unusable_and_respect_max),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
