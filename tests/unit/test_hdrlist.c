/*
 * test_hdrlist.c - unit tests of the header block milter-load hands to
 * the next milter of a chain: each earlier milter's ADDHEADER,
 * INSHEADER and CHGHEADER applied as Postfix's cleanup server applies
 * them, and the message's own fields restored for the next message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <libmilter/mfdef.h>

#include "hdrlist.h"
#include "msgfile.h"

/* One edit packet: command, index (INSHEADER/CHGHEADER), name, value. */
typedef struct {
    char cmd;
    uint32_t index;
    const char *name, *value;
} edit_t;

typedef struct {
    const char *label;
    edit_t edits[4];
    size_t nedits;
    const char *want;   /* "name:value|..." after the edits */
} case_t;

static const char msg[] =
    "From: a@example.org\r\nTo: b@example.com\r\nReceived: x\r\n"
    "Received: y\r\nSubject: s\r\n\r\nbody\r\n";

static const case_t cases[] = {
    {"add appends, one space before the value", {{SMFIR_ADDHEADER, 0,
     "X-A", "1"}}, 1,
     "From: a@example.org|To: b@example.com|Received: x|Received: y|"
     "Subject: s|X-A: 1"},
    {"insert at 0 is the top; past the end appends",
     {{SMFIR_INSHEADER, 0, "X-Top", " t"}, {SMFIR_INSHEADER, 99, "X-End", "e"}},
     2, "X-Top: t|From: a@example.org|To: b@example.com|Received: x|"
        "Received: y|Subject: s|X-End: e"},
    {"change the second Received, delete the first",
     {{SMFIR_CHGHEADER, 2, "received", "z"}, {SMFIR_CHGHEADER, 1, "Received", ""}},
     2, "From: a@example.org|To: b@example.com|received: z|Subject: s"},
    {"change of a missing occurrence appends, delete of one does nothing",
     {{SMFIR_CHGHEADER, 3, "Received", "w"}, {SMFIR_CHGHEADER, 1, "X-No", ""}},
     2, "From: a@example.org|To: b@example.com|Received: x|Received: y|"
        "Subject: s|Received: w"},
    {"an added field can be changed again",
     {{SMFIR_ADDHEADER, 0, "X-A", "1"}, {SMFIR_CHGHEADER, 1, "X-A", "2"}},
     2, "From: a@example.org|To: b@example.com|Received: x|Received: y|"
        "Subject: s|X-A: 2"},
};

static size_t packet(const edit_t *e, unsigned char *buf, size_t cap)
{
    size_t pos = 0, nl = strlen(e->name) + 1, vl = strlen(e->value) + 1;
    assert_true(nl + vl + 4 <= cap);
    if (e->cmd != SMFIR_ADDHEADER) {
        buf[0] = (unsigned char)(e->index >> 24);
        buf[1] = (unsigned char)(e->index >> 16);
        buf[2] = (unsigned char)(e->index >> 8);
        buf[3] = (unsigned char)e->index;
        pos = 4;
    }
    memcpy(buf + pos, e->name, nl);
    memcpy(buf + pos + nl, e->value, vl);
    return pos + nl + vl;
}

static void render(const hdrlist_t *h, char *out, size_t cap)
{
    size_t pos = 0;
    out[0] = '\0';
    for (size_t i = 0; i < hdrlist_count(h); i++) {
        int n = snprintf(out + pos, cap - pos, "%s%s:%s", i ? "|" : "",
                         hdrlist_name(h, i), hdrlist_value(h, i));
        assert_true(n > 0 && (size_t)n < cap - pos);
        pos += (size_t)n;
    }
}

static void test_edits_table(void **state)
{
    (void)state;
    char err[128], got[1024];
    msgfile_t *m = msgfile_parse(msg, sizeof msg - 1, err, sizeof err);
    hdrlist_t *h = hdrlist_new();
    assert_non_null(m);
    assert_non_null(h);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        assert_int_equal(hdrlist_reset(h, m), 0);
        for (size_t i = 0; i < cases[c].nedits; i++) {
            unsigned char buf[256];
            mproto_pkt_t pkt = {cases[c].edits[i].cmd, buf, 0};
            pkt.len = packet(&cases[c].edits[i], buf, sizeof buf);
            assert_int_equal(hdrlist_apply(h, &pkt), 0);
        }
        render(h, got, sizeof got);
        if (strcmp(got, cases[c].want) != 0)
            fail_msg("%s:\n got  %s\n want %s", cases[c].label, got,
                     cases[c].want);
    }
    /* the next message starts from its own fields again */
    assert_int_equal(hdrlist_reset(h, m), 0);
    assert_int_equal(hdrlist_count(h), 5);
    hdrlist_free(h);
    msgfile_free(m);
}

static void test_full_list_refuses_without_change(void **state)
{
    (void)state;
    char err[128];
    msgfile_t *m = msgfile_parse(msg, sizeof msg - 1, err, sizeof err);
    hdrlist_t *h = hdrlist_new();
    assert_int_equal(hdrlist_reset(h, m), 0);
    mproto_pkt_t pkt = {SMFIR_ADDHEADER, (const unsigned char *)"X\0v", 4};
    size_t n = hdrlist_count(h);
    while (n < HDRLIST_MAX) {
        assert_int_equal(hdrlist_apply(h, &pkt), 0);
        n++;
    }
    assert_int_equal(hdrlist_apply(h, &pkt), -1);
    assert_int_equal(hdrlist_count(h), HDRLIST_MAX);
    hdrlist_free(h);
    msgfile_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edits_table),
        cmocka_unit_test(test_full_list_refuses_without_change),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
