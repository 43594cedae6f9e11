/*
 * test_mact.c - action names, safe SMTP replies, and which incoming
 * Authentication-Results fields count as forged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mact.h"

static void action_names_round_trip(void **s)
{
    mact_t a;

    (void) s;
    for (int i = MACT_ACCEPT; i <= MACT_QUARANTINE; i++) {
        assert_int_equal(mact_parse(mact_name((mact_t) i), &a), 0);
        assert_int_equal(a, i);
    }
    assert_int_equal(mact_parse("REJECT", &a), 0);
    assert_int_equal(a, MACT_REJECT);
    assert_int_equal(mact_parse("bounce", &a), -1);
    assert_string_equal(mact_audit_name(MACT_REJECT, false), "reject");
    assert_string_equal(mact_audit_name(MACT_REJECT, true), "monitor:reject");
    assert_string_equal(mact_audit_name(MACT_QUARANTINE, true), "monitor:quarantine");
    assert_int_equal(mact_parse(NULL, &a), -1);
    assert_true(mact_stops(MACT_REJECT) && mact_stops(MACT_TEMPFAIL) && mact_stops(MACT_DISCARD));
    assert_false(mact_stops(MACT_TAG) || mact_stops(MACT_QUARANTINE) || mact_stops(MACT_ACCEPT));
}

static const struct {
    mact_t action;
    const char *xcode, *rcode, *want_x;
} codes[] = {
    { MACT_REJECT, "5.7.23", "550", "5.7.23" },
    { MACT_REJECT, NULL, "550", "5.7.1" },
    { MACT_REJECT, "4.7.24", "550", "5.7.24" },     /* class follows the action */
    { MACT_TEMPFAIL, "5.7.24", "451", "4.7.24" },
    { MACT_TEMPFAIL, "x.y.z", "451", "4.7.1" },
    { MACT_TEMPFAIL, "4.7.1; rm", "451", "4.7.1" },
    { MACT_REJECT, "5.1234.1", "550", "5.7.1" },
    { MACT_TAG, "5.7.1", "", "" },
};

static void reply_codes_follow_the_action(void **s)
{
    mact_reply_t r;

    (void) s;
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        mact_reply_init(&r, codes[i].action, codes[i].xcode, "text");
        assert_string_equal(r.rcode, codes[i].rcode);
        assert_string_equal(r.xcode, codes[i].want_x);
    }
    mact_reply_init(&r, MACT_REJECT, NULL, "virus");
    mact_reply_code(&r, "554");
    assert_string_equal(r.rcode, "554");
    mact_reply_code(&r, "451");          /* wrong class: ignored */
    assert_string_equal(r.rcode, "554");
    mact_reply_code(&r, "55");
    assert_string_equal(r.rcode, "554");
}

static void reply_text_from_outside_is_made_safe(void **s)
{
    char big[2000];
    mact_reply_t r;

    (void) s;
    mact_reply_init(&r, MACT_REJECT, NULL, "SPF fail for %s", "ex\r\nample 100%");
    assert_string_equal(r.text, "SPF fail for ex??ample 100%%");
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    mact_reply_init(&r, MACT_REJECT, NULL, "%s", big);
    assert_true(strlen(r.text) <= MACT_MAX_TEXT);
}

static const char *const spf_own[] = { "spf", NULL };

static const struct {
    const char *value;
    bool forged;
} fields[] = {
    { "mx.example.org; spf=pass smtp.mailfrom=a@b", true },       /* our method */
    { "mx.example.org; dkim=pass header.d=b", false },            /* a later milter's */
    { "mx.example.org; dmarc=pass", false },
    { "mx.example.org; arc=pass", true },                         /* no postern milter writes it */
    { "mx.example.org; dkim=pass; spf=pass", true },
    { "MX.Example.Org; spf=pass", true },                         /* id is case-insensitive */
    { "mx.example.org; none", true },
    { "mx.example.org; @@@ not valid", true },                    /* malformed */
    { "other.example; spf=pass", false },                         /* not ours */
    { "mx.example.org.evil; spf=pass", false },
    { "", false },
};

static void forged_fields_follow_the_rule(void **s)
{
    (void) s;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        bool got = mact_authres_forged(fields[i].value, strlen(fields[i].value),
                                       "mx.example.org", spf_own);
        if (got != fields[i].forged)
            fail_msg("\"%s\": forged=%d, want %d", fields[i].value, got, fields[i].forged);
    }
}

static void tracker_records_indexes_of_forged_fields(void **s)
{
    mact_authres_t t;
    const char *seq[] = { "other; spf=pass", "mx; spf=fail", "mx; dkim=pass", "mx; spf=pass" };

    (void) s;
    mact_authres_reset(&t);
    for (size_t i = 0; i < 4; i++)
        mact_authres_seen(&t, seq[i], strlen(seq[i]), "mx", spf_own);
    assert_int_equal(t.seen, 4);
    assert_int_equal(t.nforged, 2);
    assert_int_equal(t.forged[0], 2);
    assert_int_equal(t.forged[1], 4);
    assert_false(t.overflow);
}

static void tracker_overflows_instead_of_forgetting(void **s)
{
    mact_authres_t t;
    const char *v = "mx; spf=pass";

    (void) s;
    mact_authres_reset(&t);
    for (int i = 0; i < MACT_MAX_AUTHRES + 1; i++)
        assert_true(mact_authres_seen(&t, v, strlen(v), "mx", spf_own));
    assert_int_equal(t.nforged, MACT_MAX_AUTHRES);
    assert_true(t.overflow);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(action_names_round_trip),
        cmocka_unit_test(reply_codes_follow_the_action),
        cmocka_unit_test(reply_text_from_outside_is_made_safe),
        cmocka_unit_test(forged_fields_follow_the_rule),
        cmocka_unit_test(tracker_records_indexes_of_forged_fields),
        cmocka_unit_test(tracker_overflows_instead_of_forgetting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
