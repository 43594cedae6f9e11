/*
 * test_postern_why.c - which audit records a "why" query selects, the
 * byte prefilter never dropping a record the query matches, and the
 * severity that names the outcome.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "why.h"

static const char *const lines[] = {
    "{\"ts\":\"2026-11-25T06:00:01Z\",\"component\":\"spf\",\"qid\":null,\"conn\":\"c1\","
    "\"from\":\"Alice@Example.NET\",\"rcpt\":[\"bob@example.org\"],\"action\":\"accept\"}",
    "{\"ts\":\"2026-11-25T06:00:02Z\",\"component\":\"dkim\",\"qid\":\"ABC123\",\"conn\":\"c1\","
    "\"from\":\"alice@example.net\",\"rcpt\":[\"bob@example.org\"],\"action\":\"reject\"}",
    "{\"ts\":\"2026-11-25T07:00:00Z\",\"component\":\"policyd\",\"qid\":\"XYZ999\",\"conn\":\"c2\","
    "\"from\":\"carol@example.net\",\"rcpt\":[\"dave@example.org\",\"erin@example.org\"],"
    "\"action\":\"monitor:defer\"}",
};

/* Which of the three lines the query selects, as a bit mask; and the
 * prefilter must pass every selected line. */
static unsigned selected(const why_query_t *q)
{
    unsigned mask = 0;

    for (unsigned i = 0; i < 3; i++) {
        json_t *r = json_loads(lines[i], 0, NULL);
        assert_non_null(r);
        if (why_match(q, r)) {
            mask |= 1u << i;
            assert_true(why_prefilter(q, lines[i], strlen(lines[i])));
        }
        json_decref(r);
    }
    return mask;
}

static void queue_id_selects_its_records_and_its_connection(void **state)
{
    why_query_t q = { .qid = "ABC123" };

    (void) state;
    assert_int_equal(selected(&q), 0x2);
    q.conns[q.nconns++] = "c1";             /* learned in the first pass */
    assert_int_equal(selected(&q), 0x3);
    assert_false(why_prefilter(&q, lines[2], strlen(lines[2])));
}

static void filters_by_sender_recipient_and_time(void **state)
{
    why_query_t from = { .from = "ALICE@example.net" };
    why_query_t to = { .to = "Erin@Example.org" };
    why_query_t since = { .since = "2026-11-25T06:30" };
    why_query_t both = { .from = "alice@example.net", .since = "2026-11-25T06:00:02" };

    (void) state;
    assert_int_equal(selected(&from), 0x3);
    assert_int_equal(selected(&to), 0x4);
    assert_int_equal(selected(&since), 0x4);
    assert_int_equal(selected(&both), 0x2);
    assert_false(why_prefilter(&since, lines[0], strlen(lines[0])));
    assert_false(why_prefilter(&to, lines[0], strlen(lines[0])));
}

/* Every line a query selects holds one of its needles (as bytes, or
 * folded when NOCASE): the byte search never loses a record. */
static void needles_are_in_every_selected_line(void **state)
{
    why_query_t qs[] = {
        { .qid = "ABC123", .conns = { "c1" }, .nconns = 1 },
        { .from = "ALICE@example.net" },
        { .to = "Erin@Example.org", .since = "2026-11-25" },
    };
    const char *needles[4];
    bool nocase;

    (void) state;
    for (size_t k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
        size_t n = why_needles(&qs[k], needles, 4, &nocase);
        unsigned mask = selected(&qs[k]);
        assert_true(n > 0 && mask != 0);
        for (unsigned i = 0; i < 3; i++) {
            bool found = false;
            for (size_t j = 0; j < n; j++)
                found |= nocase ? strcasestr(lines[i], needles[j]) != NULL
                                : strstr(lines[i], needles[j]) != NULL;
            if (mask & (1u << i))
                assert_true(found);
        }
    }
    why_query_t since = { .since = "2026-11-25T06:30" };
    why_query_t quoted = { .from = "\"odd\"@example.net" };
    why_query_t many = { .qid = "ABC123", .nconns = 4 };
    assert_int_equal(why_needles(&since, needles, 4, &nocase), 0);
    assert_int_equal(why_needles(&quoted, needles, 4, &nocase), 0);   /* JSON escapes it */
    assert_int_equal(why_needles(&many, needles, 4, &nocase), 0);     /* does not fit */
}

static void severity_orders_actions_and_ignores_monitor(void **state)
{
    (void) state;
    assert_true(why_severity("reject") > why_severity("defer"));
    assert_true(why_severity("tempfail") > why_severity("quarantine"));
    assert_true(why_severity("hold") > why_severity("warn"));
    assert_int_equal(why_severity("accept"), 0);
    assert_int_equal(why_severity("monitor:reject"), 0);
    assert_int_equal(why_severity(NULL), 0);
    assert_int_equal(why_severity("REJECT"), 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(queue_id_selects_its_records_and_its_connection),
        cmocka_unit_test(filters_by_sender_recipient_and_time),
        cmocka_unit_test(needles_are_in_every_selected_line),
        cmocka_unit_test(severity_orders_actions_and_ignores_monitor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
