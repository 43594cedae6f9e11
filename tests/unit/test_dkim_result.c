/*
 * test_dkim_result.c - libopendkim's per-signature state to RFC 8601
 * result names, the Authentication-Results value, and the action the
 * config asks for: tables of cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <opendkim/dkim.h>

#include "dkim_result.h"

#define P (DKIM_SIGFLAG_PROCESSED)
#define PP (DKIM_SIGFLAG_PROCESSED | DKIM_SIGFLAG_PASSED)

static void signature_state_maps_to_rfc8601_results(void **state)
{
    static const struct {
        int err;
        unsigned flags;
        int bh, alg;
        dkim_res_t want;
    } cases[] = {
        { DKIM_SIGERROR_OK, PP, DKIM_SIGBH_MATCH, DKIM_SIGN_RSASHA256, DKIM_RES_PASS },
        { DKIM_SIGERROR_OK, PP, DKIM_SIGBH_MATCH, DKIM_SIGN_ED25519SHA256, DKIM_RES_PASS },
        { DKIM_SIGERROR_OK, PP, DKIM_SIGBH_MATCH, DKIM_SIGN_RSASHA1, DKIM_RES_POLICY },
        { DKIM_SIGERROR_OK, PP, DKIM_SIGBH_MISMATCH, DKIM_SIGN_RSASHA256, DKIM_RES_FAIL },
        { DKIM_SIGERROR_OK, P, DKIM_SIGBH_MATCH, DKIM_SIGN_RSASHA256, DKIM_RES_FAIL },
        { DKIM_SIGERROR_BADSIG, P, DKIM_SIGBH_MATCH, DKIM_SIGN_RSASHA256, DKIM_RES_FAIL },
        { DKIM_SIGERROR_BADSIG, P, DKIM_SIGBH_MISMATCH, DKIM_SIGN_RSASHA256, DKIM_RES_FAIL },
        { DKIM_SIGERROR_KEYFAIL, 0, DKIM_SIGBH_UNTESTED, DKIM_SIGN_RSASHA256,
          DKIM_RES_TEMPERROR },
        { DKIM_SIGERROR_NOKEY, P, DKIM_SIGBH_UNTESTED, DKIM_SIGN_RSASHA256,
          DKIM_RES_PERMERROR },
        { DKIM_SIGERROR_KEYREVOKED, P, DKIM_SIGBH_UNTESTED, 1, DKIM_RES_PERMERROR },
        { DKIM_SIGERROR_DNSSYNTAX, P, DKIM_SIGBH_UNTESTED, 1, DKIM_RES_PERMERROR },
        { DKIM_SIGERROR_EXPIRED, 0, DKIM_SIGBH_UNTESTED, 1, DKIM_RES_PERMERROR },
        { DKIM_SIGERROR_MISSING_D, 0, DKIM_SIGBH_UNTESTED, 1, DKIM_RES_PERMERROR },
        { DKIM_SIGERROR_INVALID_A, 0, DKIM_SIGBH_UNTESTED, -2, DKIM_RES_PERMERROR },
        { DKIM_SIGERROR_TOOLARGE_L, 0, DKIM_SIGBH_UNTESTED, 1, DKIM_RES_PERMERROR },
        { DKIM_SIGERROR_KEYTOOSMALL, P, DKIM_SIGBH_MATCH, 1, DKIM_RES_POLICY },
        { DKIM_SIGERROR_UNKNOWN, 0, DKIM_SIGBH_UNTESTED, 1, DKIM_RES_NEUTRAL },
        { DKIM_SIGERROR_CONDITIONAL, 0, DKIM_SIGBH_UNTESTED, 1, DKIM_RES_NEUTRAL },
    };

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *reason = "unset";
        dkim_res_t r = dkim_result_classify(cases[i].err, cases[i].flags, cases[i].bh,
                                            cases[i].alg, &reason);

        if (r != cases[i].want)
            fail_msg("case %zu: %s, want %s", i, dkim_result_name(r),
                     dkim_result_name(cases[i].want));
        if (cases[i].bh == DKIM_SIGBH_MISMATCH)
            assert_string_equal(reason, "body hash did not verify");
        if (r == DKIM_RES_PASS)
            assert_null(reason);
        else
            assert_non_null(reason);
    }
}

static dkim_sigres_t res(dkim_res_t r, const char *d, const char *s, const char *reason)
{
    dkim_sigres_t x;

    memset(&x, 0, sizeof(x));
    x.res = r;
    snprintf(x.domain, sizeof(x.domain), "%s", d);
    snprintf(x.selector, sizeof(x.selector), "%s", s);
    snprintf(x.alg, sizeof(x.alg), "rsa-sha256");
    snprintf(x.b, sizeof(x.b), "abcdEFGH");
    snprintf(x.reason, sizeof(x.reason), "%s", reason);
    return x;
}

static void action_follows_the_best_then_the_worst_result(void **state)
{
    static const struct {
        dkim_res_t r[3];
        size_t n;
        mact_t want;
        const char *why;
    } cases[] = {
        { { 0 }, 0, MACT_ACCEPT, "none" },
        { { DKIM_RES_PASS }, 1, MACT_ACCEPT, "pass" },
        { { DKIM_RES_FAIL, DKIM_RES_PASS }, 2, MACT_ACCEPT, "pass" },
        { { DKIM_RES_FAIL }, 1, MACT_REJECT, "fail" },
        { { DKIM_RES_PERMERROR }, 1, MACT_REJECT, "permerror" },
        { { DKIM_RES_POLICY }, 1, MACT_REJECT, "policy" },
        { { DKIM_RES_TEMPERROR }, 1, MACT_TEMPFAIL, "temperror" },
        { { DKIM_RES_FAIL, DKIM_RES_TEMPERROR }, 2, MACT_TEMPFAIL, "temperror" },
        { { DKIM_RES_NEUTRAL }, 1, MACT_ACCEPT, "neutral" },
    };
    dkim_result_policy_t p = { MACT_REJECT, MACT_TEMPFAIL };
    dkim_result_policy_t report_only = { MACT_ACCEPT, MACT_ACCEPT };

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        dkim_sigres_t r[3];
        const char *why = NULL;

        for (size_t j = 0; j < cases[i].n; j++)
            r[j] = res(cases[i].r[j], "example.com", "s1", "");
        assert_int_equal(dkim_result_action(r, cases[i].n, &p, &why), cases[i].want);
        assert_string_equal(why, cases[i].why);
        assert_int_equal(dkim_result_action(r, cases[i].n, &report_only, &why), MACT_ACCEPT);
    }
}

static void authres_value_reports_every_signature(void **state)
{
    dkim_sigres_t r[2] = {
        res(DKIM_RES_PASS, "example.com", "ed1", ""),
        res(DKIM_RES_FAIL, "example.org", "s 2", "body hash did not verify"),
    };
    char buf[1024];

    (void) state;
    assert_true(dkim_result_authres("mx.example.net", r, 2, buf, sizeof(buf)) > 0);
    assert_non_null(strstr(buf, "mx.example.net;"));
    assert_non_null(strstr(buf, "dkim=pass header.d=example.com header.s=ed1 header.a=rsa-sha256"));
    assert_non_null(strstr(buf, "header.b=abcdEFGH;"));
    assert_non_null(strstr(buf, "dkim=fail reason=\"body hash did not verify\" header.d=example.org"));
    assert_non_null(strstr(buf, "header.s=\"s 2\""));
    assert_true(dkim_result_authres("mx.example.net", NULL, 0, buf, sizeof(buf)) > 0);
    assert_non_null(strstr(buf, "dkim=none"));
    assert_int_equal(dkim_result_authres("mx.example.net", r, 2, buf, 20), -1);
}

static void authres_value_survives_hostile_text(void **state)
{
    dkim_sigres_t r = res(DKIM_RES_PERMERROR, "ex\r\nX-Injected: 1", "s\n1", "bad\r\nthing");
    char buf[1024];

    (void) state;
    assert_true(dkim_result_authres("mx.example.net", &r, 1, buf, sizeof(buf)) > 0);
    assert_null(strchr(buf, '\r'));
    assert_null(strstr(buf, "X-Injected"));
    assert_non_null(strstr(buf, "dkim=permerror"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(signature_state_maps_to_rfc8601_results),
        cmocka_unit_test(action_follows_the_best_then_the_worst_result),
        cmocka_unit_test(authres_value_reports_every_signature),
        cmocka_unit_test(authres_value_survives_hostile_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
