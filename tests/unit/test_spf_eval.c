/*
 * test_spf_eval.c - SPF evaluation through the in-memory zone: a table
 * of records and clients with the result each must give, the RFC 7208
 * limits, the time limit, hostile records, and the macro expander.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "spf_eval.h"
#include "spf_macro.h"
#include "spf_record.h"
#include "spf_zone.h"

typedef struct rr {
    const char *name;
    spf_zone_kind_t kind;
    const char *data;
} rr_t;

static const rr_t zone_data[] = {
    { "pass.example", SPF_ZONE_TXT, "v=spf1 ip4:192.0.2.0/24 -all" },
    { "soft.example", SPF_ZONE_TXT, "v=spf1 ~all" },
    { "neutral.example", SPF_ZONE_TXT, "v=spf1 ?all" },
    { "noall.example", SPF_ZONE_TXT, "v=spf1 ip4:203.0.113.1" },
    { "v6.example", SPF_ZONE_TXT, "v=spf1 ip6:2001:db8::/32 a -all" },
    { "v6.example", SPF_ZONE_AAAA, "2001:db8:ffff::1" },
    { "a.example", SPF_ZONE_TXT, "v=spf1 a/24 -all" },
    { "a.example", SPF_ZONE_A, "198.51.100.7" },
    { "mx.example", SPF_ZONE_TXT, "v=spf1 mx -all" },
    { "mx.example", SPF_ZONE_MX, "mail.mx.example" },
    { "mail.mx.example", SPF_ZONE_A, "198.51.100.25" },
    { "inc.example", SPF_ZONE_TXT, "v=spf1 include:pass.example -all" },
    { "incnone.example", SPF_ZONE_TXT, "v=spf1 include:nothing.example -all" },
    { "redir.example", SPF_ZONE_TXT, "v=spf1 redirect=pass.example" },
    { "two.example", SPF_ZONE_TXT, "v=spf1 -all" },
    { "two.example", SPF_ZONE_TXT, "v=spf1 +all" },
    { "other.example", SPF_ZONE_TXT, "google-site-verification=abc" },
    { "bad.example", SPF_ZONE_TXT, "v=spf1 ip4:192.0.2.300 -all" },
    { "badmech.example", SPF_ZONE_TXT, "v=spf1 foo:bar -all" },
    { "slow.example", SPF_ZONE_TIMEOUT, NULL },
    { "slowa.example", SPF_ZONE_TXT, "v=spf1 a:slow.example -all" },
    { "exists.example", SPF_ZONE_TXT, "v=spf1 exists:%{ir}.in.exists.example -all" },
    { "1.2.0.192.in.exists.example", SPF_ZONE_A, "127.0.0.2" },
    { "void.example", SPF_ZONE_TXT, "v=spf1 a:n1.example a:n2.example a:n3.example +all" },
    { "exp.example", SPF_ZONE_TXT, "v=spf1 -all exp=why.exp.example" },
    { "why.exp.example", SPF_ZONE_TXT, "%{i} may not send for %{d}" },
    /* eleven DNS-querying terms */
    { "many.example", SPF_ZONE_TXT,
      "v=spf1 a:h.example a:h.example a:h.example a:h.example a:h.example a:h.example"
      " a:h.example a:h.example a:h.example a:h.example a:h.example +all" },
    { "h.example", SPF_ZONE_A, "203.0.113.9" },
    { "loop.example", SPF_ZONE_TXT, "v=spf1 include:loop.example -all" },
    /* hostile: a huge macro transformer, nested delimiters, long labels */
    { "hostile.example", SPF_ZONE_TXT,
      "v=spf1 exists:%{l99999999999r.-+,/_=}.%{d} -all" },
    { "hostile2.example", SPF_ZONE_TXT, "v=spf1 a:%{s}%{s}%{s}%{s}%{s}%{s}%{s}.example -all" },
    { NULL, SPF_ZONE_TXT, NULL }
};

typedef struct ecase {
    const char *ip, *from;
    spf_result_t want;
} ecase_t;

static const ecase_t cases[] = {
    { "192.0.2.1", "a@pass.example", SPF_RESULT_PASS },
    { "198.51.100.1", "a@pass.example", SPF_RESULT_FAIL },
    { "::ffff:192.0.2.9", "a@pass.example", SPF_RESULT_PASS },
    { "198.51.100.1", "a@soft.example", SPF_RESULT_SOFTFAIL },
    { "198.51.100.1", "a@neutral.example", SPF_RESULT_NEUTRAL },
    { "198.51.100.1", "a@noall.example", SPF_RESULT_NEUTRAL },
    { "198.51.100.1", "a@nothing.example", SPF_RESULT_NONE },
    { "198.51.100.1", "a@other.example", SPF_RESULT_NONE },
    { "2001:db8:1::5", "a@v6.example", SPF_RESULT_PASS },
    { "2001:db8:ffff::1", "a@v6.example", SPF_RESULT_PASS },
    { "2001:dead::1", "a@v6.example", SPF_RESULT_FAIL },
    { "198.51.100.200", "a@a.example", SPF_RESULT_PASS },
    { "198.51.101.1", "a@a.example", SPF_RESULT_FAIL },
    { "198.51.100.25", "a@mx.example", SPF_RESULT_PASS },
    { "198.51.100.26", "a@mx.example", SPF_RESULT_FAIL },
    { "192.0.2.1", "a@inc.example", SPF_RESULT_PASS },
    { "198.51.100.1", "a@inc.example", SPF_RESULT_FAIL },
    { "192.0.2.1", "a@incnone.example", SPF_RESULT_PERMERROR },
    { "192.0.2.1", "a@redir.example", SPF_RESULT_PASS },
    { "192.0.2.1", "a@two.example", SPF_RESULT_PERMERROR },
    { "192.0.2.1", "a@bad.example", SPF_RESULT_PERMERROR },
    { "192.0.2.1", "a@badmech.example", SPF_RESULT_PERMERROR },
    { "192.0.2.1", "a@slow.example", SPF_RESULT_TEMPERROR },
    { "192.0.2.1", "a@slowa.example", SPF_RESULT_TEMPERROR },
    { "192.0.2.1", "a@exists.example", SPF_RESULT_PASS },
    { "192.0.2.2", "a@exists.example", SPF_RESULT_FAIL },
    { "192.0.2.1", "a@void.example", SPF_RESULT_PERMERROR },
    { "192.0.2.1", "a@many.example", SPF_RESULT_PERMERROR },
    { "192.0.2.1", "a@loop.example", SPF_RESULT_PERMERROR },
    { "192.0.2.1", "a@hostile.example", SPF_RESULT_PERMERROR },
    { "192.0.2.1", "a@hostile2.example", SPF_RESULT_FAIL },
    { "192.0.2.1", "a@bad..label.example", SPF_RESULT_NONE },
    { "not-an-ip", "a@pass.example", SPF_RESULT_PERMERROR },
};

static spf_zone_t *zone;
static spf_eval_t *ev;

static int setup(void **state)
{
    spf_dns_source_t src;
    spf_eval_opts_t o = { .receiver = "mx.test", .time_limit_ms = 2000 };
    char err[128];

    (void) state;
    zone = spf_zone_new();
    for (const rr_t *r = zone_data; r->name != NULL; r++)
        if (spf_zone_add(zone, r->name, r->kind, r->data, r->data ? strlen(r->data) : 0) < 0)
            return -1;
    spf_zone_source(zone, &src);
    ev = spf_eval_new(&o, &src, err, sizeof(err));
    return ev == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void) state;
    spf_eval_free(ev);
    spf_zone_free(zone);
    return 0;
}

static void table_of_records_gives_the_expected_results(void **state)
{
    spf_verdict_t v;

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        spf_eval_mailfrom(ev, cases[i].ip, "helo.test", cases[i].from, &v);
        if (v.result != cases[i].want)
            fail_msg("%s from %s: want %s, got %s (%s)", cases[i].from, cases[i].ip,
                     spf_result_name(cases[i].want), spf_result_name(v.result), v.reason);
    }
}

static void fail_carries_the_expanded_explanation_and_mechanism(void **state)
{
    spf_verdict_t v;

    (void) state;
    assert_int_equal(spf_eval_mailfrom(ev, "192.0.2.7", "h.test", "x@exp.example", &v),
                     SPF_RESULT_FAIL);
    assert_string_equal(v.explanation, "192.0.2.7 may not send for exp.example");
    assert_string_equal(v.mechanism, "-all");
    assert_string_equal(v.sender, "x@exp.example");
}

static void null_sender_checks_postmaster_at_helo(void **state)
{
    spf_verdict_t v;

    (void) state;
    assert_int_equal(spf_eval_mailfrom(ev, "192.0.2.1", "pass.example", "", &v),
                     SPF_RESULT_PASS);
    assert_int_equal(v.identity, SPF_ID_HELO);
    assert_string_equal(v.sender, "postmaster@pass.example");
    assert_int_equal(spf_eval_helo(ev, "198.51.100.1", "soft.example", &v),
                     SPF_RESULT_SOFTFAIL);
    /* a HELO that is no domain name has no SPF (section 4.3) */
    assert_int_equal(spf_eval_helo(ev, "198.51.100.1", "[192.0.2.1]", &v), SPF_RESULT_NONE);
}

static void lookup_limits_stop_counting_at_eleven_terms(void **state)
{
    spf_verdict_t v;

    (void) state;
    spf_eval_mailfrom(ev, "192.0.2.1", "h.test", "a@many.example", &v);
    assert_int_equal(v.result, SPF_RESULT_PERMERROR);
    assert_int_equal(v.dns_terms, 11);
    spf_eval_mailfrom(ev, "192.0.2.1", "h.test", "a@void.example", &v);
    assert_int_equal(v.void_lookups, 3);
    assert_non_null(strstr(v.reason, "void"));
}

/* A DNS source that answers from the zone after 3 ms, like a slow server. */
static spf_dns_status_t slow_query(void *ctx, const char *name, spf_rrtype_t type,
                                   int timeout_ms, spf_answer_t *out)
{
    spf_dns_source_t src;
    struct timespec ms3 = { 0, 3000000 };

    nanosleep(&ms3, NULL);
    spf_zone_source(ctx, &src);
    return src.query(src.ctx, name, type, timeout_ms, out);
}

static void time_limit_turns_into_temperror(void **state)
{
    spf_dns_source_t src = { slow_query, NULL };
    spf_eval_opts_t o = { .time_limit_ms = 10 };
    spf_verdict_t v;
    char err[64];
    spf_eval_t *tight;

    (void) state;
    src.ctx = zone;
    tight = spf_eval_new(&o, &src, err, sizeof(err));
    assert_non_null(tight);
    /* eleven lookups of 3 ms cannot fit in 10 ms */
    spf_eval_mailfrom(tight, "192.0.2.1", "h.test", "a@many.example", &v);
    assert_int_equal(v.result, SPF_RESULT_TEMPERROR);
    assert_non_null(strstr(v.reason, "time limit"));
    assert_true(v.queries < 6);
    spf_eval_free(tight);
}

typedef struct mcase {
    const char *in, *want;      /* want NULL: syntax error */
} mcase_t;

static void macros_expand_as_rfc7208_section_7_4(void **state)
{
    static const mcase_t mc[] = {
        { "%{s}", "strong-bad@email.example.com" },
        { "%{o}", "email.example.com" },
        { "%{d}", "email.example.com" },
        { "%{d4}", "email.example.com" },
        { "%{d3}", "email.example.com" },
        { "%{d2}", "example.com" },
        { "%{d1}", "com" },
        { "%{dr}", "com.example.email" },
        { "%{d2r}", "example.email" },
        { "%{l}", "strong-bad" },
        { "%{l-}", "strong.bad" },
        { "%{lr}", "strong-bad" },
        { "%{lr-}", "bad.strong" },
        { "%{l1r-}", "strong" },
        { "%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com" },
        { "%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com" },
        { "%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net" },
        { "%%%_%-x.example.com", "% %20x.example.com" },
        { "%{L}.example.com", "strong-bad.example.com" },
        { "%{d0}.example.com", NULL },
        { "%{x}.example.com", NULL },
        { "%{c}.example.com", NULL },
        { "%{d", NULL },
        { "a%b.example.com", NULL },
        { "example", NULL },
        { "foo.example.123", NULL },
    };
    spf_macro_env_t env = {
        .sender = "strong-bad@email.example.com", .local = "strong-bad",
        .sender_domain = "email.example.com", .domain = "email.example.com",
        .ip = "192.0.2.3", .client = "192.0.2.3", .helo = "h.example.com",
    };
    char out[600], err[128];

    (void) state;
    for (size_t i = 0; i < sizeof(mc) / sizeof(mc[0]); i++) {
        int n = spf_macro_expand(&env, mc[i].in, strlen(mc[i].in), SPF_MACRO_DOMAIN, out,
                                 sizeof(out), err, sizeof(err));
        if (mc[i].want == NULL && n >= 0)
            fail_msg("%s: want an error, got \"%s\"", mc[i].in, out);
        if (mc[i].want != NULL && (n < 0 || strcmp(out, mc[i].want) != 0))
            fail_msg("%s: want \"%s\", got \"%s\" (%s)", mc[i].in, mc[i].want,
                     n < 0 ? "" : out, n < 0 ? err : "");
    }
}

static void long_expansions_lose_labels_on_the_left(void **state)
{
    char local[64], out[1024], err[64];
    spf_macro_env_t env = { .domain = "example.com" };
    int n;

    (void) state;
    memset(local, 'a', 60);
    local[60] = '\0';
    env.local = local;
    const char *spec = "%{l}.%{l}.%{l}.%{l}.%{l}.example.com";

    n = spf_macro_expand(&env, spec, strlen(spec), SPF_MACRO_DOMAIN, out, sizeof(out), err,
                         sizeof(err));
    assert_true(n > 0 && n <= 253);
    assert_non_null(strstr(out, ".example.com"));
    assert_int_not_equal(out[0], '.');
}

static void records_with_bad_syntax_are_refused_whole(void **state)
{
    static const char *const bad[] = {
        "v=spf1 a:example.com/33", "v=spf1 ip6:2001:db8::/129", "v=spf1 -all\x01",
        "v=spf1 redirect=a.example redirect=b.example", "v=spf1 exp=a.example exp=b.example",
        "v=spf1 all:foo", "v=spf1 include", "v=spf1 mx:example.com/024", "v=spf1 ip4:1.2.3",
        "v=spf1 a:%{z}.example", "v=spf1 unknown=%{q}",
    };
    static const char *const good[] = {
        "v=spf1", "v=spf1 ", "V=SPF1 -ALL", "v=spf1 a/24//64 mx:x.example/0 ptr ?all",
        "v=spf1 ip6:::1 ip4:0.0.0.0/0 exists:%{i}.x.example foo=bar",
    };
    spf_record_t *r;
    char err[128];

    (void) state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (spf_record_parse(bad[i], strlen(bad[i]), &r, err, sizeof(err)) == 0)
            fail_msg("accepted: %s", bad[i]);
        assert_null(r);
    }
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        if (spf_record_parse(good[i], strlen(good[i]), &r, err, sizeof(err)) < 0)
            fail_msg("refused: %s (%s)", good[i], err);
        spf_record_free(r);
    }
    assert_false(spf_record_is_spf("v=spf10 -all", 12));
    /* a NUL inside the record is not SPF text */
    assert_int_equal(spf_record_parse("v=spf1 -all\0+all", 16, &r, err, sizeof(err)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_of_records_gives_the_expected_results),
        cmocka_unit_test(fail_carries_the_expanded_explanation_and_mechanism),
        cmocka_unit_test(null_sender_checks_postmaster_at_helo),
        cmocka_unit_test(lookup_limits_stop_counting_at_eleven_terms),
        cmocka_unit_test(time_limit_turns_into_temperror),
        cmocka_unit_test(macros_expand_as_rfc7208_section_7_4),
        cmocka_unit_test(long_expansions_lose_labels_on_the_left),
        cmocka_unit_test(records_with_bad_syntax_are_refused_whole),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
