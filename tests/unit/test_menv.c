/*
 * test_menv.c - the envelope a milter keeps: bracket stripping, control
 * characters, bounds, queue id binding and the audit fields.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "menv.h"

static menv_t *v4_env(const char *ip)
{
    struct sockaddr_in in = { .sin_family = AF_INET };

    inet_pton(AF_INET, ip, &in.sin_addr);
    return menv_new("mail.example.net", (struct sockaddr *) &in);
}

static void client_address_is_kept_as_text_and_bytes(void **s)
{
    struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };
    const void *addr;
    menv_t *e;

    (void) s;
    inet_pton(AF_INET6, "2001:db8::25", &in6.sin6_addr);
    e = menv_new(NULL, (struct sockaddr *) &in6);
    assert_string_equal(menv_client_ip(e), "2001:db8::25");
    assert_int_equal(menv_client_af(e, &addr), AF_INET6);
    assert_memory_equal(addr, &in6.sin6_addr, 16);
    assert_string_equal(menv_client_host(e), "");
    menv_free(e);

    e = menv_new("x", NULL);
    assert_string_equal(menv_client_ip(e), "unknown");
    assert_int_equal(menv_client_af(e, &addr), AF_UNSPEC);
    assert_null(addr);
    menv_free(e);
}

static void envelope_loses_brackets_and_null_sender_is_empty(void **s)
{
    menv_t *e = v4_env("192.0.2.1");

    (void) s;
    menv_mail(e, "<alice@Example.NET>", NULL, NULL, NULL);
    assert_string_equal(menv_from(e), "alice@Example.NET");
    assert_string_equal(menv_from_domain(e), "Example.NET");
    menv_mail(e, "<>", NULL, NULL, NULL);
    assert_string_equal(menv_from(e), "");
    assert_string_equal(menv_from_domain(e), "");
    menv_rcpt(e, "<bob@example.org>");
    const char *const *list;
    assert_int_equal(menv_rcpts(e, &list), 1);
    assert_string_equal(list[0], "bob@example.org");
    menv_free(e);
}

static void control_characters_never_reach_logs(void **s)
{
    menv_t *e = v4_env("192.0.2.1");

    (void) s;
    menv_set_helo(e, "evil\r\nX-Injected: yes");
    assert_null(strchr(menv_helo(e), '\n'));
    assert_null(strchr(menv_helo(e), '\r'));
    assert_string_equal(menv_helo(e), "evil??X-Injected: yes");
    menv_free(e);
}

static void long_values_are_cut_at_their_bound(void **s)
{
    char big[4000];
    menv_t *e = v4_env("192.0.2.1");

    (void) s;
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    menv_set_helo(e, big);
    assert_int_equal(strlen(menv_helo(e)), MENV_MAX_NAME - 1);
    menv_mail(e, big, big, big, big);
    assert_true(strlen(menv_from(e)) < MENV_MAX_ADDR);
    menv_free(e);
}

static void recipients_past_the_bound_are_counted_not_kept(void **s)
{
    menv_t *e = v4_env("192.0.2.1");

    (void) s;
    menv_mail(e, "<a@b>", NULL, NULL, NULL);
    for (int i = 0; i < MENV_MAX_RCPT + 5; i++)
        menv_rcpt(e, "<r@example.org>");
    assert_int_equal(menv_rcpts(e, NULL), MENV_MAX_RCPT);
    assert_int_equal(menv_rcpt_total(e), MENV_MAX_RCPT + 5);
    menv_mail(e, "<a@b>", NULL, NULL, NULL);      /* next message */
    assert_int_equal(menv_rcpt_total(e), 0);
    menv_free(e);
}

static void queue_id_binds_late_and_resets_per_message(void **s)
{
    menv_t *e = v4_env("192.0.2.1");

    (void) s;
    menv_mail(e, "<a@b>", NULL, "alice", NULL);
    assert_null(menv_qid(e));
    assert_string_equal(menv_auth(e), "alice");
    menv_set_qid(e, "");
    assert_null(menv_qid(e));
    menv_set_qid(e, "4QfX1k2Zz");
    assert_string_equal(menv_qid(e), "4QfX1k2Zz");
    menv_mail(e, "<a@b>", "", "", NULL);
    assert_null(menv_qid(e));
    assert_null(menv_auth(e));
    menv_free(e);
}

static void daemon_name_from_connect_survives_mail(void **s)
{
    menv_t *e = v4_env("192.0.2.1");

    (void) s;
    assert_null(menv_daemon_name(e));
    menv_set_daemon_name(e, "ORIGINATING");
    menv_mail(e, "<a@b>", NULL, NULL, NULL);
    assert_string_equal(menv_daemon_name(e), "ORIGINATING");
    menv_free(e);
}

static void message_id_is_kept_trimmed_and_reset_per_message(void **s)
{
    menv_t *e = v4_env("192.0.2.1");
    audit_record_t r = { 0 };

    (void) s;
    menv_mail(e, "<a@b>", NULL, NULL, NULL);
    menv_header(e, "Subject", "hello");
    assert_null(menv_msgid(e));
    menv_header(e, "message-id", " <1@example.net>\r\n\t");
    assert_string_equal(menv_msgid(e), "<1@example.net>");
    menv_header(e, "Message-ID", "<2@example.net>");     /* the first one counts */
    assert_string_equal(menv_msgid(e), "<1@example.net>");
    menv_audit_fill(e, &r);
    assert_string_equal(r.msgid, "<1@example.net>");
    menv_mail(e, "<a@b>", NULL, NULL, NULL);
    assert_null(menv_msgid(e));
    menv_header(e, "Message-ID", "   ");
    assert_null(menv_msgid(e));
    menv_free(e);
}

static void connection_ids_differ(void **s)
{
    menv_t *a = v4_env("192.0.2.1"), *b = v4_env("192.0.2.1");

    (void) s;
    assert_string_not_equal(menv_conn_id(a), menv_conn_id(b));
    menv_free(a);
    menv_free(b);
}

static void internal_clients_match_the_netlist(void **s)
{
    char err[128];
    netlist_t *nl = netlist_new();
    menv_t *in = v4_env("10.1.2.3"), *out = v4_env("192.0.2.1"), *none = menv_new(NULL, NULL);

    (void) s;
    assert_int_equal(netlist_add(nl, "10.0.0.0/8", err, sizeof(err)), 0);
    assert_true(menv_client_in(in, nl));
    assert_false(menv_client_in(out, nl));
    assert_false(menv_client_in(none, nl));
    assert_false(menv_client_in(in, NULL));
    menv_free(in);
    menv_free(out);
    menv_free(none);
    netlist_free(nl);
}

static void audit_fields_come_from_the_envelope(void **s)
{
    audit_record_t r = { .step = "check" };
    menv_t *e = v4_env("192.0.2.9");

    (void) s;
    menv_set_helo(e, "mx.example.net");
    menv_mail(e, "<a@example.net>", "QID1", NULL, NULL);
    menv_rcpt(e, "<b@example.org>");
    menv_audit_fill(e, &r);
    assert_string_equal(r.qid, "QID1");
    assert_string_equal(r.client_ip, "192.0.2.9");
    assert_string_equal(r.helo, "mx.example.net");
    assert_string_equal(r.from, "a@example.net");
    assert_int_equal(r.nrcpt, 1);
    assert_string_equal(r.rcpt[0], "b@example.org");
    assert_string_equal(r.conn, menv_conn_id(e));
    assert_string_equal(r.step, "check");
    assert_true(menv_elapsed_ms(e) >= 0.0);
    menv_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(client_address_is_kept_as_text_and_bytes),
        cmocka_unit_test(envelope_loses_brackets_and_null_sender_is_empty),
        cmocka_unit_test(control_characters_never_reach_logs),
        cmocka_unit_test(long_values_are_cut_at_their_bound),
        cmocka_unit_test(recipients_past_the_bound_are_counted_not_kept),
        cmocka_unit_test(queue_id_binds_late_and_resets_per_message),
        cmocka_unit_test(daemon_name_from_connect_survives_mail),
        cmocka_unit_test(message_id_is_kept_trimmed_and_reset_per_message),
        cmocka_unit_test(connection_ids_differ),
        cmocka_unit_test(internal_clients_match_the_netlist),
        cmocka_unit_test(audit_fields_come_from_the_envelope),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
