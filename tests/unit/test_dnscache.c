/*
 * test_dnscache.c - the resolver's fast path: hits and misses, TTLs,
 * names compared without case, bounded size, and results that stay
 * valid while held.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dnscache.h"

static int freed;

static void free_res(void *res)
{
    freed++;
    free(res);
}

static char *res_of(const char *text)
{
    return strdup(text);
}

static void a_stored_answer_is_found_until_its_ttl_ends(void **s)
{
    dnscache_t *c = dnscache_new(100, free_res);
    void *res;
    int st;

    (void) s;
    assert_null(dnscache_get(c, "example.org", 16, 1000, &res, &st));
    dnscache_entry_t *e = dnscache_put(c, "example.org", 16, res_of("v=spf1 -all"), 0, 300, 1000);
    assert_non_null(e);
    dnscache_release(c, e);
    e = dnscache_get(c, "EXAMPLE.org.", 16, 1299, &res, &st);     /* case, trailing dot */
    assert_non_null(e);
    assert_string_equal(res, "v=spf1 -all");
    assert_int_equal(st, 0);
    dnscache_release(c, e);
    assert_null(dnscache_get(c, "example.org", 1, 1299, &res, &st));   /* other type */
    assert_null(dnscache_get(c, "example.org", 16, 1300, &res, &st));  /* expired */
    assert_int_equal(dnscache_count(c), 0);
    dnscache_free(c);
}

static void ttl_zero_and_long_names_are_not_cached(void **s)
{
    char name[400];
    dnscache_t *c = dnscache_new(100, free_res);

    (void) s;
    assert_null(dnscache_put(c, "example.org", 16, (void *) "x", 0, 0, 1));
    memset(name, 'a', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    assert_null(dnscache_put(c, name, 16, (void *) "x", 0, 60, 1));
    assert_int_equal(dnscache_count(c), 0);
    dnscache_free(c);
}

static void the_cache_stays_within_its_bound(void **s)
{
    dnscache_t *c = dnscache_new(50, free_res);
    char name[64];

    (void) s;
    freed = 0;
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof(name), "host%d.example.org", i);
        dnscache_entry_t *e = dnscache_put(c, name, 1, res_of(name), 0, 60 + (unsigned) i, 1);
        if (e != NULL)
            dnscache_release(c, e);
        else
            free_res(res_of(name));     /* not stored: still ours */
        assert_true(dnscache_count(c) <= 50);
    }
    dnscache_free(c);
    assert_int_equal(freed, 5000);      /* every result freed exactly once */
}

static void a_held_result_outlives_expiry_and_the_cache(void **s)
{
    dnscache_t *c = dnscache_new(10, free_res);
    void *res;
    int st;

    (void) s;
    freed = 0;
    dnscache_entry_t *held = dnscache_put(c, "a.example", 1, res_of("A"), 0, 10, 1);
    assert_non_null(held);
    /* Expired and dropped from the table, but the holder still reads it. */
    assert_null(dnscache_get(c, "a.example", 1, 20, &res, &st));
    assert_int_equal(dnscache_count(c), 0);
    assert_int_equal(freed, 0);
    dnscache_entry_t *b = dnscache_put(c, "b.example", 1, res_of("B"), 0, 100, 20);
    assert_non_null(b);
    dnscache_release(c, b);
    dnscache_free(c);                   /* "b" goes, "a" is still held */
    assert_int_equal(freed, 1);
    dnscache_release(c, held);          /* the last holder frees the cache too */
    assert_int_equal(freed, 2);
}

static void a_full_cache_evicts_to_store_new_answers(void **s)
{
    dnscache_t *c = dnscache_new(64, free_res);
    char name[64];
    int stored = 0;

    (void) s;
    for (int i = 0; i < 2000; i++) {
        snprintf(name, sizeof(name), "n%d.example", i);
        dnscache_entry_t *e = dnscache_put(c, name, 1, res_of(name), 0, 600, 1);
        if (e != NULL) {
            stored++;
            dnscache_release(c, e);
        } else {
            free_res(res_of(name));
        }
    }
    /* Room is found near nearly every new bucket once the cache is full. */
    assert_true(stored > 1500);
    assert_int_equal(dnscache_count(c), 64);
    dnscache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_stored_answer_is_found_until_its_ttl_ends),
        cmocka_unit_test(ttl_zero_and_long_names_are_not_cached),
        cmocka_unit_test(the_cache_stays_within_its_bound),
        cmocka_unit_test(a_held_result_outlives_expiry_and_the_cache),
        cmocka_unit_test(a_full_cache_evicts_to_store_new_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
