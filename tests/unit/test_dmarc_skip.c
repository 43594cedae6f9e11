/*
 * test_dmarc_skip.c - which messages postern-dmarc leaves alone: our own
 * outbound mail (internal client, SASL login, originating daemon), with
 * the rules switched on and off by the [dmarc] skip_* keys.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "menv.h"

#include "dmarc_conf.h"
#include "dmarc_skip.h"

static dmarc_skip_t *skip_from(const char *text)
{
    char err[256];
    config_t *cfg = config_load_string("test.conf", text, dmarc_sections, err, sizeof(err));
    dmarc_skip_t *s;

    if (cfg == NULL)
        fail_msg("%s", err);
    s = dmarc_skip_new(cfg, err, sizeof(err));
    config_unref(cfg);         /* the skip rule keeps what it needs */
    if (s == NULL)
        fail_msg("%s", err);
    return s;
}

typedef struct scase {
    const char *ip;
    const char *auth;
    const char *dname;
    const char *want;           /* NULL: evaluated */
} scase_t;

static void run_cases(const dmarc_skip_t *s, const scase_t *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct sockaddr_in sin = { .sin_family = AF_INET };
        menv_t *e;
        const char *got;

        assert_int_equal(inet_pton(AF_INET, c[i].ip, &sin.sin_addr), 1);
        e = menv_new("client.example", (const struct sockaddr *) &sin);
        assert_non_null(e);
        menv_mail(e, "<a@example.com>", NULL, c[i].auth, c[i].dname);
        got = dmarc_skip_reason(s, e);
        if ((got == NULL) != (c[i].want == NULL) || (got && strcmp(got, c[i].want) != 0))
            fail_msg("case %zu (%s): want %s, got %s", i, c[i].ip,
                     c[i].want ? c[i].want : "evaluated", got ? got : "evaluated");
        menv_free(e);
    }
}

static void defaults_skip_internal_authenticated_and_originating(void **state)
{
    static const scase_t c[] = {
        { "10.1.2.3", NULL, NULL, "internal" },
        { "203.0.113.5", NULL, NULL, NULL },
        { "203.0.113.5", "alice", NULL, "authenticated" },
        { "203.0.113.5", "", NULL, NULL },              /* empty login is no login */
        { "203.0.113.5", NULL, "originating", "daemon" },
        { "203.0.113.5", NULL, "smtpd", NULL },
        { "10.9.9.9", NULL, NULL, NULL },               /* excluded from internal_hosts */
    };
    dmarc_skip_t *s = skip_from("[global]\ninternal_hosts = !10.9.0.0/16, 10.0.0.0/8\n");

    (void) state;
    run_cases(s, c, sizeof(c) / sizeof(c[0]));
    dmarc_skip_free(s);
}

static void rules_can_be_switched_off(void **state)
{
    static const scase_t c[] = {
        { "10.1.2.3", NULL, NULL, NULL },
        { "203.0.113.5", "alice", NULL, NULL },
        { "203.0.113.5", NULL, "ORIGINATING", NULL },
        { "203.0.113.5", NULL, "submission", "daemon" },
    };
    dmarc_skip_t *s = skip_from("[global]\ninternal_hosts = 10.0.0.0/8\n"
                                "[dmarc]\nskip_internal = no\nskip_authenticated = no\n"
                                "skip_daemons = submission\n");

    (void) state;
    run_cases(s, c, sizeof(c) / sizeof(c[0]));
    dmarc_skip_free(s);
}

static void bad_internal_hosts_is_an_error_naming_the_key(void **state)
{
    char err[256] = "";
    config_t *cfg = config_load_string("test.conf", "[global]\ninternal_hosts = 10.1.2.3/8\n",
                                       dmarc_sections, err, sizeof(err));

    (void) state;
    if (cfg == NULL) {      /* refused when the file is read: fine too */
        assert_non_null(strstr(err, "internal_hosts"));
        return;
    }
    assert_null(dmarc_skip_new(cfg, err, sizeof(err)));
    assert_non_null(strstr(err, "internal_hosts"));
    config_unref(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_skip_internal_authenticated_and_originating),
        cmocka_unit_test(rules_can_be_switched_off),
        cmocka_unit_test(bad_internal_hosts_is_an_error_naming_the_key),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
