/*
 * test_config.c - the config module: types, defaults, every kind of
 * error with its file:line: [section] key: prefix, and reload.
 */
#include <limits.h>
#include <pthread.h>
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
#include "confvalue.h"

static const conf_key_t test_keys[] = {
    { "count", CONF_INT, "3", NULL, 1, 10, "a bounded integer" },
    { "limit", CONF_SIZE, "1M", NULL, 0, 0, "a size" },
    { "names", CONF_LIST, "a, b", NULL, 0, 0, "a list" },
    { "label", CONF_STRING, NULL, NULL, 0, 0, "no default" },
    { NULL, CONF_STRING, NULL, NULL, 0, 0, NULL }
};
static const conf_key_t *const test_keysets[] = { conf_milter_keys, test_keys, NULL };
static const conf_section_t test_section = { "testmilter", "for tests", test_keysets, false };
static const conf_key_t limit_keys[] = {
    { "rate", CONF_STRING, "10/1m", NULL, 0, 0, "a rate" },
    { "action", CONF_ENUM, "defer", "defer|reject", 0, 0, "what to do" },
    { NULL, CONF_STRING, NULL, NULL, 0, 0, NULL }
};
static const conf_key_t *const limit_keysets[] = { limit_keys, NULL };
static const conf_section_t limit_section = { "limit", "a named section", limit_keysets, true };
static const conf_section_t *const sections[] = { &conf_global_section, &test_section,
                                                  &limit_section, NULL };

static config_t *load(const char *text, char *err, size_t errlen)
{
    return config_load_string("t.conf", text, sections, err, errlen);
}

static void every_type_is_parsed(void **state)
{
    char err[256] = "";
    const char *const *items;
    config_t *cfg = load("[global]\n"
                         "log_level = DEBUG\n"
                         "dns_timeout = 250ms\n"
                         "dns_dnssec = on\n"
                         "dns_upstream = 127.0.0.1@5353, ::1@53 10.0.0.1\n"
                         "authserv_id = \"mx.example.org\"\n"
                         "[testmilter]\n"
                         "enable = yes\n"
                         "socket = inet:8891@127.0.0.1   ; comment\n"
                         "socket_mode = 0640\n"
                         "timeout = 2m\n"
                         "count = 7\n"
                         "limit = 64k\n",
                         err, sizeof(err));

    (void) state;
    assert_non_null(cfg);
    assert_string_equal(config_str(cfg, "global", "log_level"), "debug");
    assert_int_equal(config_duration_ms(cfg, "global", "dns_timeout"), 250);
    assert_true(config_bool(cfg, "global", "dns_dnssec"));
    assert_int_equal(config_list(cfg, "global", "dns_upstream", &items), 3);
    assert_string_equal(items[0], "127.0.0.1@5353");
    assert_string_equal(items[1], "::1@53");
    assert_string_equal(items[2], "10.0.0.1");
    assert_string_equal(config_str(cfg, "global", "authserv_id"), "mx.example.org");
    assert_true(config_bool(cfg, "testmilter", "enable"));
    assert_string_equal(config_str(cfg, "testmilter", "socket"), "inet:8891@127.0.0.1");
    assert_int_equal(config_mode(cfg, "testmilter", "socket_mode"), 0640);
    assert_int_equal(config_duration_ms(cfg, "testmilter", "timeout"), 120000);
    assert_int_equal(config_int(cfg, "testmilter", "count"), 7);
    assert_int_equal(config_size(cfg, "testmilter", "limit"), 65536);
    assert_int_equal(config_line(cfg, "testmilter", "count"), 12);
    assert_true(config_has_section(cfg, "testmilter"));
    config_unref(cfg);
}

static void absent_keys_take_their_defaults(void **state)
{
    char err[256] = "";
    const char *const *items;
    config_t *cfg = load("; nothing but a comment\n", err, sizeof(err));

    (void) state;
    assert_non_null(cfg);
    assert_false(config_has_section(cfg, "global"));
    assert_string_equal(config_str(cfg, "global", "log_level"), "info");
    assert_int_equal(config_duration_ms(cfg, "global", "dns_timeout"), 5000);
    assert_false(config_bool(cfg, "testmilter", "enable"));
    assert_true(config_bool(cfg, "testmilter", "tcp_nodelay"));
    assert_int_equal(config_int(cfg, "testmilter", "backlog"), 128);
    assert_int_equal(config_mode(cfg, "testmilter", "socket_mode"), 0660);
    assert_int_equal(config_list(cfg, "global", "internal_hosts", &items), 2);
    assert_string_equal(items[1], "::1");
    assert_null(config_str(cfg, "testmilter", "socket"));
    assert_null(config_str(cfg, "testmilter", "label"));
    assert_false(config_is_set(cfg, "global", "log_level"));
    assert_int_equal(config_line(cfg, "global", "log_level"), 0);
    /* Keys no schema declares: a programming error, answered with 0. */
    assert_null(config_str(cfg, "global", "no_such_key"));
    assert_int_equal(config_int(cfg, "nosection", "count"), 0);
    config_unref(cfg);
}

static const struct {
    const char *text;
    const char *error;          /* exact prefix of the message */
} bad_files[] = {
    { "[global]\nlog_level = chatty\n",
      "t.conf:2: [global] log_level: must be one of debug|info|notice|warning|err, got 'chatty'" },
    { "[global]\n\nno_such = 1\n", "t.conf:3: [global] no_such: unknown key" },
    { "[global]\n[dkim]\nenable = yes\n", "t.conf:2: unknown section [dkim]" },
    { "log_level = info\n", "t.conf:1: key outside any [section]" },
    { "[testmilter]\nenable = maybe\n", "t.conf:2: [testmilter] enable: not a boolean" },
    { "[global]\ndns_timeout = 5 fortnights\n", "t.conf:2: [global] dns_timeout: not a duration" },
    { "[global]\ndns_timeout = 10ms\n",
      "t.conf:2: [global] dns_timeout: must be between 100ms and 60000ms" },
    { "[testmilter]\ncount = 11\n", "t.conf:2: [testmilter] count: must be between 1 and 10" },
    { "[testmilter]\ncount = 3x\n", "t.conf:2: [testmilter] count: not an integer" },
    { "[testmilter]\nlimit = 12Q\n", "t.conf:2: [testmilter] limit: not a size" },
    { "[testmilter]\nsocket_mode = 0980\n", "t.conf:2: [testmilter] socket_mode: not an octal" },
    { "[global]\naudit_log = var/log/x\n", "t.conf:2: [global] audit_log: not an absolute path" },
    { "[global]\nuser = a\nuser = b\n",
      "t.conf:3: [global] user: duplicate key (first set on line 2)" },
    { "[global]\nuser = a\n  b\n", "t.conf:3: [global] user: continuation lines" },
    { "[global]\nthis is not a pair\n", "t.conf:2: syntax error" },
    { "[global\nuser = a\n", "t.conf:1: syntax error" },
    /* The first error in the file is the one reported. */
    { "[global]\nuser = a\nbogus = 1\nlog_level = x\n", "t.conf:3: [global] bogus" },
};

static void each_error_names_file_line_and_key(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
        char err[256] = "";
        config_t *cfg = load(bad_files[i].text, err, sizeof(err));
        if (cfg != NULL || strncmp(err, bad_files[i].error, strlen(bad_files[i].error)) != 0)
            fail_msg("case %zu: got '%s', want prefix '%s'", i, err, bad_files[i].error);
    }
}

static void named_sections_have_instances_with_their_own_values(void **state)
{
    char err[256] = "";
    const char *const *names;
    config_t *cfg = load("[limit per-user]\nrate = 100/1h\n[global]\nuser = x\n"
                         "[limit per-client]\naction = reject\n", err, sizeof(err));

    (void) state;
    assert_non_null(cfg);
    assert_int_equal(config_instances(cfg, "limit", &names), 2);
    assert_string_equal(names[0], "per-user");
    assert_string_equal(names[1], "per-client");
    assert_string_equal(config_str(cfg, "limit per-user", "rate"), "100/1h");
    assert_string_equal(config_str(cfg, "limit per-user", "action"), "defer");
    assert_string_equal(config_str(cfg, "limit per-client", "rate"), "10/1m");
    assert_string_equal(config_str(cfg, "limit per-client", "action"), "reject");
    assert_int_equal(config_line(cfg, "limit per-client", "action"), 6);
    assert_int_equal(config_instances(cfg, "global", &names), 0);
    config_unref(cfg);
}

static void named_section_errors(void **state)
{
    static const struct {
        const char *text, *error;
    } cases[] = {
        { "[limit]\nrate = 1/1s\n", "t.conf:1: section [limit] needs a name" },
        { "[limit a b]\n", "t.conf:1: section [limit a b] needs a name" },
        { "[limit x]\nburst = 3\n", "t.conf:2: [limit x] burst: unknown key" },
        { "[limit x]\naction = drop\n", "t.conf:2: [limit x] action: must be one of" },
        { "[limit x]\nrate = 1\n[limit x]\nrate = 2\n", "t.conf:4: [limit x] rate: duplicate" },
        { "[nolimit x]\n", "t.conf:1: unknown section [nolimit x]" },
    };

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[256] = "";
        config_t *cfg = load(cases[i].text, err, sizeof(err));
        if (cfg != NULL || strncmp(err, cases[i].error, strlen(cases[i].error)) != 0)
            fail_msg("case %zu: got '%s', want '%s'", i, err, cases[i].error);
    }
}

static void overlong_line_is_an_error_not_split(void **state)
{
    char text[600], err[256] = "";

    (void) state;
    /* A value that would silently lose its tail if inih split the line. */
    int n = snprintf(text, sizeof(text), "[global]\nauthserv_id = ");
    memset(text + n, 'a', 300);
    strcpy(text + n + 300, "\nuser = x\n");
    assert_null(load(text, err, sizeof(err)));
    assert_string_equal(err, "t.conf:2: line longer than 198 characters");
}

static void longest_allowed_line_is_accepted(void **state)
{
    char text[600], err[256] = "";

    (void) state;
    int n = snprintf(text, sizeof(text), "[global]\nauthserv_id = ");
    int fill = 198 - (n - 9);
    memset(text + n, 'b', (size_t) fill);
    strcpy(text + n + fill, "\n");
    config_t *cfg = load(text, err, sizeof(err));
    assert_non_null(cfg);
    assert_int_equal(strlen(config_str(cfg, "global", "authserv_id")), fill);
    config_unref(cfg);
}

#define REJECT LLONG_MIN

static const struct {
    conf_type_t type;
    const char *text;
    long long num;              /* REJECT: refused */
} values[] = {
    { CONF_BOOL, "Yes", 1 }, { CONF_BOOL, "off", 0 }, { CONF_BOOL, "1", 1 },
    { CONF_BOOL, "nope", REJECT }, { CONF_BOOL, "", REJECT },
    { CONF_DURATION, "30", 30000 }, { CONF_DURATION, "1h", 3600000 },
    { CONF_DURATION, "2d", 172800000 }, { CONF_DURATION, "5 m", 300000 },
    { CONF_DURATION, "-5s", REJECT }, { CONF_DURATION, "s", REJECT },
    { CONF_DURATION, "99999999999999999999s", REJECT },
    { CONF_DURATION, "9223372036854775807d", REJECT },
    { CONF_SIZE, "10M", 10485760 }, { CONF_SIZE, "1G", 1073741824LL },
    { CONF_SIZE, "512", 512 }, { CONF_SIZE, "1T", REJECT },
    { CONF_INT, "-4", -4 }, { CONF_INT, "", REJECT }, { CONF_INT, "0x10", REJECT },
    { CONF_MODE, "0600", 0600 }, { CONF_MODE, "17777", REJECT }, { CONF_MODE, "", REJECT },
};

static void value_types_accept_and_reject(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        conf_key_t key = { "k", values[i].type, NULL, NULL, 0, 0, "" };
        char *text = NULL, **items = NULL, why[128];
        size_t nitems = 0;
        long long num = 0;
        int rc = confvalue_parse(&key, values[i].text, &text, &num, &items,
                                 &nitems, why, sizeof(why));
        if (values[i].num == REJECT) {
            if (rc != -1)
                fail_msg("case %zu '%s' accepted", i, values[i].text);
        } else if (rc != 0 || num != values[i].num) {
            fail_msg("case %zu '%s': rc %d num %lld", i, values[i].text, rc, num);
        }
        free(text);
    }
}

static void quotes_and_empty_lists(void **state)
{
    char err[256] = "";
    const char *const *items;
    config_t *cfg = load("[global]\ninternal_hosts =\nauthserv_id = \" x \"\n",
                         err, sizeof(err));

    (void) state;
    assert_non_null(cfg);
    assert_int_equal(config_list(cfg, "global", "internal_hosts", &items), 0);
    assert_string_equal(config_str(cfg, "global", "authserv_id"), " x ");
    config_unref(cfg);
}

static char *write_temp(const char *text)
{
    char *path = strdup("/tmp/postern-test-config.XXXXXX");
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
    close(fd);
    return path;
}

static void rewrite(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void shared_file_skips_other_components_sections_only(void **state)
{
    char err[256] = "";
    char *path = write_temp("[global]\nlog_level = debug\n[dkim]\nselector = s1\n"
                            "[attach-rule exe]\next = exe\n[testmilter]\ncount = 5\n"
                            "[limit a]\nrate = 5/1h\n");
    config_t *cfg;

    (void) state;
    /* Strict: the other components' sections are errors. */
    assert_null(config_load(path, sections, err, sizeof(err)));
    assert_non_null(strstr(err, ":3: unknown section [dkim]"));
    /* Shared: skipped; our own sections are read and checked. */
    cfg = config_load_shared(path, sections, err, sizeof(err));
    assert_non_null(cfg);
    assert_string_equal(config_str(cfg, "global", "log_level"), "debug");
    assert_int_equal(config_int(cfg, "testmilter", "count"), 5);
    assert_string_equal(config_str(cfg, "limit a", "rate"), "5/1h");
    assert_false(config_has_section(cfg, "dkim"));
    config_unref(cfg);
    rewrite(path, "[dkim]\nx = 1\n[testmilter]\ncount = 50\n");
    assert_null(config_load_shared(path, sections, err, sizeof(err)));
    assert_non_null(strstr(err, ":4: [testmilter] count"));
    rewrite(path, "[limit]\nrate = 5/1h\n");      /* our named section, no name */
    assert_null(config_load_shared(path, sections, err, sizeof(err)));
    assert_non_null(strstr(err, "needs a name"));
    unlink(path);
    free(path);
}

static void missing_file_names_the_file_and_why(void **state)
{
    char err[256] = "";

    (void) state;
    assert_null(config_load("/nonexistent/postern.conf", sections, err, sizeof(err)));
    assert_string_equal(err, "/nonexistent/postern.conf: No such file or directory");
}

static void file_errors_carry_the_path(void **state)
{
    char err[256] = "", want[300];
    char *path = write_temp("[global]\nuser = a\nbogus = 2\n");

    (void) state;
    assert_null(config_load(path, sections, err, sizeof(err)));
    snprintf(want, sizeof(want), "%s:3: [global] bogus: unknown key", path);
    assert_string_equal(err, want);
    unlink(path);
    free(path);
}

static void nul_byte_in_file_is_an_error(void **state)
{
    char err[256] = "";
    char *path = write_temp("[global]\n");
    FILE *f = fopen(path, "a");

    (void) state;
    fwrite("user = a\0b\n", 1, 11, f);
    fclose(f);
    assert_null(config_load(path, sections, err, sizeof(err)));
    assert_non_null(strstr(err, ":2: contains a NUL byte"));
    unlink(path);
    free(path);
}

static void reload_swaps_good_and_keeps_old_on_bad(void **state)
{
    char err[256] = "";
    char *path = write_temp("[global]\nuser = first\n");
    config_t *cfg = config_load(path, sections, err, sizeof(err));
    confholder_t *h;

    (void) state;
    assert_non_null(cfg);
    h = confholder_new(cfg);
    config_t *held = confholder_acquire(h);

    rewrite(path, "[global]\nuser = second\n");
    assert_int_equal(confholder_reload(h, sections, err, sizeof(err)), 0);
    /* The reference taken before the swap still reads the old values. */
    assert_string_equal(config_str(held, "global", "user"), "first");
    config_unref(held);
    held = confholder_acquire(h);
    assert_string_equal(config_str(held, "global", "user"), "second");
    config_unref(held);

    rewrite(path, "[global]\nuser = third\nbogus = 1\n");
    assert_int_equal(confholder_reload(h, sections, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":3: [global] bogus: unknown key"));
    held = confholder_acquire(h);
    assert_string_equal(config_str(held, "global", "user"), "second");
    config_unref(held);

    confholder_free(h);
    unlink(path);
    free(path);
}

struct reader_arg {
    confholder_t *h;
    int bad;
};

static void *reader_thread(void *p)
{
    struct reader_arg *a = p;

    for (int i = 0; i < 2000; i++) {
        config_t *c = confholder_acquire(a->h);
        const char *u = config_str(c, "global", "user");
        if (u == NULL || (strcmp(u, "even") != 0 && strcmp(u, "odd") != 0))
            a->bad++;
        config_unref(c);
    }
    return NULL;
}

static void readers_survive_concurrent_reloads(void **state)
{
    char err[256] = "";
    char *path = write_temp("[global]\nuser = even\n");
    confholder_t *h = confholder_new(config_load(path, sections, err, sizeof(err)));
    pthread_t t[4];
    struct reader_arg args[4];

    (void) state;
    for (int i = 0; i < 4; i++) {
        args[i] = (struct reader_arg) { h, 0 };
        pthread_create(&t[i], NULL, reader_thread, &args[i]);
    }
    for (int i = 0; i < 50; i++) {
        rewrite(path, i % 2 ? "[global]\nuser = odd\n" : "[global]\nuser = even\n");
        assert_int_equal(confholder_reload(h, sections, err, sizeof(err)), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(args[i].bad, 0);
    }
    confholder_free(h);
    unlink(path);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_type_is_parsed),
        cmocka_unit_test(absent_keys_take_their_defaults),
        cmocka_unit_test(each_error_names_file_line_and_key),
        cmocka_unit_test(named_sections_have_instances_with_their_own_values),
        cmocka_unit_test(named_section_errors),
        cmocka_unit_test(overlong_line_is_an_error_not_split),
        cmocka_unit_test(longest_allowed_line_is_accepted),
        cmocka_unit_test(value_types_accept_and_reject),
        cmocka_unit_test(quotes_and_empty_lists),
        cmocka_unit_test(missing_file_names_the_file_and_why),
        cmocka_unit_test(file_errors_carry_the_path),
        cmocka_unit_test(nul_byte_in_file_is_an_error),
        cmocka_unit_test(shared_file_skips_other_components_sections_only),
        cmocka_unit_test(reload_swaps_good_and_keeps_old_on_bad),
        cmocka_unit_test(readers_survive_concurrent_reloads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
