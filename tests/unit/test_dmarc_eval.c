/*
 * test_dmarc_eval.c - the DMARC decision on records served from memory:
 * Public Suffix List rules, policy discovery (fallback to the
 * organizational domain, several records, DNS failure), alignment
 * (relaxed and strict), p, sp and pct.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dmarc_eval.h"
#include "dmarc_lib.h"
#include "dmarc_psl.h"
#include "dmarc_record.h"

#include "dmarc_memsrc.h"

static const char psl_text[] =
    "// test list\ncom\nexample\nuk\nco.uk\n*.ck\n!www.ck\n\n// ===END===\n";

static const dmarc_memzone_t zone[] = {
    { "_dmarc.example.com", { "v=DMARC1; p=reject; rua=mailto:d@example.com", "unrelated" } },
    { "_dmarc.quar.example", { "v=DMARC1; p=quarantine" } },
    { "_dmarc.pct0.example", { "v=DMARC1; p=reject; pct=0" } },
    { "_dmarc.pct50.example", { "v=DMARC1; p=reject; pct=50" } },
    { "_dmarc.sub.example", { "v=DMARC1; p=none; sp=reject" } },
    { "_dmarc.strict.example", { "v=DMARC1; p=reject; adkim=s; aspf=s" } },
    { "_dmarc.multi.example", { "v=DMARC1; p=reject", "v=DMARC1; p=none" } },
    { "_dmarc.x.example.com", { "v=spf1 -all" } },
    { "_dmarc.temp.example", { "TEMPFAIL" } },
    { "_dmarc.bad.example", { "v=DMARC1; p=bogus" } },
    { "_dmarc.lower.example", { "v=dmarc1; p=reject" } },
    { "_dmarc.shop.co.uk", { "v=DMARC1; p=quarantine" } },
    { NULL, { NULL } }
};

static dmarc_psl_t *psl;
static dmarc_eval_t *ev;

static int setup(void **state)
{
    char err[256];
    dmarc_source_t src = { dmarc_memsrc_txt, (void *)zone };

    (void) state;
    psl = dmarc_psl_load_text(psl_text, strlen(psl_text), err, sizeof err);
    ev = psl ? dmarc_eval_new(psl, &src) : NULL;
    return ev && dmarc_lib_init(err, sizeof err) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void) state;
    dmarc_eval_free(ev);
    dmarc_psl_free(psl);
    return 0;
}

static void psl_org_domains(void **state)
{
    static const char *const cases[][2] = {
        { "a.b.example.com", "example.com" }, { "Example.COM.", "example.com" },
        { "com", "com" }, { "shop.co.uk", "shop.co.uk" }, { "a.shop.co.uk", "shop.co.uk" },
        { "co.uk", "co.uk" }, { "www.ck", "www.ck" }, { "a.www.ck", "www.ck" },
        { "a.b.foo.ck", "b.foo.ck" }, { "foo.ck", "foo.ck" },
        { "a.b.unlisted", "b.unlisted" }, { "unlisted", "unlisted" },
    };
    char buf[256];

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_true(dmarc_psl_org_domain(psl, cases[i][0], buf, sizeof buf) > 0);
        if (strcmp(buf, cases[i][1]) != 0)
            fail_msg("%s: got %s, want %s", cases[i][0], buf, cases[i][1]);
    }
    assert_int_equal(dmarc_psl_org_domain(psl, "", buf, sizeof buf), -1);
    assert_int_equal(dmarc_psl_org_domain(psl, "a.example.com", buf, 5), -1);
}

static void psl_real_list_loads(void **state)
{
    char err[256], buf[256];
    const char *path = "/usr/share/publicsuffix/public_suffix_list.dat";

    (void) state;
    dmarc_psl_t *real = dmarc_psl_load(path, err, sizeof err);
    if (real == NULL)
        fail_msg("%s", err);
    assert_true(dmarc_psl_count(real) > 5000);
    dmarc_psl_org_domain(real, "mail.example.co.uk", buf, sizeof buf);
    assert_string_equal(buf, "example.co.uk");
    dmarc_psl_org_domain(real, "a.b.example.com", buf, sizeof buf);
    assert_string_equal(buf, "example.com");
    dmarc_psl_free(real);
    assert_null(dmarc_psl_load("/nonexistent/psl.dat", err, sizeof err));
    assert_null(dmarc_psl_load_text("// only comments\n", 17, err, sizeof err));
}

typedef struct ecase {
    const char *name;
    const char *from, *spf_domain;
    dmarc_auth_t spf;
    const char *dkim_d;
    dmarc_auth_t dkim;
    unsigned sample;
    dmarc_result_t result;
    dmarc_p_t policy, dis;
    bool used_sp, sampled_out;
    const char *policy_domain;
} ecase_t;

#define PASS_ DMARC_AUTH_PASS
#define FAIL_ DMARC_AUTH_FAIL
#define R(x) DMARC_RESULT_##x
#define P(x) DMARC_P_##x

static const ecase_t ecases[] = {
    { "dmarc_pass_when_dkim_aligned_relaxed", "example.com", "other.example", PASS_,
      "mail.example.com", PASS_, 0, R(PASS), P(REJECT), P(NONE), false, false, "example.com" },
    { "dmarc_pass_when_spf_aligned_relaxed", "example.com", "bounce.example.com", PASS_,
      NULL, 0, 0, R(PASS), P(REJECT), P(NONE), false, false, "example.com" },
    { "dmarc_reject_when_spf_and_dkim_unaligned", "example.com", "other.example", PASS_,
      "other.example", PASS_, 0, R(FAIL), P(REJECT), P(REJECT), false, false, "example.com" },
    { "dmarc_fail_when_aligned_dkim_fails", "example.com", NULL, 0,
      "example.com", FAIL_, 0, R(FAIL), P(REJECT), P(REJECT), false, false, "example.com" },
    { "dmarc_fail_when_aligned_spf_softfails", "example.com", "example.com", DMARC_AUTH_SOFTFAIL,
      NULL, 0, 0, R(FAIL), P(REJECT), P(REJECT), false, false, "example.com" },
    { "dmarc_quarantine_policy", "quar.example", NULL, 0, NULL, 0, 0,
      R(FAIL), P(QUARANTINE), P(QUARANTINE), false, false, "quar.example" },
    { "dmarc_pct0_is_not_enforced", "pct0.example", NULL, 0, NULL, 0, 0,
      R(FAIL), P(REJECT), P(QUARANTINE), false, true, "pct0.example" },
    { "dmarc_pct50_sample_below_enforces", "pct50.example", NULL, 0, NULL, 0, 49,
      R(FAIL), P(REJECT), P(REJECT), false, false, "pct50.example" },
    { "dmarc_pct50_sample_at_pct_downgrades", "pct50.example", NULL, 0, NULL, 0, 50,
      R(FAIL), P(REJECT), P(QUARANTINE), false, true, "pct50.example" },
    { "dmarc_subdomain_takes_sp", "a.sub.example", NULL, 0, NULL, 0, 0,
      R(FAIL), P(REJECT), P(REJECT), true, false, "sub.example" },
    { "dmarc_org_domain_itself_takes_p", "sub.example", NULL, 0, NULL, 0, 0,
      R(FAIL), P(NONE), P(NONE), false, false, "sub.example" },
    { "dmarc_strict_dkim_refuses_subdomain", "strict.example", NULL, 0,
      "mail.strict.example", PASS_, 0, R(FAIL), P(REJECT), P(REJECT), false, false, "strict.example" },
    { "dmarc_strict_spf_refuses_subdomain", "strict.example", "mail.strict.example", PASS_,
      NULL, 0, 0, R(FAIL), P(REJECT), P(REJECT), false, false, "strict.example" },
    { "dmarc_strict_exact_match_passes", "strict.example", NULL, 0,
      "STRICT.example", PASS_, 0, R(PASS), P(REJECT), P(NONE), false, false, "strict.example" },
    { "dmarc_multiple_records_is_none", "multi.example", NULL, 0, NULL, 0, 0,
      R(NONE), P(NONE), P(NONE), false, false, "" },
    { "dmarc_no_record_is_none", "norecord.example", NULL, 0, NULL, 0, 0,
      R(NONE), P(NONE), P(NONE), false, false, "" },
    { "dmarc_dns_failure_is_temperror", "temp.example", NULL, 0, NULL, 0, 0,
      R(TEMPERROR), P(NONE), P(NONE), false, false, "" },
    { "dmarc_bad_record_is_permerror", "bad.example", NULL, 0, NULL, 0, 0,
      R(PERMERROR), P(NONE), P(NONE), false, false, "bad.example" },
    { "dmarc_version_is_case_sensitive", "lower.example", NULL, 0, NULL, 0, 0,
      R(NONE), P(NONE), P(NONE), false, false, "" },
    { "dmarc_aligned_dkim_temperror_is_temperror", "example.com", NULL, 0,
      "example.com", DMARC_AUTH_TEMPERROR, 0, R(TEMPERROR), P(REJECT), P(NONE), false, false,
      "example.com" },
    { "dmarc_non_dmarc_txt_falls_back_to_org", "x.example.com", NULL, 0, NULL, 0, 0,
      R(FAIL), P(REJECT), P(REJECT), true, false, "example.com" },
    { "dmarc_psl_two_level_suffix", "www.shop.co.uk", NULL, 0, "shop.co.uk", PASS_, 0,
      R(PASS), P(QUARANTINE), P(NONE), true, false, "shop.co.uk" },
};

static void eval_cases(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof ecases / sizeof ecases[0]; i++) {
        const ecase_t *c = &ecases[i];
        dmarc_dkim_in_t sig = { c->dkim_d, "s1", c->dkim };
        dmarc_input_t in = { .from_domain = c->from, .spf_domain = c->spf_domain,
                             .spf_result = c->spf, .dkim = &sig,
                             .ndkim = c->dkim_d ? 1 : 0, .sample = c->sample };
        dmarc_verdict_t v;
        assert_int_equal(dmarc_eval_run(ev, &in, &v), 0);
        if (v.result != c->result || (v.record_found && (v.policy != c->policy ||
            v.disposition != c->dis || v.used_sp != c->used_sp ||
            v.sampled_out != c->sampled_out)) ||
            strcmp(v.policy_domain, c->policy_domain) != 0)
            fail_msg("%s: result %s policy %s dis %s sp %d sampled %d at '%s' (%s)",
                     c->name, dmarc_result_name(v.result), dmarc_p_name(v.policy),
                     dmarc_p_name(v.disposition), v.used_sp, v.sampled_out,
                     v.policy_domain, v.reason);
    }
}

static void eval_any_aligned_signature_passes(void **state)
{
    dmarc_dkim_in_t sigs[] = {
        { "other.example", "a", DMARC_AUTH_PASS },
        { "example.com", "b", DMARC_AUTH_FAIL },
        { "news.example.com", "c", DMARC_AUTH_PASS },
    };
    dmarc_input_t in = { .from_domain = "example.com", .dkim = sigs, .ndkim = 3 };
    dmarc_verdict_t v;

    (void) state;
    dmarc_eval_run(ev, &in, &v);
    assert_int_equal(v.result, DMARC_RESULT_PASS);
    assert_true(v.dkim_aligned);
    assert_false(v.spf_aligned);
    assert_false(v.dkim_sig_aligned[0]);
    assert_false(v.dkim_sig_aligned[1]);
    assert_true(v.dkim_sig_aligned[2]);
    assert_string_equal(v.tags.rua, "mailto:d@example.com");
}

static int too_long_each_called;

static dmarc_src_status_t long_txt(void *arg, const char *name,
                                   dmarc_txt_each_fn each, void *cbarg)
{
    static char rec[DMARC_RECORD_MAX + 100];

    (void) arg; (void) name;
    too_long_each_called++;
    memset(rec, 'x', sizeof rec);
    memcpy(rec, "v=DMARC1; p=reject; x=", 22);
    each(cbarg, rec, sizeof rec);
    return DMARC_SRC_FOUND;
}

static void record_too_long_is_permerror(void **state)
{
    dmarc_source_t src = { long_txt, NULL };
    dmarc_record_t rec;

    (void) state;
    dmarc_record_discover(&src, psl, "example.com", &rec);
    assert_int_equal(rec.status, DMARC_REC_INVALID);
    assert_int_equal(too_long_each_called, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(psl_org_domains),
        cmocka_unit_test(psl_real_list_loads),
        cmocka_unit_test(eval_cases),
        cmocka_unit_test(eval_any_aligned_signature_passes),
        cmocka_unit_test(record_too_long_is_permerror),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
