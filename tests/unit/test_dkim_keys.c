/*
 * test_dkim_keys.c - the signing key table: pattern rules and their
 * precedence, dual keys per domain, key checks (size, type, file
 * permissions), table file errors with line numbers, and the DNS record
 * made from a private key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "dkim_keys.h"

#include "dkim_testdir.h"

static char dir[1024];
static char tmpdir[64];

static char *slurp(const char *file, size_t *len)
{
    char path[1100];
    FILE *fp;
    char *buf = calloc(1, 70000);

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    fp = fopen(path, "rb");
    assert_non_null(fp);
    *len = fread(buf, 1, 69999, fp);
    fclose(fp);
    return buf;
}

/* Copies a test key into the temp dir with MODE; returns its path. */
static const char *install_key(const char *file, mode_t mode)
{
    static char path[256];
    size_t len;
    char *pem = slurp(file, &len);
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, file);
    fp = fopen(path, "wb");
    assert_non_null(fp);
    fwrite(pem, 1, len, fp);
    fclose(fp);
    chmod(path, mode);
    free(pem);
    return path;
}

static int setup(void **state)
{
    const char *d = getenv("POSTERN_TEST_DATA");

    (void) state;
    snprintf(dir, sizeof(dir), "%s/dkim", d ? d : "tests/data");
    assert_int_equal(dkim_testdir_new(tmpdir, sizeof(tmpdir), "dkimkeys"), 0);
    return 0;
}

static int teardown(void **state)
{
    (void) state;
    return dkim_testdir_remove(tmpdir);
}

static void patterns_match_exact_wildcard_and_star(void **state)
{
    static const struct {
        const char *pattern, *domain;
        bool want;
    } cases[] = {
        { "example.com", "example.com", true },
        { "example.com", "EXAMPLE.com", true },
        { "example.com", "mail.example.com", false },
        { "*.example.com", "mail.example.com", true },
        { "*.example.com", "a.b.example.com", true },
        { "*.example.com", "example.com", false },
        { "*.example.com", "badexample.com", false },
        { "*.example.com", "x.example.com.evil", false },
        { "*", "anything.example", true },
    };

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(dkim_keys_pattern_match(cases[i].pattern, cases[i].domain),
                         cases[i].want);
}

static void lookup_prefers_exact_then_longest_wildcard_then_star(void **state)
{
    static const struct {
        const char *pattern, *selector, *file, *sdid;
    } table[] = {
        { "*", "any", "rsa2048.pem", "relay.example" },
        { "*.example.com", "wild", "rsa2048.pem", NULL },
        { "*.eu.example.com", "eu", "ed25519.pem", NULL },
        { "example.com", "rsa", "rsa2048.pem", NULL },
        { "example.com", "ed", "ed25519.pem", NULL },
    };
    static const struct {
        const char *domain;
        size_t n;
        const char *sel0, *sdid0, *sel1;
    } cases[] = {
        { "example.com", 2, "rsa", "example.com", "ed" },
        { "Example.COM", 2, "rsa", "example.com", "ed" },
        { "mail.example.com", 1, "wild", "example.com", NULL },
        { "paris.eu.example.com", 1, "eu", "eu.example.com", NULL },
        { "other.org", 1, "any", "relay.example", NULL },
    };
    dkim_keys_t *kt = dkim_keys_new();
    const dkim_key_t *out[4];
    char err[256];

    (void) state;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        size_t len;
        char *pem = slurp(table[i].file, &len);

        assert_int_equal(dkim_keys_add_pem(kt, table[i].pattern, table[i].selector, pem, len,
                                           table[i].sdid, table[i].file, err, sizeof(err)), 0);
        free(pem);
    }
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = dkim_keys_find(kt, cases[i].domain, out, 4);

        assert_int_equal(n, cases[i].n);
        assert_string_equal(out[0]->selector, cases[i].sel0);
        assert_string_equal(out[0]->sdid, cases[i].sdid0);
        if (cases[i].sel1)
            assert_string_equal(out[1]->selector, cases[i].sel1);
    }
    assert_int_equal(out[0]->alg, DKIM_KEY_RSA);
    assert_int_equal(dkim_keys_find(kt, "example.com", out, 1), 1);   /* MAX bounds */
    assert_int_equal(dkim_keys_find(kt, "", out, 4), 0);
    dkim_keys_free(kt);

    kt = dkim_keys_new();
    assert_int_equal(dkim_keys_find(kt, "example.com", out, 4), 0);
    dkim_keys_free(kt);
}

static void keys_are_checked_for_type_and_size(void **state)
{
    static const struct {
        const char *file;
        int rc;
        dkim_keyalg_t alg;
        unsigned bits;
        const char *why;
    } cases[] = {
        { "rsa2048.pem", 0, DKIM_KEY_RSA, 2048, NULL },
        { "ed25519.pem", 0, DKIM_KEY_ED25519, 253, NULL },
        { "rsa512.pem", -1, DKIM_KEY_RSA, 512, "at least 1024" },
        { "ec256.pem", -1, DKIM_KEY_RSA, 0, "only RSA and Ed25519" },
    };
    char err[256];

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len;
        char *pem = slurp(cases[i].file, &len);
        dkim_keyalg_t alg = DKIM_KEY_RSA;
        unsigned bits = 0;

        err[0] = '\0';
        assert_int_equal(dkim_keys_check_pem(pem, len, &alg, &bits, err, sizeof(err)),
                         cases[i].rc);
        if (cases[i].why != NULL)
            assert_non_null(strstr(err, cases[i].why));
        else
            assert_int_equal(alg, cases[i].alg);
        if (cases[i].bits == 2048 || cases[i].bits == 512)
            assert_int_equal(bits, cases[i].bits);
        free(pem);
    }
    dkim_keyalg_t alg;
    unsigned bits;
    assert_int_equal(dkim_keys_check_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n", 33, &alg, &bits,
                                         err, sizeof(err)), -1);
}

static void key_files_others_can_read_are_refused(void **state)
{
    static const struct {
        mode_t mode;
        int rc;
    } cases[] = {
        { 0600, 0 }, { 0400, 0 }, { 0640, -1 }, { 0604, -1 }, { 0660, -1 }, { 0644, -1 },
    };
    char err[256];

    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        dkim_keys_t *kt = dkim_keys_new();
        const char *path = install_key("rsa2048.pem", cases[i].mode);

        err[0] = '\0';
        assert_int_equal(dkim_keys_add_file(kt, "example.com", "s1", path, NULL, err,
                                            sizeof(err)), cases[i].rc);
        if (cases[i].rc < 0)
            assert_non_null(strstr(err, "chmod 600"));
        dkim_keys_free(kt);
    }
}

/* Writes TEXT as the key table and loads it. */
static dkim_keys_t *load_table(const char *text, char *err, size_t errlen)
{
    char path[128];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/keytable", tmpdir);
    fp = fopen(path, "w");
    fputs(text, fp);
    fclose(fp);
    return dkim_keys_load(path, err, errlen);
}

static void table_file_errors_name_the_line(void **state)
{
    char text[2048], err[512];
    const char *rsa = install_key("rsa2048.pem", 0600);
    char rsapath[256];
    dkim_keys_t *kt;

    (void) state;
    snprintf(rsapath, sizeof(rsapath), "%s", rsa);
    install_key("rsa512.pem", 0600);
    snprintf(text, sizeof(text), "# keys\n\nexample.com s1 %s\n*.example.org s2 %s # dual\n",
             rsapath, rsapath);
    kt = load_table(text, err, sizeof(err));
    assert_non_null(kt);
    assert_int_equal(dkim_keys_count(kt), 2);
    dkim_keys_free(kt);

    static const struct {
        const char *fmt;
        const char *why;
    } bad[] = {
        { "example.com s1\n", ":1: want DOMAIN" },
        { "\nexample.com s1 KEY a.example b\n", ":2: too many fields" },
        { "* s1 KEY\n", ":1: pattern '*' needs a signing domain" },
        { "exa$mple.com s1 KEY\n", ":1: bad domain pattern" },
        { "example.com s.1. KEY\n", ":1: bad selector" },
        { "example.com s1 /nonexistent/key.pem\n", ":1: /nonexistent/key.pem: No such file" },
        { "example.com s1 TMP/rsa512.pem\n", "at least 1024" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *k = strstr(bad[i].fmt, "KEY"), *t = strstr(bad[i].fmt, "TMP");

        if (t != NULL)
            snprintf(text, sizeof(text), "%.*s%s%s", (int) (t - bad[i].fmt), bad[i].fmt,
                     tmpdir, t + 3);
        else if (k == NULL)
            snprintf(text, sizeof(text), "%s", bad[i].fmt);
        else
            snprintf(text, sizeof(text), "%.*s%s%s", (int) (k - bad[i].fmt), bad[i].fmt,
                     rsapath, k + 3);
        err[0] = '\0';
        assert_null(load_table(text, err, sizeof(err)));
        if (strstr(err, bad[i].why) == NULL)
            fail_msg("case %zu: '%s' does not contain '%s'", i, err, bad[i].why);
    }
}

static void dns_record_publishes_the_public_key(void **state)
{
    char rec[2048], err[256];
    size_t len;
    char *pem = slurp("ed25519.pem", &len);
    int n = dkim_keys_dns_record(pem, len, rec, sizeof(rec), err, sizeof(err));

    (void) state;
    /* RFC 8463: the raw 32-byte key, 44 base64 characters */
    assert_true(n > 0);
    assert_int_equal(strlen(strstr(rec, "p=") + 2), 44);
    assert_non_null(strstr(rec, "k=ed25519"));
    free(pem);
    pem = slurp("rsa2048.pem", &len);
    assert_true(dkim_keys_dns_record(pem, len, rec, sizeof(rec), err, sizeof(err)) > 0);
    assert_non_null(strstr(rec, "v=DKIM1; k=rsa; p=MIIBIjAN"));
    assert_int_equal(dkim_keys_dns_record(pem, len, rec, 40, err, sizeof(err)), -1);
    free(pem);
    assert_int_equal(dkim_keys_dns_record("junk", 4, rec, sizeof(rec), err, sizeof(err)), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(patterns_match_exact_wildcard_and_star),
        cmocka_unit_test(lookup_prefers_exact_then_longest_wildcard_then_star),
        cmocka_unit_test(keys_are_checked_for_type_and_size),
        cmocka_unit_test(key_files_others_can_read_are_refused),
        cmocka_unit_test(table_file_errors_name_the_line),
        cmocka_unit_test(dns_record_publishes_the_public_key),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
