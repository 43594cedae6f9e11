/*
 * test_ppolicy.c - unit tests of policy-load's protocol codec: the exact
 * request bytes, the reply decoder that stands between the generator and
 * an untrusted server, the action words, and their tally in report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ppolicy.h"
#include "report.h"

/* A reply stream and what the decoder must make of it. */
typedef struct {
    const char *name;
    const char *bytes;
    size_t len;                 /* 0: strlen(bytes) */
    int want;                   /* 1 complete, 0 incomplete, -1 error */
    const char *action;         /* when complete */
    size_t consumed;
} reply_case_t;

static const reply_case_t reply_cases[] = {
    {"dunno", "action=DUNNO\n\n", 0, 1, "DUNNO", 14},
    {"reject_with_text", "action=REJECT blocked here\n\n", 0, 1,
     "REJECT blocked here", 28},
    {"smtp_code", "action=450 4.7.1 try later\n\n", 0, 1,
     "450 4.7.1 try later", 28},
    {"next_reply_left_for_later", "action=OK\n\naction=DUNNO\n\n", 0, 1,
     "OK", 11},
    {"empty_input_waits", "", 0, 0, NULL, 0},
    {"partial_prefix_waits", "acti", 0, 0, NULL, 0},
    {"line_without_end_waits", "action=DUNNO", 0, 0, NULL, 0},
    {"missing_empty_line_waits", "action=DUNNO\n", 0, 0, NULL, 0},
    {"other_attribute_is_error", "result=DUNNO\n\n", 0, -1, NULL, 0},
    {"bad_prefix_seen_early", "ax", 0, -1, NULL, 0},
    {"garbage_is_error", "HTTP/1.0 400 Bad\r\n\r\n", 0, -1, NULL, 0},
    {"empty_action_is_error", "action=\n\n", 0, -1, NULL, 0},
    {"two_attributes_is_error", "action=OK\nfoo=bar\n\n", 0, -1, NULL, 0},
    {"crlf_is_error", "action=OK\r\n\r\n", 0, -1, NULL, 0},
    {"nul_is_error", "action=O\0K\n\n", 12, -1, NULL, 0},
    {"uppercase_name_is_error", "ACTION=OK\n\n", 0, -1, NULL, 0},
};

static void decode_reply_follows_the_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof reply_cases / sizeof reply_cases[0]; i++) {
        const reply_case_t *c = &reply_cases[i];
        size_t len = c->len ? c->len : strlen(c->bytes);
        ppolicy_reply_t rep = {0};
        char err[128] = "";
        int r = ppolicy_decode_reply(c->bytes, len, &rep, err, sizeof err);
        print_message("case %s\n", c->name);
        assert_int_equal(r, c->want);
        if (r < 0)
            assert_true(err[0] != '\0');
        if (r == 1) {
            assert_int_equal(rep.action_len, strlen(c->action));
            assert_memory_equal(rep.action, c->action, rep.action_len);
            assert_int_equal(rep.consumed, c->consumed);
        }
    }
}

static void decode_reply_rejects_an_endless_line(void **state)
{
    (void)state;
    static char buf[PPOLICY_MAX_REPLY + 16];
    ppolicy_reply_t rep;
    char err[128];
    memcpy(buf, "action=", 7);
    memset(buf + 7, 'x', sizeof buf - 7);
    /* still short of the bound: wait for more */
    assert_int_equal(ppolicy_decode_reply(buf, 100, &rep, err, sizeof err), 0);
    assert_int_equal(ppolicy_decode_reply(buf, PPOLICY_MAX_REPLY, &rep, err,
                                          sizeof err), -1);
    assert_int_equal(ppolicy_decode_reply(buf, sizeof buf, &rep, err,
                                          sizeof err), -1);
}

static void decode_reply_accepts_the_longest_reply(void **state)
{
    (void)state;
    static char buf[PPOLICY_MAX_REPLY];
    ppolicy_reply_t rep;
    char err[128];
    memcpy(buf, "action=", 7);
    memset(buf + 7, 'x', sizeof buf - 9);
    buf[sizeof buf - 2] = buf[sizeof buf - 1] = '\n';
    assert_int_equal(ppolicy_decode_reply(buf, sizeof buf, &rep, err,
                                          sizeof err), 1);
    assert_int_equal(rep.consumed, PPOLICY_MAX_REPLY);
}

/* Fed one byte more at a time, a reply is incomplete until its last byte. */
static void decode_reply_waits_for_every_byte(void **state)
{
    (void)state;
    const char *s = "action=DEFER_IF_PERMIT later\n\n";
    size_t n = strlen(s);
    ppolicy_reply_t rep;
    char err[128];
    for (size_t i = 0; i < n; i++)
        assert_int_equal(ppolicy_decode_reply(s, i, &rep, err, sizeof err), 0);
    assert_int_equal(ppolicy_decode_reply(s, n, &rep, err, sizeof err), 1);
}

static void encode_writes_lines_and_an_empty_line(void **state)
{
    (void)state;
    const ppolicy_attr_t a[] = {{"request", "smtpd_access_policy"},
                                {"queue_id", ""}, {"sasl_sender", NULL},
                                {"sender", "a@example.org"}};
    char buf[256], err[128];
    size_t len = 0;
    const char *want = "request=smtpd_access_policy\nqueue_id=\nsasl_sender=\n"
                       "sender=a@example.org\n\n";
    assert_int_equal(ppolicy_encode(buf, sizeof buf, a, 4, &len, err,
                                    sizeof err), 0);
    assert_int_equal(len, strlen(want));
    assert_string_equal(buf, want);
}

typedef struct {
    const char *name;
    const char *value;
} bad_attr_case_t;

static void encode_refuses_what_would_break_the_framing(void **state)
{
    (void)state;
    static const bad_attr_case_t cases[] = {
        {"", "x"}, {NULL, "x"}, {"se=nder", "x"}, {"sender\n", "x"},
        {"sender", "a\n\nrequest=evil"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ppolicy_attr_t a = {cases[i].name, cases[i].value};
        char buf[256], err[128] = "";
        size_t len = 0;
        assert_int_equal(ppolicy_encode(buf, sizeof buf, &a, 1, &len, err,
                                        sizeof err), -1);
        assert_true(err[0] != '\0');
    }
}

static void encode_fails_when_the_buffer_is_short(void **state)
{
    (void)state;
    const ppolicy_attr_t a[] = {{"request", "smtpd_access_policy"}};
    char buf[64], err[128];
    size_t len = 0;
    size_t need = strlen("request=smtpd_access_policy\n\n") + 1;
    assert_int_equal(ppolicy_encode(buf, need - 1, a, 1, &len, err,
                                    sizeof err), -1);
    assert_int_equal(ppolicy_encode(buf, need, a, 1, &len, err, sizeof err), 0);
    assert_int_equal(len, need - 1);
    assert_int_equal(ppolicy_encode(buf, 0, a, 0, &len, err, sizeof err), -1);
}

typedef struct {
    const char *action;
    size_t wordlen;
    const char *want;
} word_case_t;

static void action_word_follows_the_table(void **state)
{
    (void)state;
    static const word_case_t cases[] = {
        {"DUNNO", 24, "DUNNO"},
        {"reject Blocked by rule R1", 24, "REJECT"},
        {"450 4.7.1 try again later", 24, "450"},
        {"defer_if_permit Service unavailable", 24, "DEFER_IF_PERMIT"},
        {"PREPEND X-Policy: yes", 24, "PREPEND"},
        {" OK", 24, "?"},
        {"REJECT", 4, "REJ"},
        {"REJECT", 1, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char word[PPOLICY_WORD_MAX];
        ppolicy_action_word(cases[i].action, strlen(cases[i].action), word,
                            cases[i].wordlen);
        assert_string_equal(word, cases[i].want);
    }
}

static void tally_counts_words_and_merges_them(void **state)
{
    (void)state;
    report_tally_t a, b;
    assert_int_equal(report_tally_init(&a), 0);
    assert_int_equal(report_tally_init(&b), 0);
    report_tally_word(&a, "DUNNO");
    report_tally_word(&a, "DUNNO");
    report_tally_word(&a, "REJECT");
    report_tally_word(&b, "REJECT");
    report_tally_word(&b, "450");
    report_tally_merge(&a, &b);
    assert_int_equal(report_tally_word_count(&a, "DUNNO"), 2);
    assert_int_equal(report_tally_word_count(&a, "REJECT"), 2);
    assert_int_equal(report_tally_word_count(&a, "450"), 1);
    assert_int_equal(report_tally_word_count(&a, "OK"), 0);
    assert_int_equal(a.nwords, 3);
    report_tally_free(&a);
    report_tally_free(&b);
}

static void tally_puts_words_beyond_the_table_under_other(void **state)
{
    (void)state;
    report_tally_t t;
    char w[16];
    assert_int_equal(report_tally_init(&t), 0);
    for (int i = 0; i < REPORT_MAX_WORDS + 5; i++) {
        snprintf(w, sizeof w, "W%d", i);
        report_tally_word(&t, w);
    }
    assert_int_equal(t.nwords, REPORT_MAX_WORDS);
    assert_int_equal(t.words_other, 5);
    report_tally_word(&t, "W0");
    assert_int_equal(report_tally_word_count(&t, "W0"), 2);
    report_tally_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decode_reply_follows_the_table),
        cmocka_unit_test(decode_reply_rejects_an_endless_line),
        cmocka_unit_test(decode_reply_accepts_the_longest_reply),
        cmocka_unit_test(decode_reply_waits_for_every_byte),
        cmocka_unit_test(encode_writes_lines_and_an_empty_line),
        cmocka_unit_test(encode_refuses_what_would_break_the_framing),
        cmocka_unit_test(encode_fails_when_the_buffer_is_short),
        cmocka_unit_test(action_word_follows_the_table),
        cmocka_unit_test(tally_counts_words_and_merges_them),
        cmocka_unit_test(tally_puts_words_beyond_the_table_under_other),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
