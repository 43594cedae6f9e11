/*
 * test_dmarc_spf.c - postern-spf's verdicts as DMARC input: every SPF
 * result maps to the same DMARC-side name, the checked domain (MAIL
 * FROM, or HELO) becomes the SPF identifier, and it aligns as it should.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "spf_eval.h"

#include "dmarc_eval.h"
#include "dmarc_spf.h"

static void spf_results_map_by_name(void **state)
{
    spf_verdict_t v;
    dmarc_spf_t s;

    (void) state;
    memset(&v, 0, sizeof v);
    snprintf(v.domain, sizeof v.domain, "Bounce.Example.COM.");
    for (int r = 0; r < SPF_RESULT_COUNT; r++) {
        v.result = (spf_result_t)r;
        dmarc_spf_from_verdict(&v, &s);
        assert_string_equal(dmarc_auth_name(s.result), spf_result_name(v.result));
    }
    assert_string_equal(s.domain, "bounce.example.com");
    assert_false(s.helo);
}

static void spf_helo_identity_and_empty_domain(void **state)
{
    spf_verdict_t v;
    dmarc_spf_t s;
    dmarc_input_t in = { .from_domain = "example.com" };

    (void) state;
    memset(&v, 0, sizeof v);
    v.identity = SPF_ID_HELO;
    v.result = SPF_RESULT_PASS;
    snprintf(v.domain, sizeof v.domain, "mx.example.com");
    dmarc_spf_from_verdict(&v, &s);
    dmarc_spf_input(&s, &in);
    assert_true(in.spf_helo);
    assert_string_equal(in.spf_domain, "mx.example.com");
    assert_int_equal(in.spf_result, DMARC_AUTH_PASS);
    v.domain[0] = '\0';
    dmarc_spf_from_verdict(&v, &s);
    dmarc_spf_input(&s, &in);
    assert_null(in.spf_domain);
    assert_int_equal(in.spf_result, DMARC_AUTH_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spf_results_map_by_name),
        cmocka_unit_test(spf_helo_identity_and_empty_domain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
