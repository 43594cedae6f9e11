/*
 * test_preq.c - policy-load's fast request builder against a reference
 * built the slow, obvious way (snprintf per field, then the protocol
 * encoder): byte for byte the same over many requests and key spaces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ppolicy.h"
#include "preq.h"

/* The request as SMTPD_POLICY_README lists Postfix 3.7's attributes. */
static size_t reference(char *buf, size_t cap, const preq_space_t *sp, uint64_t n,
                        const preq_conn_t *who)
{
    char sender[64], rcpt[64], addr[32], name[64], inst[64], qid[32], size[32], port[16],
        sasl[32] = "", err[128];
    unsigned cl = (unsigned) (preq_key(sp, n, PREQ_CLIENT) % sp->clients) + 1;
    size_t len = 0;

    snprintf(sender, sizeof(sender), "user%u@example.org",
             (unsigned) (preq_key(sp, n, PREQ_SENDER) % sp->senders));
    snprintf(rcpt, sizeof(rcpt), "rcpt%u@example.com",
             (unsigned) (preq_key(sp, n, PREQ_RCPT) % sp->recipients));
    snprintf(addr, sizeof(addr), "10.%u.%u.%u", (cl >> 16) & 255, (cl >> 8) & 255, cl & 255);
    snprintf(name, sizeof(name), "client%u.example.net", cl);
    snprintf(inst, sizeof(inst), "%x.%lx.%x", 0x1000 + who->worker, who->conn, who->txn);
    snprintf(qid, sizeof(qid), "%03X%07llX", who->worker & 0xfffu,
             (unsigned long long) (n & 0xfffffffu));
    snprintf(size, sizeof(size), "%llu",
             (unsigned long long) (1000 + preq_key(sp, n, PREQ_SIZE) % 100000));
    snprintf(port, sizeof(port), "%u", 1024 + (unsigned) (n % 60000));
    if (sp->sasl_users > 0)
        snprintf(sasl, sizeof(sasl), "sasl%u",
                 (unsigned) (preq_key(sp, n, PREQ_SASL) % sp->sasl_users));
    const ppolicy_attr_t a[] = {
        {"request", "smtpd_access_policy"},
        {"protocol_state", sp->eom ? "END-OF-MESSAGE" : "RCPT"},
        {"protocol_name", "ESMTP"}, {"helo_name", name},
        {"queue_id", sp->eom ? qid : ""}, {"sender", sender},
        {"recipient", rcpt}, {"recipient_count", sp->eom ? "1" : "0"},
        {"client_address", addr}, {"client_name", name},
        {"reverse_client_name", name}, {"instance", inst},
        {"sasl_method", sasl[0] ? "PLAIN" : ""}, {"sasl_username", sasl},
        {"sasl_sender", ""}, {"size", size}, {"ccert_subject", ""},
        {"ccert_issuer", ""}, {"ccert_fingerprint", ""},
        {"encryption_protocol", ""}, {"encryption_cipher", ""},
        {"encryption_keysize", "0"}, {"etrn_domain", ""}, {"stress", ""},
        {"ccert_pubkey_fingerprint", ""}, {"client_port", port},
        {"policy_context", ""}, {"server_address", "192.0.2.1"},
        {"server_port", "25"},
    };
    assert_int_equal(ppolicy_encode(buf, cap, a, sizeof(a) / sizeof(a[0]), &len, err,
                                     sizeof(err)), 0);
    return len;
}

typedef struct {
    const char *name;
    preq_space_t sp;
    preq_conn_t who;
} space_case_t;

static const space_case_t spaces[] = {
    {"defaults_rcpt", {100, 100, 100, 0, 1, 0}, {0, 1, 0}},
    {"eom_with_sasl", {100, 100, 100, 50, 1, 1}, {3, 7, 12}},
    {"one_of_each", {1, 1, 1, 1, 0, 0}, {0, 1, 0}},
    {"huge_spaces", {16000000, 16000000, 16000000, 16000000, 0xffffff, 1},
     {1023, 0xfffffffffUL, 0xffffffffu}},
};

static void builder_matches_reference(void **state)
{
    (void) state;
    for (size_t c = 0; c < sizeof(spaces) / sizeof(spaces[0]); c++) {
        for (uint64_t n = 0; n < 3000; n++) {
            char fast[PREQ_MAX], slow[4096];
            uint64_t big = n * 0x9e3779b97f4a7c1ull;    /* large request numbers too */
            uint64_t num = n % 2 ? big : n;
            size_t len = preq_build(fast, &spaces[c].sp, num, &spaces[c].who);
            size_t want = reference(slow, sizeof(slow), &spaces[c].sp, num, &spaces[c].who);
            if (len != want || memcmp(fast, slow, len) != 0)
                fail_msg("%s: request %llu differs:\n%s\n--- want\n%s", spaces[c].name,
                         (unsigned long long) num, fast, slow);
            assert_true(len < PREQ_MAX);
            assert_int_equal(fast[len], '\0');
        }
    }
}

/* The integration test and bench/run rely on this sequence: request n's
 * sender is mix64((seed << 40) + 5n) % senders. */
static void sender_sequence_is_stable(void **state)
{
    preq_space_t sp = { 10, 100, 100, 0, 1, 0 };
    unsigned counts[10] = { 0 };
    char buf[PREQ_MAX];

    (void) state;
    for (uint64_t n = 0; n < 500; n++)
        counts[preq_key(&sp, n, PREQ_SENDER) % 10]++;
    for (unsigned i = 0; i < 10; i++)
        assert_in_range(counts[i], 20, 80);
    preq_build(buf, &sp, 0, &(preq_conn_t) { 0, 1, 0 });
    assert_non_null(strstr(buf, "\nprotocol_state=RCPT\n"));
    assert_non_null(strstr(buf, "\ninstance=1000.1.0\n"));
    assert_non_null(strstr(buf, "\nqueue_id=\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(builder_matches_reference),
        cmocka_unit_test(sender_sequence_is_stable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
