/*
 * test_dmarc_policy.c - local policy over verdicts: RFC 7489 6.6.1 for
 * missing, malformed and multiple authors, the action for each outcome,
 * never-reject domains, trusted forwarders, monitor mode, the 550 reply
 * and the Authentication-Results value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "mact.h"

#include "dmarc_audit.h"
#include "dmarc_conf.h"
#include "dmarc_eval.h"
#include "dmarc_policy.h"
#include "dmarc_psl.h"

static const char psl_text[] = "com\nexample\n";

static dmarc_src_status_t mem_txt(void *arg, const char *name,
                                  dmarc_txt_each_fn each, void *cbarg)
{
    static const char *const zone[][2] = {
        { "_dmarc.reject.example", "v=DMARC1; p=reject" },
        { "_dmarc.quar.example", "v=DMARC1; p=quarantine" },
        { "_dmarc.none.example", "v=DMARC1; p=none" },
    };
    (void) arg;
    if (strcmp(name, "_dmarc.temp.example") == 0)
        return DMARC_SRC_TEMPFAIL;
    for (size_t i = 0; i < sizeof zone / sizeof zone[0]; i++)
        if (strcmp(zone[i][0], name) == 0) {
            each(cbarg, zone[i][1], strlen(zone[i][1]));
            return DMARC_SRC_FOUND;
        }
    return DMARC_SRC_NONE;
}

static dmarc_psl_t *psl;
static dmarc_eval_t *ev;

static int setup(void **state)
{
    char err[256];
    dmarc_source_t src = { mem_txt, NULL };

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

static dmarc_policy_t *policy(const char *keys)
{
    char text[1024], err[256];

    snprintf(text, sizeof text, "[dmarc]\nsocket = unix:/tmp/x.sock\n%s", keys);
    config_t *cfg = config_load_string("test.conf", text, dmarc_sections, err, sizeof err);
    if (cfg == NULL)
        fail_msg("%s", err);
    dmarc_policy_t *pol = dmarc_policy_new(cfg, err, sizeof err);
    if (pol == NULL)
        fail_msg("%s", err);
    config_unref(cfg);
    return pol;
}

/* One message: its From values, checked with nothing authenticated. */
static void check(const dmarc_policy_t *pol, const char *const *from, size_t n,
                  const char *client, dmarc_outcome_t *o)
{
    size_t lens[4];
    dmarc_authors_t au;
    dmarc_input_t in = { .sample = 0 };

    for (size_t i = 0; i < n; i++)
        lens[i] = strlen(from[i]);
    dmarc_authors_collect(from, lens, n, &au);
    assert_int_equal(dmarc_policy_check(pol, ev, &au, &in, client, o), 0);
}

typedef struct pcase {
    const char *name, *keys;
    const char *from[2];
    size_t nfrom;
    const char *client;
    mact_t action, applied;
    dmarc_p_t dis;
    const char *override;
} pcase_t;

#define A(x) MACT_##x
#define D(x) DMARC_P_##x

static const pcase_t pcases[] = {
    { "reject_policy_rejects", "", { "a@reject.example" }, 1, "192.0.2.1",
      A(REJECT), A(REJECT), D(REJECT), NULL },
    { "quarantine_policy_holds", "", { "a@quar.example" }, 1, NULL,
      A(QUARANTINE), A(QUARANTINE), D(QUARANTINE), NULL },
    { "quarantine_can_tag_instead", "on_quarantine = tag\n", { "a@quar.example" }, 1, NULL,
      A(TAG), A(TAG), D(QUARANTINE), NULL },
    { "none_policy_reports_only", "", { "a@none.example" }, 1, NULL,
      A(ACCEPT), A(ACCEPT), D(NONE), NULL },
    { "no_record_accepts", "", { "a@norecord.example" }, 1, NULL,
      A(ACCEPT), A(ACCEPT), D(NONE), NULL },
    { "dns_failure_tempfails", "", { "a@temp.example" }, 1, NULL,
      A(TEMPFAIL), A(TEMPFAIL), D(NONE), NULL },
    { "dns_failure_action_configurable", "on_temperror = accept\n", { "a@temp.example" }, 1,
      NULL, A(ACCEPT), A(ACCEPT), D(NONE), NULL },
    { "monitor_mode_changes_nothing", "mode = monitor\n", { "a@reject.example" }, 1, NULL,
      A(REJECT), A(ACCEPT), D(NONE), NULL },
    { "never_reject_domain_accepts", "never_reject_domains = reject.example\n",
      { "a@reject.example" }, 1, NULL, A(ACCEPT), A(ACCEPT), D(NONE), "local_policy" },
    { "trusted_forwarder_accepts", "trusted_forwarders = 192.0.2.0/24\n",
      { "a@reject.example" }, 1, "192.0.2.7", A(ACCEPT), A(ACCEPT), D(NONE),
      "trusted_forwarder" },
    { "untrusted_client_still_rejected", "trusted_forwarders = 192.0.2.0/24\n",
      { "a@reject.example" }, 1, "198.51.100.7", A(REJECT), A(REJECT), D(REJECT), NULL },
    { "two_addresses_rejected", "", { "a@none.example, b@none.example" }, 1, NULL,
      A(REJECT), A(REJECT), D(REJECT), NULL },
    { "two_from_fields_rejected", "", { "a@none.example", "b@none.example" }, 2, NULL,
      A(REJECT), A(REJECT), D(REJECT), NULL },
    { "two_addresses_tempfail_configurable", "on_multi_from = tempfail\n",
      { "a@none.example, b@none.example" }, 1, NULL, A(TEMPFAIL), A(TEMPFAIL), D(NONE), NULL },
    { "two_addresses_evaluated_strictest", "on_multi_from = evaluate\n",
      { "a@none.example, b@reject.example" }, 1, NULL, A(REJECT), A(REJECT), D(REJECT), NULL },
    { "no_from_rejected", "", { NULL }, 0, NULL, A(REJECT), A(REJECT), D(REJECT), NULL },
    { "empty_group_from_rejected", "", { "undisclosed:;" }, 1, NULL,
      A(REJECT), A(REJECT), D(REJECT), NULL },
    { "bad_from_configurable", "on_bad_from = tempfail\n", { "a@[192.0.2.1]" }, 1, NULL,
      A(TEMPFAIL), A(TEMPFAIL), D(NONE), NULL },
};

static void policy_cases(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof pcases / sizeof pcases[0]; i++) {
        const pcase_t *c = &pcases[i];
        dmarc_policy_t *pol = policy(c->keys);
        dmarc_outcome_t o;
        check(pol, c->from, c->nfrom, c->client, &o);
        if (o.action.action != c->action || o.action.applied != c->applied ||
            o.action.dis != c->dis ||
            (c->override == NULL) != (o.action.override == NULL) ||
            (c->override && strcmp(c->override, o.action.override) != 0))
            fail_msg("%s: action %s applied %s dis %s override %s (%s)", c->name,
                     mact_name(o.action.action), mact_name(o.action.applied),
                     dmarc_p_name(o.action.dis),
                     o.action.override ? o.action.override : "-", o.reason);
        dmarc_policy_free(pol);
    }
}

static void reject_reply_names_the_domain(void **state)
{
    dmarc_policy_t *pol = policy("");
    const char *from[] = { "Ann <ann@reject.example>" };
    dmarc_outcome_t o;

    (void) state;
    check(pol, from, 1, NULL, &o);
    assert_string_equal(o.action.reply.rcode, "550");
    assert_string_equal(o.action.reply.xcode, "5.7.1");
    assert_non_null(strstr(o.action.reply.text, "reject.example"));
    dmarc_policy_free(pol);
}

static void authres_value_has_policy_and_disposition(void **state)
{
    dmarc_policy_t *pol = policy("");
    const char *from[] = { "ann@reject.example" };
    const char *none[] = { "ann@norecord.example" };
    dmarc_outcome_t o;
    char buf[512];

    (void) state;
    check(pol, from, 1, NULL, &o);
    assert_true(dmarc_policy_authres(&o, "mx.test", buf, sizeof buf) > 0);
    assert_non_null(strstr(buf, "mx.test;"));
    assert_non_null(strstr(buf, "dmarc=fail (p=reject dis=reject) header.from=reject.example"));
    check(pol, none, 1, NULL, &o);
    assert_true(dmarc_policy_authres(&o, "mx.test", buf, sizeof buf) > 0);
    assert_non_null(strstr(buf, "dmarc=none header.from=norecord.example"));
    assert_int_equal(dmarc_policy_authres(&o, "mx.test", buf, 10), -1);
    dmarc_policy_free(pol);
}

static void bad_trusted_network_is_a_config_error(void **state)
{
    char err[256];
    config_t *cfg = config_load_string("t.conf",
        "[dmarc]\nsocket = unix:/x\ntrusted_forwarders = 300.1.1.1/8\n",
        dmarc_sections, err, sizeof err);

    (void) state;
    assert_non_null(cfg);
    assert_null(dmarc_policy_new(cfg, err, sizeof err));
    config_unref(cfg);
}

static void audit_extra_has_every_input(void **state)
{
    dmarc_policy_t *pol = policy("trusted_forwarders = 192.0.2.0/24\n");
    const char *from[] = { "Ann <ann@reject.example>" };
    size_t len = strlen(from[0]);
    dmarc_dkim_in_t sigs[] = { { "other.example", "s1", DMARC_AUTH_PASS },
                               { "reject.example", "s2", DMARC_AUTH_FAIL } };
    dmarc_input_t in = { .spf_domain = "bounce.other.example", .spf_result = DMARC_AUTH_PASS,
                         .dkim = sigs, .ndkim = 2, .sample = 0 };
    dmarc_authors_t au;
    dmarc_outcome_t o;
    char line[512];

    (void) state;
    dmarc_authors_collect(from, &len, 1, &au);
    assert_int_equal(dmarc_policy_check(pol, ev, &au, &in, "192.0.2.9", &o), 0);
    json_t *x = dmarc_audit_extra(&o, &in);
    assert_non_null(x);
    char *text = json_dumps(x, JSON_COMPACT);
    static const char *const want[] = {
        "\"authors\":\"one\"", "\"header_from\":\"reject.example\"",
        "\"domain\":\"bounce.other.example\"", "\"scope\":\"mfrom\"",
        "\"selector\":\"s2\"", "\"result\":\"fail\"", "\"p\":\"reject\"",
        "\"action\":\"accept\"", "\"override\":\"trusted_forwarder\"",
        "\"found\":true",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (strstr(text, want[i]) == NULL)
            fail_msg("no %s in %s", want[i], text);
    free(text);
    json_decref(x);
    assert_true(dmarc_audit_line(&o, line, sizeof line) > 0);
    assert_non_null(strstr(line, "dmarc: reject.example fail p=reject dis=none action=accept "
                                 "override=trusted_forwarder"));
    assert_int_equal(dmarc_audit_line(&o, line, 10), 9);
    const char *none[] = { "a@x.example, b@y.example" };
    len = strlen(none[0]);
    dmarc_authors_collect(none, &len, 1, &au);
    dmarc_policy_check(pol, ev, &au, &in, NULL, &o);
    assert_string_equal(dmarc_audit_result(&o), "multi-from");
    dmarc_policy_free(pol);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(policy_cases),
        cmocka_unit_test(reject_reply_names_the_domain),
        cmocka_unit_test(authres_value_has_policy_and_disposition),
        cmocka_unit_test(bad_trusted_network_is_a_config_error),
        cmocka_unit_test(audit_extra_has_every_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
