/*
 * test_dkim_state.c - the state postern-dkim builds from a config: the
 * [dkim] keys reach the key table, the policy and the engine, and every
 * bad setting stops the build with a message that names it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

#include "dkim_conf.h"
#include "dkim_state.h"

#include "dkim_testdir.h"

static char tmpdir[64];

static int setup(void **state)
{
    const char *d = getenv("POSTERN_TEST_DATA");
    char cmd[2048];

    (void) state;
    assert_int_equal(dkim_testdir_new(tmpdir, sizeof(tmpdir), "dkimstate"), 0);
    snprintf(cmd, sizeof(cmd), "cp %s/dkim/rsa2048.pem %s/dkim/ed25519.pem %s/ && chmod 600 %s/*.pem"
             " && cp %s/rsa2048.pem %s/open.pem && chmod 644 %s/open.pem",
             d ? d : "tests/data", d ? d : "tests/data", tmpdir, tmpdir, tmpdir, tmpdir, tmpdir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static int teardown(void **state)
{
    (void) state;
    return dkim_testdir_remove(tmpdir);
}

/* Builds a state from [dkim] lines EXTRA and a key table TABLE ("" for
 * none; "KEYDIR" stands for the temp dir). */
static dkim_state_t *build(const char *extra, const char *table, char *err, size_t errlen)
{
    static const conf_section_t *const sections[] = { &conf_global_section, &dkim_conf_section,
                                                      NULL };
    char text[4096], tpath[128], t[1024] = "";
    const char *k;
    config_t *cfg;
    dkim_state_t *st;

    snprintf(tpath, sizeof(tpath), "%s/keytable", tmpdir);
    while ((k = strstr(table, "KEYDIR")) != NULL) {
        snprintf(t + strlen(t), sizeof(t) - strlen(t), "%.*s%s", (int) (k - table), table,
                 tmpdir);
        table = k + 6;
    }
    snprintf(t + strlen(t), sizeof(t) - strlen(t), "%s", table);
    FILE *fp = fopen(tpath, "w");
    fputs(t, fp);
    fclose(fp);
    snprintf(text, sizeof(text), "[global]\nauthserv_id = mx.test\naudit_log =\n"
             "internal_hosts = 10.0.0.0/8\n[dkim]\nsocket = unix:/tmp/x.sock\n"
             "keytable = %s\n%s", t[0] ? tpath : "", extra);
    cfg = config_load_string("test.conf", text, sections, err, errlen);
    assert_non_null(cfg);
    st = dkim_state_new_with(cfg, NULL, NULL, err, errlen);
    config_unref(cfg);
    return st;
}

static void config_reaches_keys_policy_and_selection(void **state)
{
    char err[512];
    dkim_state_t *st = build("on_fail = reject\non_temperror = tempfail\nmode = monitor\n"
                             "sign_daemons = ORIGINATING, submission\nmax_headers = 50\n",
                             "example.com rsa1 KEYDIR/rsa2048.pem\n"
                             "example.com ed1 KEYDIR/ed25519.pem\n", err, sizeof(err));
    const dkim_key_t *k[4];

    (void) state;
    if (st == NULL)
        fail_msg("%s", err);
    assert_int_equal(dkim_keys_find(st->keys, "example.com", k, 4), 2);
    assert_int_equal(k[1]->alg, DKIM_KEY_ED25519);
    assert_int_equal(st->policy.on_fail, MACT_REJECT);
    assert_int_equal(st->policy.on_temperror, MACT_TEMPFAIL);
    assert_int_equal(st->on_sign_error, MACT_TEMPFAIL);
    assert_true(st->monitor);
    assert_int_equal(st->select.nsign_daemons, 2);
    assert_true(netlist_match_str(st->internal, "10.1.2.3"));
    assert_false(netlist_match_str(st->internal, "127.0.0.1"));
    assert_string_equal(st->authserv_id, "mx.test");
    assert_int_equal(st->max_headers, 50);
    dkim_state_free(st);
}

static void defaults_report_only_and_verify_without_keys(void **state)
{
    char err[512];
    dkim_state_t *st = build("", "", err, sizeof(err));
    const dkim_key_t *k[4];

    (void) state;
    assert_non_null(st);
    assert_int_equal(dkim_keys_count(st->keys), 0);
    assert_int_equal(dkim_keys_find(st->keys, "example.com", k, 4), 0);
    assert_int_equal(st->policy.on_fail, MACT_ACCEPT);
    assert_int_equal(st->policy.on_temperror, MACT_ACCEPT);
    assert_false(st->monitor);
    assert_true(st->select.sign_internal && st->select.sign_authenticated);
    dkim_state_free(st);
}

static void bad_settings_stop_the_build_and_say_why(void **state)
{
    static const struct {
        const char *extra, *table, *why;
    } cases[] = {
        { "", "example.com s1 KEYDIR/open.pem\n", "chmod 600" },
        { "", "example.com s1 KEYDIR/missing.pem\n", "missing.pem" },
        { "sign_headers = from, received\n", "", "sign_headers" },
        { "oversign_headers = x y(z)\n", "", "oversign_headers" },
    };
    char err[512];

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err[0] = '\0';
        assert_null(build(cases[i].extra, cases[i].table, err, sizeof(err)));
        if (strstr(err, cases[i].why) == NULL)
            fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].why);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config_reaches_keys_policy_and_selection),
        cmocka_unit_test(defaults_report_only_and_verify_without_keys),
        cmocka_unit_test(bad_settings_stop_the_build_and_say_why),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
