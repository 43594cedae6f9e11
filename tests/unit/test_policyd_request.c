/*
 * test_policyd_request.c - policy requests from untrusted bytes, and the
 * per-request parts of a limit: key, cost, reply, stage and exemptions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

#include "limit.h"
#include "request.h"

static request_t req;

#define RCPT_REQUEST \
    "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n" \
    "client_address=192.0.2.77\nclient_name=mail.example.net\nhelo_name=mail.example.net\n" \
    "sender=Alice@Example.NET\nrecipient=bob@example.org\nrecipient_count=0\n" \
    "queue_id=\ninstance=1a2b.5f3c.1\nsize=0\nsasl_username=\nfuture_attribute=x=y\n\n"

static void parses_a_postfix_request_and_keeps_the_rest(void **state)
{
    char buf[] = RCPT_REQUEST "request=smtpd_access_policy\n";
    char err[128];
    size_t used = 0;

    (void) state;
    assert_int_equal(request_parse(buf, strlen(buf), &req, &used, err, sizeof(err)),
                     REQUEST_OK);
    assert_int_equal(used, strlen(RCPT_REQUEST));
    assert_string_equal(request_get(&req, "sender"), "Alice@Example.NET");
    assert_string_equal(request_get(&req, "queue_id"), "");
    assert_string_equal(request_get(&req, "future_attribute"), "x=y");
    assert_string_equal(request_get(&req, "absent"), "");
    /* The buffer may be reused at once: values live in the request. */
    memset(buf, 'Z', sizeof(buf) - 1);
    assert_string_equal(request_get(&req, "recipient"), "bob@example.org");
}

static const struct {
    const char *text;
    request_status_t want;
    const char *why;
} framing[] = {
    { "sender=a@b\n", REQUEST_PARTIAL, NULL },
    { "sender=a@b\r\nrecipient=c@d\r\n\r\n", REQUEST_OK, NULL },
    { "sender=a@b\nsender=evil@x\n\n", REQUEST_OK, NULL },
    { "\n", REQUEST_BAD, "empty request" },
    { "no equals sign\n\n", REQUEST_BAD, "not a name=value line" },
    { "=value\n\n", REQUEST_BAD, "not a name=value line" },
    { "bad-name=1\n\n", REQUEST_BAD, "not a name=value line" },
    { "\x01\x02\x03\n\n", REQUEST_BAD, "not a name=value line" },
};

static void framing_and_garbage(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof(framing) / sizeof(framing[0]); i++) {
        char err[128] = "";
        size_t used;
        request_status_t st = request_parse(framing[i].text, strlen(framing[i].text), &req,
                                            &used, err, sizeof(err));
        if (st != framing[i].want || (framing[i].why && strstr(err, framing[i].why) == NULL))
            fail_msg("case %zu: status %d err '%s'", i, st, err);
    }
    size_t used;
    char err[64];
    request_parse("sender=a@b\nsender=evil@x\n\n", 26, &req, &used, err, sizeof(err));
    assert_string_equal(request_get(&req, "sender"), "a@b");
}

static void oversized_and_nul_requests_are_refused(void **state)
{
    char *big = malloc(REQUEST_MAX_BYTES + 100), err[128];
    size_t used;

    (void) state;
    memset(big, 'a', REQUEST_MAX_BYTES + 99);
    memcpy(big, "x=", 2);
    assert_int_equal(request_parse(big, REQUEST_MAX_BYTES - 1, &req, &used, err, sizeof(err)),
                     REQUEST_PARTIAL);
    assert_int_equal(request_parse(big, REQUEST_MAX_BYTES + 99, &req, &used, err, sizeof(err)),
                     REQUEST_BAD);
    assert_non_null(strstr(err, "longer than"));
    assert_int_equal(request_parse("a=b\0c\n\n", 7, &req, &used, err, sizeof(err)), REQUEST_BAD);
    assert_non_null(strstr(err, "NUL byte in attribute 'a'"));
    assert_int_equal(request_parse("x=1\nsender=a\0b\ny=2\n\n", 20, &req, &used, err,
                                   sizeof(err)), REQUEST_BAD);
    assert_non_null(strstr(err, "NUL byte in attribute 'sender'"));
    /* Too many attributes. */
    size_t o = 0;
    for (int i = 0; i < REQUEST_MAX_ATTRS + 1; i++)
        o += (size_t) sprintf(big + o, "a%d=v\n", i);
    big[o++] = '\n';
    assert_int_equal(request_parse(big, o, &req, &used, err, sizeof(err)), REQUEST_BAD);
    assert_non_null(strstr(err, "more than"));
    free(big);
}

/* Many names, some alike in length and first and last letters (the
 * repeat bitmap's hash), each sent twice: every first value stands, no
 * repeat is stored, and the indexed attributes agree with the search. */
static void repeats_among_many_attributes_keep_the_first_value(void **state)
{
    static char text[REQUEST_MAX_BYTES];
    char err[128], name[16];
    size_t o = 0, used;

    (void) state;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < 40; i++)
            o += (size_t) sprintf(text + o, "a%02dz=%d.%d\n", i, pass, i);
        o += (size_t) sprintf(text + o, "sender=s%d@x\nSender=other%d\nsize=%d\n", pass, pass,
                              pass + 10);
    }
    text[o++] = '\n';
    assert_int_equal(request_parse(text, o, &req, &used, err, sizeof(err)), REQUEST_OK);
    assert_int_equal(used, o);
    assert_int_equal(req.nattrs, 43);
    for (int i = 0; i < 40; i++) {
        char want[16];
        snprintf(name, sizeof(name), "a%02dz", i);
        snprintf(want, sizeof(want), "0.%d", i);
        assert_string_equal(request_get(&req, name), want);
    }
    assert_string_equal(request_value(&req, REQ_SENDER), "s0@x");
    assert_string_equal(request_get(&req, "sender"), "s0@x");
    assert_string_equal(request_get(&req, "Sender"), "other0");   /* names are case-sensitive */
    assert_string_equal(request_value(&req, REQ_SIZE), "10");
    assert_string_equal(request_value(&req, REQ_RECIPIENT), "");
}

static limits_t *load_limits(const char *text)
{
    static const conf_section_t *const sections[] = { &conf_global_section,
                                                      &limit_conf_section, NULL };
    char err[256] = "";
    config_t *cfg = config_load_string("p.conf", text, sections, err, sizeof(err));
    limits_t *ls;

    if (cfg == NULL)
        fail_msg("%s", err);
    ls = limits_from_config(cfg, err, sizeof(err));
    if (ls == NULL)
        fail_msg("%s", err);
    config_unref(cfg);
    return ls;
}

static void parse_request(const char *text)
{
    char err[128];
    size_t used;

    assert_int_equal(request_parse(text, strlen(text), &req, &used, err, sizeof(err)), REQUEST_OK);
}

static void keys_are_built_from_attributes_in_lower_case(void **state)
{
    limits_t *ls = load_limits(
        "[limit by-sender]\nkey = sender\nstage = rcpt\nrate = 10/1h\n"
        "[limit by-net]\nkey = sender_domain, client_net\nstage = rcpt\nrate = 10/1h\n"
        "[limit by-user]\nkey = sasl_username\nstage = rcpt\nrate = 10/1h\n"
        "[limit at-eom]\nkey = client_address\nrate = 10/1h\n"
        "[limit exempted]\nkey = recipient_domain\nstage = rcpt\nrate = 1/1h\n"
        "exempt = 192.0.2.0/24\n"
        "[limit vip]\nkey = sender_domain, client_net\nstage = rcpt\nrate = 1/1h\n"
        "exempt_keys = Example.NET|192.0.2.0/24\n");
    char key[LIMIT_KEY_MAX];

    (void) state;
    parse_request(RCPT_REQUEST);
    assert_int_equal(limits_count(ls), 6);
    assert_false(limit_key(limits_get(ls, 5), &req, key, sizeof(key)));   /* exempt key */
    assert_true(limit_key(limits_get(ls, 0), &req, key, sizeof(key)));
    assert_string_equal(key, "by-sender|alice@example.net");
    assert_true(limit_key(limits_get(ls, 1), &req, key, sizeof(key)));
    assert_string_equal(key, "by-net|example.net|192.0.2.0/24");
    assert_false(limit_key(limits_get(ls, 2), &req, key, sizeof(key)));   /* no SASL */
    assert_false(limit_key(limits_get(ls, 3), &req, key, sizeof(key)));   /* wrong stage */
    assert_false(limit_key(limits_get(ls, 4), &req, key, sizeof(key)));   /* exempt */
    parse_request("protocol_state=RCPT\nclient_address=2001:db8:1:2:3:4:5:6\n"
                  "sender=a@b.example\n\n");
    assert_true(limit_key(limits_get(ls, 1), &req, key, sizeof(key)));
    assert_string_equal(key, "by-net|b.example|2001:db8:1:2::/64");
    parse_request("protocol_state=RCPT\nclient_address=192.0.2.1\nsender=\n\n");
    assert_false(limit_key(limits_get(ls, 0), &req, key, sizeof(key)));  /* bounces */
    limits_free(ls);
}

static void costs_follow_count_and_stage(void **state)
{
    limits_t *ls = load_limits(
        "[limit m-eom]\nrate = 10/1h\n"
        "[limit m-rcpt]\nstage = rcpt\nrate = 10/1h\n"
        "[limit r-eom]\ncount = recipients\nrate = 10/1h\n"
        "[limit r-rcpt]\ncount = recipients\nstage = rcpt\nrate = 10/1h\n"
        "[limit bytes]\ncount = bytes\nrate = 10000000/1d\n");

    (void) state;
    parse_request("protocol_state=RCPT\nrecipient_count=0\n\n");
    assert_int_equal(limit_cost(limits_get(ls, 0), &req), 0);
    assert_int_equal(limit_cost(limits_get(ls, 1), &req), 1);
    assert_int_equal(limit_cost(limits_get(ls, 3), &req), 1);
    parse_request("protocol_state=RCPT\nrecipient_count=3\n\n");
    assert_int_equal(limit_cost(limits_get(ls, 1), &req), 0);   /* same message */
    assert_int_equal(limit_cost(limits_get(ls, 3), &req), 1);
    parse_request("protocol_state=END-OF-MESSAGE\nrecipient_count=4\nsize=52311\n\n");
    assert_int_equal(limit_cost(limits_get(ls, 0), &req), 1);
    assert_int_equal(limit_cost(limits_get(ls, 2), &req), 4);
    assert_int_equal(limit_cost(limits_get(ls, 4), &req), 52311);
    assert_int_equal(limit_cost(limits_get(ls, 1), &req), 0);
    parse_request("protocol_state=END-OF-MESSAGE\nsize=12x\n\n");
    assert_int_equal(limit_cost(limits_get(ls, 4), &req), 0);
    limits_free(ls);
}

static void replies_carry_action_text_and_name(void **state)
{
    limits_t *ls = load_limits(
        "[limit d]\nrate = 1/1h\n"
        "[limit r]\nrate = 1/1h\naction = reject\ntext = \"Too much mail\"\n"
        "[limit w]\nrate = 1/1h\naction = warn\n[limit h]\nrate = 1/1h\naction = hold\n");
    gcra_result_t res = { false, 36 * GCRA_SECOND + 1, 0 };
    char buf[512];

    (void) state;
    limit_reply(limits_get(ls, 0), &res, buf, sizeof(buf));
    assert_string_equal(buf, "action=DEFER_IF_PERMIT 4.7.1 Rate limit exceeded, try again"
                             " later (retry in 37s) [d]");
    limit_reply(limits_get(ls, 1), &res, buf, sizeof(buf));
    assert_string_equal(buf, "action=REJECT 5.7.1 Too much mail [r]");
    limit_reply(limits_get(ls, 2), &res, buf, sizeof(buf));
    assert_string_equal(buf, "action=DUNNO");
    limit_reply(limits_get(ls, 3), &res, buf, sizeof(buf));
    assert_string_equal(buf, "action=HOLD Rate limit exceeded, try again later [h]");
    limits_free(ls);
}

static void bad_limits_name_the_section_and_key(void **state)
{
    static const struct {
        const char *text, *error;
    } cases[] = {
        { "[limit a]\nkey = sender\n", "p.conf: [limit a] rate: required" },
        { "[limit a]\nrate = lots\n", "p.conf:2: [limit a] rate: not a rate" },
        { "[limit a]\nrate = 1/1h\nkey = helo\n", "p.conf:3: [limit a] key: unknown attribute" },
        { "[limit a]\nrate = 1/1h\nkey = sender sender sender sender sender\n",
          "[limit a] key: between 1 and 4" },
        { "[limit a]\nrate = 1/1h\ncount = bytes\nstage = rcpt\n",
          "p.conf:4: [limit a] stage: bytes are known only at eom" },
        { "[limit a]\nrate = 1/1h\nexempt = 10.0.0.1/8\n", "p.conf:3: [limit a] exempt:" },
    };
    static const conf_section_t *const sections[] = { &conf_global_section,
                                                      &limit_conf_section, NULL };

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[256] = "";
        config_t *cfg = config_load_string("p.conf", cases[i].text, sections, err, sizeof(err));
        limits_t *ls = cfg ? limits_from_config(cfg, err, sizeof(err)) : NULL;
        if (ls != NULL || strstr(err, cases[i].error) == NULL)
            fail_msg("case %zu: '%s'", i, err);
        config_unref(cfg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_a_postfix_request_and_keeps_the_rest),
        cmocka_unit_test(framing_and_garbage),
        cmocka_unit_test(oversized_and_nul_requests_are_refused),
        cmocka_unit_test(repeats_among_many_attributes_keep_the_first_value),
        cmocka_unit_test(keys_are_built_from_attributes_in_lower_case),
        cmocka_unit_test(costs_follow_count_and_stage),
        cmocka_unit_test(replies_carry_action_text_and_name),
        cmocka_unit_test(bad_limits_name_the_section_and_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
