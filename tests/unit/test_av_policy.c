/*
 * test_av_policy.c - scan result to action, reply and header field,
 * for every on_* setting; never a silent accept when mail passes
 * unscanned; internal errors stay out of the SMTP reply.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "avpolicy.h"
#include "avscan.h"

static const struct {
    const char *on_infected, *on_error, *on_limit;
    bool add_header;
    avscan_status_t status;
    const char *name, *reason;
    mact_t action;
    const char *rcode, *xcode, *text;   /* text: a substring, or NULL */
    bool header, unscanned;
    const char *value;
} cases[] = {
    { "reject", "tempfail", "tempfail", false, AVSCAN_CLEAN, "", "",
      MACT_ACCEPT, "", "", NULL, false, false, "postern-av; clean" },
    { "reject", "tempfail", "tempfail", true, AVSCAN_CLEAN, "", "",
      MACT_ACCEPT, "", "", NULL, true, false, "postern-av; clean" },
    { "reject", "tempfail", "tempfail", false, AVSCAN_INFECTED, "Eicar-Signature", "",
      MACT_REJECT, "554", "5.7.1", "Eicar-Signature", false, false,
      "postern-av; infected (Eicar-Signature)" },
    { "discard", "tempfail", "tempfail", false, AVSCAN_INFECTED, "X.Y", "",
      MACT_DISCARD, "", "", NULL, false, false, NULL },
    { "quarantine", "tempfail", "tempfail", true, AVSCAN_INFECTED, "X.Y", "",
      MACT_QUARANTINE, "", "", NULL, true, false, "postern-av; infected (X.Y)" },
    { "tag", "tempfail", "tempfail", false, AVSCAN_INFECTED, "X.Y", "",
      MACT_TAG, "", "", NULL, true, false, "postern-av; infected (X.Y)" },
    { "reject", "tempfail", "tempfail", false, AVSCAN_ERROR, "", "clamd: connect unix:/x: refused",
      MACT_TEMPFAIL, "451", "4.3.0", "try again later", false, false, NULL },
    { "reject", "reject", "tempfail", false, AVSCAN_ERROR, "", "boom",
      MACT_REJECT, "554", "5.3.0", NULL, false, false, NULL },
    { "reject", "accept", "tempfail", false, AVSCAN_ERROR, "", "boom",
      MACT_ACCEPT, "", "", NULL, false, true, NULL },
    { "reject", "tag", "tempfail", false, AVSCAN_ERROR, "", "boom",
      MACT_TAG, "", "", NULL, true, true, "postern-av; unscanned (error)" },
    { "reject", "tempfail", "tempfail", false, AVSCAN_LIMIT, "", "too big",
      MACT_TEMPFAIL, "451", "4.3.4", "too large", false, false, NULL },
    { "reject", "tempfail", "quarantine", false, AVSCAN_LIMIT, "", "too big",
      MACT_QUARANTINE, "", "", NULL, false, false, NULL },
    { "reject", "tempfail", "accept", true, AVSCAN_LIMIT, "", "too big",
      MACT_ACCEPT, "", "", NULL, true, true, "postern-av; unscanned (limit)" },
    { "reject", "tempfail", "tempfail", false, AVSCAN_UNSCANNED, "", "no database",
      MACT_ACCEPT, "", "", NULL, false, true, NULL },
};

static void every_result_gets_its_configured_action(void **s)
{
    char err[256];

    (void) s;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        avpolicy_t p;
        avscan_result_t r = { .status = cases[i].status };
        avpolicy_verdict_t v;

        snprintf(r.name, sizeof(r.name), "%s", cases[i].name);
        snprintf(r.reason, sizeof(r.reason), "%s", cases[i].reason);
        assert_int_equal(avpolicy_init(&p, cases[i].on_infected, cases[i].on_error,
                                       cases[i].on_limit, cases[i].add_header, err,
                                       sizeof(err)), 0);
        avpolicy_decide(&p, &r, &v);
        assert_int_equal(v.reply.action, cases[i].action);
        assert_string_equal(v.reply.rcode, cases[i].rcode);
        assert_string_equal(v.reply.xcode, cases[i].xcode);
        if (cases[i].text != NULL)
            assert_non_null(strstr(v.reply.text, cases[i].text));
        /* Internal detail never reaches the client. */
        if (r.reason[0] != '\0')
            assert_null(strstr(v.reply.text, r.reason));
        assert_int_equal(v.header, cases[i].header);
        assert_int_equal(v.unscanned, cases[i].unscanned);
        if (cases[i].value != NULL)
            assert_string_equal(v.value, cases[i].value);
    }
}

static void bad_action_names_are_refused(void **s)
{
    avpolicy_t p;
    char err[256];

    (void) s;
    assert_int_equal(avpolicy_init(&p, "accept", "tempfail", "tempfail", false, err,
                                   sizeof(err)), -1);
    assert_non_null(strstr(err, "on_infected"));
    assert_int_equal(avpolicy_init(&p, "reject", "discard", "tempfail", false, err,
                                   sizeof(err)), -1);
    assert_non_null(strstr(err, "on_error"));
    assert_int_equal(avpolicy_init(&p, "reject", "tempfail", "temp", false, err,
                                   sizeof(err)), -1);
    assert_non_null(strstr(err, "on_limit"));
    assert_int_equal(avpolicy_init(&p, "reject", "tempfail", NULL, false, err,
                                   sizeof(err)), -1);
}

static void signature_names_are_sanitised_and_limits_told_apart(void **s)
{
    avscan_result_t r;

    (void) s;
    avscan_found(&r, "Evil\r\nName 550", 15);
    assert_int_equal(r.status, AVSCAN_INFECTED);
    assert_string_equal(r.name, "Evil??Name?550");
    avscan_found(&r, "Heuristics.Limits.Exceeded.MaxFileSize", 38);
    assert_int_equal(r.status, AVSCAN_LIMIT);
    assert_non_null(strstr(r.reason, "MaxFileSize"));
    char longname[400];
    memset(longname, 'A', sizeof(longname));
    avscan_found(&r, longname, sizeof(longname));
    assert_int_equal(strlen(r.name), AVSCAN_MAX_NAME - 1);
    assert_string_equal(avscan_status_name(AVSCAN_UNSCANNED), "unscanned");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_result_gets_its_configured_action),
        cmocka_unit_test(bad_action_names_are_refused),
        cmocka_unit_test(signature_names_are_sanitised_and_limits_told_apart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
