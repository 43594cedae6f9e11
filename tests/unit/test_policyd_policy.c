/*
 * test_policyd_policy.c - the memory back end (counting, expiry, the
 * key bound, the state file) and the policy decision on top of it (most
 * severe action wins, warn only logs, monitor mode, failure actions).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

#include "backend.h"
#include "limit.h"
#include "policy.h"
#include "request.h"

#define S GCRA_SECOND
#define T0 (1800000000LL * S)

typedef struct answer {
    int status;
    gcra_result_t r;
} answer_t;

static void got(void *arg, int status, const gcra_result_t *r, const char *err)
{
    answer_t *a = arg;

    (void) err;
    a->status = status;
    if (r != NULL)
        a->r = *r;
}

static answer_t apply(backend_t *b, const char *key, const gcra_params_t *p, int64_t now)
{
    answer_t a = { -2, { false, 0, 0 } };

    b->ops->apply(b, key, p, now, 1, got, &a);
    assert_int_not_equal(a.status, -2);     /* memory answers at once */
    return a;
}

static gcra_params_t two_per_minute(void)
{
    gcra_params_t p;
    char err[64];

    gcra_params_init(&p, 2, 60 * S, 0, err, sizeof(err));
    return p;
}

static void memory_counts_per_key_and_expires_idle_keys(void **state)
{
    char err[128];
    backend_t *b = backend_memory_new(100, NULL, T0, err, sizeof(err));
    gcra_params_t p = two_per_minute();
    int64_t tat;

    (void) state;
    assert_true(apply(b, "k1", &p, T0).r.allowed);
    assert_true(apply(b, "k1", &p, T0).r.allowed);
    assert_false(apply(b, "k1", &p, T0).r.allowed);
    assert_true(apply(b, "k2", &p, T0).r.allowed);
    assert_int_equal(backend_memory_count(b), 2);
    assert_int_equal(b->ops->peek(b, "k1", &tat), 0);
    assert_int_equal(tat, T0 + 60 * S);
    b->ops->tick(b, T0 + 61 * S);
    assert_int_equal(backend_memory_count(b), 0);
    assert_true(apply(b, "k1", &p, T0 + 61 * S).r.allowed);
    b->ops->free(b);
}

static void full_table_is_an_error_until_keys_expire(void **state)
{
    char err[128], key[32];
    backend_t *b = backend_memory_new(50, NULL, T0, err, sizeof(err));
    gcra_params_t p = two_per_minute();

    (void) state;
    for (int i = 0; i < 50; i++) {
        snprintf(key, sizeof(key), "key%d", i);
        assert_int_equal(apply(b, key, &p, T0).status, 0);
    }
    assert_int_equal(apply(b, "one-more", &p, T0).status, -1);
    /* Later the idle keys have expired and make room by themselves. */
    assert_int_equal(apply(b, "one-more", &p, T0 + 31 * S).status, 0);
    /* Churn through many keys: tombstones must not fill the table. */
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof(key), "churn%d", i);
        assert_int_equal(apply(b, key, &p, T0 + (int64_t) (100 + i) * 60 * S).status, 0);
    }
    b->ops->free(b);
}

static void table_grows_from_small_to_many_keys(void **state)
{
    char err[128], key[32];
    backend_t *b = backend_memory_new(200000, NULL, T0, err, sizeof(err));
    gcra_params_t p = two_per_minute();

    (void) state;
    for (int i = 0; i < 100000; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        assert_int_equal(apply(b, key, &p, T0).status, 0);
    }
    assert_int_equal(backend_memory_count(b), 100000);
    assert_true(apply(b, "k99999", &p, T0).r.allowed);
    assert_false(apply(b, "k99999", &p, T0).r.allowed);     /* still counted */
    b->ops->free(b);
}

static void state_file_keeps_counters_across_a_restart(void **state)
{
    char path[] = "/tmp/postern-test-state.XXXXXX", err[128];
    int fd = mkstemp(path);
    gcra_params_t p = two_per_minute();
    backend_t *b;

    (void) state;
    close(fd);
    unlink(path);
    b = backend_memory_new(100, path, T0, err, sizeof(err));
    apply(b, "sender|a@example.net", &p, T0);
    apply(b, "sender|a@example.net", &p, T0);
    b->ops->free(b);                        /* saves */
    b = backend_memory_new(100, path, T0 + S, err, sizeof(err));
    assert_non_null(b);
    assert_false(apply(b, "sender|a@example.net", &p, T0 + S).r.allowed);
    b->ops->free(b);
    /* A torn last line (crash while saving) is skipped, the rest kept. */
    FILE *f = fopen(path, "a");
    fputs("123456", f);
    fclose(f);
    b = backend_memory_new(100, path, T0 + S, err, sizeof(err));
    assert_non_null(b);
    assert_false(apply(b, "sender|a@example.net", &p, T0 + S).r.allowed);
    b->ops->free(b);
    /* An unreadable path is an error with the path. */
    assert_null(backend_memory_new(100, "/proc/version/x", T0, err, sizeof(err)));
    assert_non_null(strstr(err, "/proc/version/x"));
    unlink(path);
}

/* ---- decisions ---- */

static const conf_section_t *const sections[] = { &conf_global_section, &limit_conf_section,
                                                  NULL };
static char reply[512];

static void on_reply(void *arg, const char *r)
{
    (void) arg;
    snprintf(reply, sizeof(reply), "%s", r);
}

static const char *decide(policy_t *p, const char *text, int64_t now)
{
    static request_t req;
    char err[128];
    size_t used;

    assert_int_equal(request_parse(text, strlen(text), &req, &used, err, sizeof(err)), REQUEST_OK);
    reply[0] = '\0';
    assert_int_equal(policy_decide(p, &req, now, on_reply, NULL), 0);
    return reply;
}

static limits_t *limits_of(const char *text)
{
    char err[256];
    config_t *cfg = config_load_string("p.conf", text, sections, err, sizeof(err));
    limits_t *ls = limits_from_config(cfg, err, sizeof(err));

    config_unref(cfg);
    return ls;
}

#define REQ(sender) "protocol_state=RCPT\nrecipient_count=0\nclient_address=192.0.2.9\n" \
                    "sender=" sender "\n\n"

static void most_severe_limit_answers_and_warn_only_logs(void **state)
{
    char err[64];
    limits_t *ls = limits_of("[limit w]\nstage = rcpt\nrate = 1/1h\naction = warn\n"
                             "[limit d]\nstage = rcpt\nrate = 2/1h\naction = defer\n"
                             "[limit r]\nstage = rcpt\nrate = 3/1h\naction = reject\n");
    backend_t *b = backend_memory_new(100, NULL, T0, err, sizeof(err));
    policy_opts_t o = { false, false };
    policy_t *p = policy_new(ls, b, NULL, &o);
    policy_stats_t st;

    (void) state;
    assert_string_equal(decide(p, REQ("a@x"), T0), "action=DUNNO");
    assert_string_equal(decide(p, REQ("a@x"), T0), "action=DUNNO");       /* w over: warn */
    assert_true(strncmp(decide(p, REQ("a@x"), T0), "action=DEFER_IF_PERMIT 4.7.1", 28) == 0);
    assert_true(strncmp(decide(p, REQ("a@x"), T0), "action=REJECT 5.7.1", 19) == 0);
    assert_string_equal(decide(p, REQ("b@x"), T0), "action=DUNNO");
    assert_string_equal(decide(p, "protocol_state=DATA\n\n", T0), "action=DUNNO");
    policy_get_stats(p, &st);
    assert_int_equal(st.requests, 6);
    assert_int_equal(st.over_limit, 1 + 2 + 3);
    policy_free(p);
    b->ops->free(b);
    limits_free(ls);
}

static void monitor_mode_answers_dunno(void **state)
{
    char err[64];
    limits_t *ls = limits_of("[limit r]\nstage = rcpt\nrate = 1/1h\naction = reject\n");
    backend_t *b = backend_memory_new(100, NULL, T0, err, sizeof(err));
    policy_opts_t o = { true, false };
    policy_t *p = policy_new(ls, b, NULL, &o);

    (void) state;
    for (int i = 0; i < 5; i++)
        assert_string_equal(decide(p, REQ("a@x"), T0), "action=DUNNO");
    policy_free(p);
    b->ops->free(b);
    limits_free(ls);
}

static void backend_failure_answers_the_configured_action(void **state)
{
    char err[64];
    limits_t *ls = limits_of("[limit r]\nstage = rcpt\nrate = 10/1h\n");
    backend_t *b = backend_memory_new(1, NULL, T0, err, sizeof(err));
    policy_opts_t open = { false, false }, closed = { false, true };
    policy_t *p = policy_new(ls, b, NULL, &open);

    (void) state;
    assert_string_equal(decide(p, REQ("first@x"), T0), "action=DUNNO");
    /* The table is full (max_keys 1): fail open ... */
    assert_string_equal(decide(p, REQ("second@x"), T0), "action=DUNNO");
    policy_free(p);
    /* ... or closed. */
    p = policy_new(ls, b, NULL, &closed);
    assert_true(strncmp(decide(p, REQ("second@x"), T0),
                        "action=DEFER_IF_PERMIT 4.3.0", 28) == 0);
    policy_free(p);
    b->ops->free(b);
    limits_free(ls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(memory_counts_per_key_and_expires_idle_keys),
        cmocka_unit_test(full_table_is_an_error_until_keys_expire),
        cmocka_unit_test(table_grows_from_small_to_many_keys),
        cmocka_unit_test(state_file_keeps_counters_across_a_restart),
        cmocka_unit_test(most_severe_limit_answers_and_warn_only_logs),
        cmocka_unit_test(monitor_mode_answers_dunno),
        cmocka_unit_test(backend_failure_answers_the_configured_action),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
