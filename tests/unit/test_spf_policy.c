/*
 * test_spf_policy.c - what postern-spf does with a result: the skip
 * rules, the default action per result, config and per-domain
 * overrides, the reply codes, the Received-SPF value and the A-R entry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "authres.h"
#include "config.h"
#include "mact.h"

#include "spf_conf.h"
#include "spf_eval.h"
#include "spf_header.h"
#include "spf_policy.h"

static spf_policy_t *policy_from(const char *text)
{
    char err[256];
    config_t *cfg = config_load_string("test.conf", text, spf_sections, err, sizeof(err));
    spf_policy_t *p;

    if (cfg == NULL)
        fail_msg("%s", err);
    p = spf_policy_new(cfg, "spf", err, sizeof(err));
    config_unref(cfg);
    if (p == NULL)
        fail_msg("%s", err);
    return p;
}

static spf_verdict_t verdict(spf_result_t r, const char *domain)
{
    spf_verdict_t v;

    memset(&v, 0, sizeof(v));
    v.result = r;
    v.identity = SPF_ID_MAILFROM;
    snprintf(v.domain, sizeof(v.domain), "%s", domain);
    snprintf(v.sender, sizeof(v.sender), "a@%s", domain);
    return v;
}

typedef struct dcase {
    spf_result_t result;
    const char *domain;
    mact_t want;
    const char *xcode;
} dcase_t;

static void run_cases(const spf_policy_t *p, const dcase_t *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        spf_verdict_t v = verdict(c[i].result, c[i].domain);
        spf_decision_t d;
        spf_policy_decide(p, &v, "192.0.2.9", &d);
        if (d.action != c[i].want)
            fail_msg("%s %s: want %s, got %s (%s)", spf_result_name(c[i].result), c[i].domain,
                     mact_name(c[i].want), mact_name(d.action), d.rule);
        if ((c[i].xcode == NULL) != (d.xcode == NULL)
            || (c[i].xcode && strcmp(c[i].xcode, d.xcode) != 0))
            fail_msg("%s %s: want xcode %s, got %s", spf_result_name(c[i].result),
                     c[i].domain, c[i].xcode ? c[i].xcode : "none", d.xcode ? d.xcode : "none");
    }
}

static void defaults_reject_only_fail(void **state)
{
    static const dcase_t c[] = {
        { SPF_RESULT_PASS, "a.example", MACT_TAG, NULL },
        { SPF_RESULT_FAIL, "a.example", MACT_REJECT, "5.7.23" },
        { SPF_RESULT_SOFTFAIL, "a.example", MACT_TAG, NULL },
        { SPF_RESULT_NEUTRAL, "a.example", MACT_TAG, NULL },
        { SPF_RESULT_NONE, "a.example", MACT_TAG, NULL },
        { SPF_RESULT_TEMPERROR, "a.example", MACT_TAG, NULL },
        { SPF_RESULT_PERMERROR, "a.example", MACT_TAG, NULL },
    };
    spf_policy_t *p = policy_from("[spf]\n");

    (void) state;
    run_cases(p, c, sizeof(c) / sizeof(c[0]));
    spf_policy_free(p);
}

static void configured_actions_and_domain_overrides_apply(void **state)
{
    static const dcase_t c[] = {
        { SPF_RESULT_TEMPERROR, "a.example", MACT_TEMPFAIL, "4.7.24" },
        { SPF_RESULT_PERMERROR, "a.example", MACT_REJECT, "5.7.24" },
        { SPF_RESULT_FAIL, "lenient.example", MACT_TAG, NULL },
        { SPF_RESULT_FAIL, "sub.lenient.example", MACT_REJECT, "5.7.23" },
        { SPF_RESULT_SOFTFAIL, "x.bank.example", MACT_REJECT, "5.7.23" },
        { SPF_RESULT_SOFTFAIL, "bank.example", MACT_TAG, NULL },
        { SPF_RESULT_FAIL, "quiet.example", MACT_ACCEPT, NULL },
        { SPF_RESULT_PASS, "quiet.example", MACT_ACCEPT, NULL },
        { SPF_RESULT_NONE, "hold.example", MACT_QUARANTINE, NULL },
        { SPF_RESULT_NEUTRAL, "strict.example", MACT_REJECT, "5.7.1" },
    };
    spf_policy_t *p = policy_from(
        "[spf]\non_temperror = tempfail\non_permerror = reject\n"
        "domain_overrides = lenient.example:fail=tag, .bank.example:softfail=reject,"
        " quiet.example:all=accept hold.example:none=quarantine strict.example:neutral=reject\n");

    (void) state;
    run_cases(p, c, sizeof(c) / sizeof(c[0]));
    spf_policy_free(p);
}

static void bad_overrides_are_config_errors(void **state)
{
    static const char *const bad[] = {
        "example.com", "example.com:fail", "example.com:bogus=reject", ":fail=reject",
        "example.com:fail=bounce",
    };
    char text[256], err[256];

    (void) state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), "[spf]\ndomain_overrides = %s\n", bad[i]);
        config_t *cfg = config_load_string("t.conf", text, spf_sections, err, sizeof(err));
        assert_non_null(cfg);
        err[0] = '\0';
        spf_policy_t *p = spf_policy_new(cfg, "spf", err, sizeof(err));
        config_unref(cfg);
        if (p != NULL)
            fail_msg("accepted %s", bad[i]);
        assert_non_null(strstr(err, "domain_overrides"));
    }
}

static void skips_internal_authenticated_and_relays(void **state)
{
    spf_policy_t *p = policy_from("[global]\ninternal_hosts = 10.0.0.0/8\n"
                                  "[spf]\ntrusted_relays = 192.0.2.0/28\n");
    spf_policy_t *q = policy_from("[spf]\nskip_authenticated = no\n");

    (void) state;
    assert_int_equal(spf_policy_skip(p, "10.1.2.3", NULL), SPF_SKIP_INTERNAL);
    assert_int_equal(spf_policy_skip(p, "127.0.0.1", NULL), SPF_SKIP_NONE);
    assert_int_equal(spf_policy_skip(p, "198.51.100.1", "alice"), SPF_SKIP_AUTHENTICATED);
    assert_int_equal(spf_policy_skip(p, "198.51.100.1", ""), SPF_SKIP_NONE);
    assert_int_equal(spf_policy_skip(p, "192.0.2.7", NULL), SPF_SKIP_RELAY);
    assert_int_equal(spf_policy_skip(p, "192.0.2.17", NULL), SPF_SKIP_NONE);
    /* default internal_hosts holds loopback */
    assert_int_equal(spf_policy_skip(q, "127.0.0.1", NULL), SPF_SKIP_INTERNAL);
    assert_int_equal(spf_policy_skip(q, "198.51.100.1", "alice"), SPF_SKIP_NONE);
    assert_string_equal(spf_skip_name(SPF_SKIP_RELAY), "trusted-relay");
    spf_policy_free(p);
    spf_policy_free(q);
}

static void reject_text_carries_the_explanation(void **state)
{
    spf_policy_t *p = policy_from("[spf]\n");
    spf_verdict_t v = verdict(SPF_RESULT_FAIL, "a.example");
    spf_decision_t d;

    (void) state;
    snprintf(v.explanation, sizeof(v.explanation), "see https://a.example/spf");
    spf_policy_decide(p, &v, "192.0.2.9", &d);
    assert_string_equal(d.text, "SPF fail for a.example: see https://a.example/spf");
    v.explanation[0] = '\0';
    spf_policy_decide(p, &v, "192.0.2.9", &d);
    assert_non_null(strstr(d.text, "does not designate 192.0.2.9"));
    spf_policy_free(p);
}

static void received_spf_quotes_what_the_client_sent(void **state)
{
    spf_verdict_t v = verdict(SPF_RESULT_PASS, "a.example");
    char buf[1024];
    ssize_t n;

    (void) state;
    snprintf(v.mechanism, sizeof(v.mechanism), "ip4:192.0.2.0/24");
    n = spf_header_received(&v, "mx.test", "192.0.2.9", "evil\r\nX-Injected: 1 \"q\"",
                            "a@a.example", buf, sizeof(buf));
    assert_true(n > 0);
    assert_null(strchr(buf, '\r'));
    assert_null(strchr(buf, '\n'));
    assert_string_equal(buf,
        "pass (mx.test: domain of a@a.example designates 192.0.2.9 as permitted sender)"
        " client-ip=192.0.2.9; envelope-from=a@a.example;"
        " helo=\"evilX-Injected: 1 \\\"q\\\"\"; receiver=mx.test; identity=mailfrom;"
        " mechanism=\"ip4:192.0.2.0/24\"");
    v = verdict(SPF_RESULT_PERMERROR, "b.example");
    snprintf(v.reason, sizeof(v.reason), "more than 10 DNS-querying terms");
    n = spf_header_received(&v, "mx.test", "192.0.2.9", NULL, "", buf, sizeof(buf));
    assert_true(n > 0);
    assert_non_null(strstr(buf, "problem=\"more than 10 DNS-querying terms\""));
    assert_non_null(strstr(buf, "envelope-from=\"\""));
    assert_int_equal(spf_header_received(&v, "mx.test", "192.0.2.9", NULL, "", buf, 40), -1);
}

static void authres_has_mailfrom_and_helo_properties(void **state)
{
    authres_builder_t *b = authres_builder_new("mx.test");
    spf_verdict_t mf = verdict(SPF_RESULT_FAIL, "a.example");
    spf_verdict_t helo = verdict(SPF_RESULT_PASS, "mta.a.example");
    char buf[512];

    (void) state;
    helo.identity = SPF_ID_HELO;
    assert_int_equal(spf_header_authres(b, &mf), 0);
    assert_int_equal(spf_header_authres(b, &helo), 0);
    assert_true(authres_format(b, buf, sizeof(buf)) > 0);
    assert_string_equal(buf, "mx.test;\n\tspf=fail smtp.mailfrom=a@a.example;\n"
                             "\tspf=pass smtp.helo=mta.a.example");
    authres_builder_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_reject_only_fail),
        cmocka_unit_test(configured_actions_and_domain_overrides_apply),
        cmocka_unit_test(bad_overrides_are_config_errors),
        cmocka_unit_test(skips_internal_authenticated_and_relays),
        cmocka_unit_test(reject_text_carries_the_explanation),
        cmocka_unit_test(received_spf_quotes_what_the_client_sent),
        cmocka_unit_test(authres_has_mailfrom_and_helo_properties),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
