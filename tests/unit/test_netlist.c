/*
 * test_netlist.c - CIDR lists: parsing, the first-match rule with "!",
 * IPv4-mapped addresses, files, and a large list.
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
#include <time.h>

#include <cmocka.h>

#include "netlist.h"

static const struct {
    const char *addr;
    bool want;
} cases[] = {
    { "127.0.0.1", true }, { "127.255.255.255", true }, { "128.0.0.1", false },
    { "::1", true }, { "::2", false },
    { "10.1.2.3", false },          /* excluded by !10.1.2.0/24, listed first */
    { "10.1.3.3", true }, { "10.255.0.1", true },
    { "192.0.2.7", true }, { "192.0.2.8", false },
    { "2001:db8::1", true }, { "2001:db8:ffff::1", true }, { "2001:db9::1", false },
    { "::ffff:10.9.9.9", true },    /* IPv4-mapped IPv6 matches IPv4 entries */
    { "::ffff:10.1.2.9", false },
    { "[10.9.9.9]", true }, { "IPv6:2001:db8::5", true }, { "[IPv6:::1]", true },
    { "not an address", false }, { "", false }, { "10.9.9.9/32", false },
    { "999.1.1.1", false },
};

static netlist_t *sample(void)
{
    char err[256];
    netlist_t *nl = netlist_new();

    if (netlist_add_list(nl, "127.0.0.0/8, ::1 !10.1.2.0/24,10.0.0.0/8 "
                         "192.0.2.7 2001:db8::/32", err, sizeof(err)) != 0)
        fail_msg("%s", err);
    return nl;
}

static void addresses_match_the_first_entry_that_contains_them(void **state)
{
    netlist_t *nl = sample();

    (void) state;
    assert_int_equal(netlist_count(nl), 6);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (netlist_match_str(nl, cases[i].addr) != cases[i].want)
            fail_msg("%s: want %d", cases[i].addr, cases[i].want);
    netlist_free(nl);
}

static void later_negation_does_not_override_earlier_match(void **state)
{
    char err[128];
    netlist_t *nl = netlist_new();

    (void) state;
    assert_int_equal(netlist_add_list(nl, "10.0.0.0/8 !10.1.2.0/24", err, sizeof(err)), 0);
    assert_true(netlist_match_str(nl, "10.1.2.3"));
    netlist_free(nl);
}

static void sockaddr_and_binary_forms_agree(void **state)
{
    netlist_t *nl = sample();
    struct sockaddr_in sin = { .sin_family = AF_INET };
    struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };

    (void) state;
    inet_pton(AF_INET, "10.200.0.1", &sin.sin_addr);
    assert_true(netlist_match_sockaddr(nl, (struct sockaddr *) &sin));
    inet_pton(AF_INET6, "::ffff:10.1.2.1", &sin6.sin6_addr);
    assert_false(netlist_match_sockaddr(nl, (struct sockaddr *) &sin6));
    inet_pton(AF_INET6, "2001:db8:aa::", &sin6.sin6_addr);
    assert_true(netlist_match(nl, AF_INET6, &sin6.sin6_addr));
    assert_false(netlist_match(nl, AF_UNIX, &sin6.sin6_addr));
    assert_false(netlist_match_sockaddr(nl, NULL));
    netlist_free(nl);
}

static const struct {
    const char *entry;
    const char *why;
} bad[] = {
    { "10.1.2.3/8", "bits set past the prefix (the network is 10.0.0.0/8)" },
    { "10.0.0.0/33", "bad prefix length" },
    { "2001:db8::/129", "bad prefix length" },
    { "10.0.0.0/", "bad prefix length" },
    { "10.0.0.0/-1", "bad prefix length" },
    { "example.com", "not an IPv4 or IPv6 address" },
    { "!", "not an IPv4 or IPv6 address" },
    { "[10.0.0.0]/8", "not an IPv4 or IPv6 address" },
};

static void bad_entries_say_why_and_add_nothing(void **state)
{
    netlist_t *nl = netlist_new();
    char err[256];

    (void) state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        if (netlist_add(nl, bad[i].entry, err, sizeof(err)) != -1
            || strstr(err, bad[i].why) == NULL)
            fail_msg("'%s': error '%s'", bad[i].entry, err);
    }
    /* A list with one bad item adds none of it. */
    assert_int_equal(netlist_add_list(nl, "192.0.2.0/24, 10.1.2.3/8", err, sizeof(err)), -1);
    assert_int_equal(netlist_count(nl), 0);
    assert_false(netlist_match_str(nl, "192.0.2.1"));
    netlist_free(nl);
}

static void files_load_with_comments_and_line_numbers(void **state)
{
    char path[512], err[256] = "";
    netlist_t *nl = netlist_new();

    (void) state;
    snprintf(path, sizeof(path), "%s/netlist/internal.list", getenv("POSTERN_TEST_DATA"));
    assert_int_equal(netlist_load_file(nl, path, err, sizeof(err)), 0);
    assert_int_equal(netlist_count(nl), 4);
    assert_true(netlist_match_str(nl, "192.0.2.200"));
    assert_true(netlist_match_str(nl, "2001:db8:1:ff::1"));
    assert_true(netlist_match_str(nl, "198.51.100.5"));
    assert_false(netlist_match_str(nl, "198.51.100.200"));
    snprintf(path, sizeof(path), "%s/netlist/bad.list", getenv("POSTERN_TEST_DATA"));
    assert_int_equal(netlist_load_file(nl, path, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "bad.list:2: '10.1.2.3/8'"));
    assert_int_equal(netlist_count(nl), 4);    /* unchanged */
    assert_int_equal(netlist_load_file(nl, "/nonexistent/list", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/list: No such file"));
    netlist_free(nl);
}

static void list_items_starting_with_slash_are_files(void **state)
{
    char text[600], err[256] = "";
    netlist_t *nl = netlist_new();

    (void) state;
    snprintf(text, sizeof(text), "127.0.0.0/8, %s/netlist/internal.list",
             getenv("POSTERN_TEST_DATA"));
    assert_int_equal(netlist_add_list(nl, text, err, sizeof(err)), 0);
    assert_int_equal(netlist_count(nl), 5);
    assert_true(netlist_match_str(nl, "192.0.2.1"));
    netlist_free(nl);
}

static void large_list_stays_correct(void **state)
{
    netlist_t *nl = netlist_new();
    char *text = malloc(10000 * 20), err[128], addr[32];
    struct timespec t0, t1;
    unsigned hits = 0;
    size_t o = 0;

    (void) state;
    /* 10,000 /24 networks in 10.0.0.0/8, every other one. */
    for (unsigned i = 0; i < 20000; i += 2)
        o += (size_t) sprintf(text + o, "10.%u.%u.0/24 ", i / 256, i % 256);
    assert_int_equal(netlist_add_list(nl, text, err, sizeof(err)), 0);
    assert_int_equal(netlist_count(nl), 10000);
    free(text);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned i = 0; i < 1000000; i++) {
        unsigned net = i % 20000;
        struct in_addr a = { htonl(0x0a000000u | net << 8 | (i & 0xff)) };
        bool m = netlist_match(nl, AF_INET, &a);
        if (m != (net % 2 == 0))
            fail_msg("10.%u.%u.x: %d", net / 256, net % 256, m);
        hits += m;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(hits, 500000);
    snprintf(addr, sizeof(addr), "10.%u.%u.1", 19998 / 256, 19998 % 256);
    assert_true(netlist_match_str(nl, addr));
    printf("netlist: 1e6 lookups in 10,000 entries: %.0f ns each\n",
           ((double) (t1.tv_sec - t0.tv_sec) * 1e9 + (double) (t1.tv_nsec - t0.tv_nsec)) / 1e6);
    netlist_free(nl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(addresses_match_the_first_entry_that_contains_them),
        cmocka_unit_test(later_negation_does_not_override_earlier_match),
        cmocka_unit_test(sockaddr_and_binary_forms_agree),
        cmocka_unit_test(bad_entries_say_why_and_add_nothing),
        cmocka_unit_test(files_load_with_comments_and_line_numbers),
        cmocka_unit_test(list_items_starting_with_slash_are_files),
        cmocka_unit_test(large_list_stays_correct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
