/*
 * test_dkim_keygen.c - keys made by "postern dkim keygen" load in the
 * key table, are written 0600 and never over an existing file, and the
 * published-record check tells a match from every kind of mismatch.
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

#include "dkim_keygen.h"
#include "dkim_keys.h"

static void generated_keys_load_and_are_written_0600_once(void **state)
{
    static const struct {
        dkim_keyalg_t alg;
        unsigned bits;
        const char *kind;
    } cases[] = { { DKIM_KEY_RSA, 1024, "k=rsa" }, { DKIM_KEY_ED25519, 0, "k=ed25519" } };
    char dir[] = "/tmp/dkimkg.XXXXXX", path[128], err[256], rec[2048];

    (void) state;
    assert_non_null(mkdtemp(dir));
    for (size_t i = 0; i < 2; i++) {
        char *pem = dkim_keygen_pem(cases[i].alg, cases[i].bits, err, sizeof(err));
        dkim_keys_t *kt = dkim_keys_new();
        struct stat st;

        assert_non_null(pem);
        snprintf(path, sizeof(path), "%s/k%zu.pem", dir, i);
        assert_int_equal(dkim_keygen_write(pem, path, err, sizeof(err)), 0);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_int_equal(dkim_keygen_write(pem, path, err, sizeof(err)), -1);   /* exists */
        assert_int_equal(dkim_keys_add_file(kt, "example.com", "s1", path, NULL, err,
                                            sizeof(err)), 0);
        assert_true(dkim_keys_dns_record(pem, strlen(pem), rec, sizeof(rec), err,
                                         sizeof(err)) > 0);
        assert_non_null(strstr(rec, cases[i].kind));
        unlink(path);
        dkim_keys_free(kt);
        dkim_keygen_free(pem);
    }
    rmdir(dir);
    assert_null(dkim_keygen_pem(DKIM_KEY_RSA, 512, err, sizeof(err)));
    assert_non_null(strstr(err, "1024"));
}

static void published_record_check_tells_what_differs(void **state)
{
    char err[256], rec[2048], other[2048], spaced[2200];
    char *pem = dkim_keygen_pem(DKIM_KEY_ED25519, 0, err, sizeof(err));
    char *pem2 = dkim_keygen_pem(DKIM_KEY_ED25519, 0, err, sizeof(err));
    char *rsa = dkim_keygen_pem(DKIM_KEY_RSA, 1024, err, sizeof(err));
    const char *p;

    (void) state;
    assert_true(dkim_keys_dns_record(pem, strlen(pem), rec, sizeof(rec), err, sizeof(err)) > 0);
    assert_true(dkim_keys_dns_record(pem2, strlen(pem2), other, sizeof(other), err,
                                     sizeof(err)) > 0);
    /* the same record with blanks inside p= and tags reordered */
    p = strstr(rec, "p=") + 2;
    snprintf(spaced, sizeof(spaced), "p = %.20s %s ; k=ed25519;v=DKIM1", p, p + 20);
    static const struct {
        int which;          /* 0 rec, 1 other, 2 spaced, 3.. literal */
        const char *lit;
        int rc;
        const char *why;
    } cases[] = {
        { 0, NULL, 0, NULL },
        { 2, NULL, 0, NULL },
        { 1, NULL, -1, "not the public half" },
        { 3, "v=DKIM1; k=ed25519; p=", -1, "revoked" },
        { 3, "v=DKIM1; k=ed25519", -1, "no p= tag" },
        { 3, "v=DKIM1; p=MCowBQYDK2VwAyEA", -1, "k=rsa" },
        { 3, "v=spf1 -all", -1, "no p= tag" },
        { 3, "", -1, "no p= tag" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *t = cases[i].which == 0 ? rec : cases[i].which == 1 ? other
                      : cases[i].which == 2 ? spaced : cases[i].lit;

        err[0] = '\0';
        assert_int_equal(dkim_keygen_matches(pem, strlen(pem), t, strlen(t), err, sizeof(err)),
                         cases[i].rc);
        if (cases[i].why && strstr(err, cases[i].why) == NULL)
            fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].why);
    }
    /* an RSA private key against an Ed25519 record */
    assert_int_equal(dkim_keygen_matches(rsa, strlen(rsa), rec, strlen(rec), err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "k=ed25519"));
    dkim_keygen_free(pem);
    dkim_keygen_free(pem2);
    dkim_keygen_free(rsa);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(generated_keys_load_and_are_written_0600_once),
        cmocka_unit_test(published_record_check_tells_what_differs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
