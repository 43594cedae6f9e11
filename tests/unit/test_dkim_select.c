/*
 * test_dkim_select.c - sign or verify from what the MTA told us, the
 * From domain that picks the key, and the header lists: tables of cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dkim_hdrlist.h"
#include "dkim_select.h"

static void role_follows_internal_auth_and_daemon_name(void **state)
{
    static const char *const daemons[] = { "ORIGINATING", "submission" };
    static const struct {
        bool sign_internal, sign_auth;
        size_t ndaemons;
        bool internal;
        const char *auth, *dname;
        dkim_role_t want;
        const char *why;
    } cases[] = {
        { true, true, 2, false, NULL, NULL, DKIM_ROLE_VERIFY, "inbound" },
        { true, true, 2, true, NULL, NULL, DKIM_ROLE_SIGN, "internal" },
        { false, true, 2, true, NULL, NULL, DKIM_ROLE_VERIFY, "inbound" },
        { true, true, 2, false, "alice", NULL, DKIM_ROLE_SIGN, "authenticated" },
        { true, true, 2, false, "", NULL, DKIM_ROLE_VERIFY, "inbound" },
        { true, false, 2, false, "alice", NULL, DKIM_ROLE_VERIFY, "inbound" },
        { true, true, 2, false, NULL, "originating", DKIM_ROLE_SIGN, "daemon" },
        { true, true, 2, false, NULL, "Submission", DKIM_ROLE_SIGN, "daemon" },
        { true, true, 2, false, NULL, "smtpd", DKIM_ROLE_VERIFY, "inbound" },
        { true, true, 0, false, NULL, "ORIGINATING", DKIM_ROLE_VERIFY, "inbound" },
        { true, true, 2, false, NULL, "", DKIM_ROLE_VERIFY, "inbound" },
        { true, true, 2, true, "bob", "ORIGINATING", DKIM_ROLE_SIGN, "internal" },
    };

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        dkim_select_policy_t p = { cases[i].sign_internal, cases[i].sign_auth, daemons,
                                   cases[i].ndaemons };
        dkim_select_in_t in = { cases[i].internal, cases[i].auth, cases[i].dname };
        const char *why = NULL;

        assert_int_equal(dkim_select_role(&in, &p, &why), cases[i].want);
        assert_string_equal(why, cases[i].why);
    }
}

static void from_domain_takes_the_one_address(void **state)
{
    static const struct {
        const char *from;
        const char *want;       /* NULL: refused */
    } cases[] = {
        { "alice@example.com", "example.com" },
        { "Alice <alice@Example.COM>", "example.com" },
        { "\"Smith, Alice\" <alice@mail.example.com>", "mail.example.com" },
        { "alice@example.com (Alice at work)", "example.com" },
        { "\"a@b\" <c@d.example>", "d.example" },
        { "(x@evil.example) alice@example.com", "example.com" },
        { "\"quoted local\"@example.org", "example.org" },
        { "  alice@example.com\r\n ", "example.com" },
        { "a@one.example, b@two.example", NULL },
        { "undisclosed:;", NULL },
        { "no address here", NULL },
        { "<>", NULL },
        { "alice@", NULL },
        { "@example.com", NULL },
        { "alice@exa mple.com", "example.com" },     /* FWS is removed */
        { "alice@example..com", NULL },
        { "alice@example.com>", NULL },
        { "<alice@example.com", NULL },
        { "\"unterminated <a@b.c>", NULL },
        { "(unterminated a@b.c", NULL },
        { "a <b@c.example> <d@e.example>", NULL },
        { "alice@exam/ple.com", NULL },
        { "", NULL },
    };
    char out[254];

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = dkim_from_domain(cases[i].from, strlen(cases[i].from), out, sizeof(out));

        if (cases[i].want == NULL) {
            if (rc == 0)
                fail_msg("case %zu: '%s' gave '%s'", i, cases[i].from, out);
        } else {
            if (rc != 0)
                fail_msg("case %zu: '%s' refused", i, cases[i].from);
            assert_string_equal(out, cases[i].want);
        }
    }
}

static void from_domain_refuses_overlong_input(void **state)
{
    char big[DKIM_FROM_MAX + 100], out[254];

    (void) state;
    memset(big, 'a', sizeof(big));
    memcpy(big + sizeof(big) - 12, "@example.com", 12);
    assert_int_equal(dkim_from_domain(big, sizeof(big), out, sizeof(out)), -1);
    assert_int_equal(dkim_from_domain("a@example.com", 13, out, 5), -1);
}

static void header_lists_are_checked_and_normalised(void **state)
{
    static const struct {
        const char *sign[4];
        const char *over[4];
        bool ok;
        const char *want_signed;    /* comma-joined, in order */
        const char *want_over;
    } cases[] = {
        { { "Subject", "To" }, { NULL }, true, "from,subject,to", "" },
        { { "subject", "SUBJECT" }, { NULL }, true, "from,subject", "" },
        { { "to" }, { "From", "Reply-To" }, true, "from,to,reply-to", "from,reply-to" },
        { { NULL }, { "subject", "subject" }, true, "from,subject", "subject" },
        { { "Received" }, { NULL }, false, NULL, NULL },
        { { "to" }, { "DKIM-Signature" }, false, NULL, NULL },
        { { "Authentication-Results" }, { NULL }, false, NULL, NULL },
        { { "sub ject" }, { NULL }, false, NULL, NULL },
        { { "(a|b)" }, { NULL }, false, NULL, NULL },
        { { "" }, { NULL }, false, NULL, NULL },
    };
    char err[256];

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t ns = 0, no = 0;
        while (ns < 4 && cases[i].sign[ns])
            ns++;
        while (no < 4 && cases[i].over[no])
            no++;
        dkim_hdrlist_t *h = dkim_hdrlist_new(cases[i].sign, ns, cases[i].over, no, err,
                                             sizeof(err));
        if (!cases[i].ok) {
            assert_null(h);
            assert_true(err[0] != '\0');
            continue;
        }
        assert_non_null(h);
        char got[256] = "", gover[256] = "";
        for (const char **p = dkim_hdrlist_signed(h); *p; p++)
            snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", got[0] ? "," : "", *p);
        for (const char **p = dkim_hdrlist_oversigned(h); *p; p++)
            snprintf(gover + strlen(gover), sizeof(gover) - strlen(gover), "%s%s",
                     gover[0] ? "," : "", *p);
        assert_string_equal(got, cases[i].want_signed);
        assert_string_equal(gover, cases[i].want_over);
        assert_true(dkim_hdrlist_is_signed(h, "FROM"));
        dkim_hdrlist_free(h);
    }
}

static void header_list_has_a_bound(void **state)
{
    const char *many[DKIM_HDRLIST_MAX + 1];
    char names[DKIM_HDRLIST_MAX + 1][16], err[256];

    (void) state;
    for (int i = 0; i <= DKIM_HDRLIST_MAX; i++) {
        snprintf(names[i], sizeof(names[i]), "x-h%d", i);
        many[i] = names[i];
    }
    assert_null(dkim_hdrlist_new(many, DKIM_HDRLIST_MAX + 1, NULL, 0, err, sizeof(err)));
    assert_non_null(strstr(err, "more than"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(role_follows_internal_auth_and_daemon_name),
        cmocka_unit_test(from_domain_takes_the_one_address),
        cmocka_unit_test(from_domain_refuses_overlong_input),
        cmocka_unit_test(header_lists_are_checked_and_normalised),
        cmocka_unit_test(header_list_has_a_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
