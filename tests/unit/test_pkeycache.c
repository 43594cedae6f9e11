/*
 * test_pkeycache.c - DKIM public keys decoded once: the same DER
 * bytes give the same key without decoding again, other bytes never
 * give a cached key, garbage gives none; and the daemons'
 * d2i_PUBKEY_bio (common/pkeycache_d2i.c, linked into this test as
 * into postern-dkim and postern-dmarc) answers a memory BIO from the
 * cache as OpenSSL would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "pkeycache.h"

static EVP_PKEY *rsa2048;       /* made once: slow on a busy machine */

static int make_key(void **state)
{
    (void)state;
    return (rsa2048 = EVP_RSA_gen(2048)) != NULL ? 0 : -1;
}

static int free_key(void **state)
{
    (void)state;
    EVP_PKEY_free(rsa2048);
    return 0;
}

static unsigned char *der_of(EVP_PKEY *k, size_t *len)
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(k, &der);
    assert_true(n > 0);
    *len = (size_t)n;
    return der;
}

static void test_same_bytes_decoded_once(void **state)
{
    (void)state;
    unsigned long hits, misses;
    size_t len;
    EVP_PKEY *gen = rsa2048;
    unsigned char *der = der_of(gen, &len);
    pkeycache_flush();

    EVP_PKEY *a = pkeycache_get(der, len);
    EVP_PKEY *b = pkeycache_get(der, len);
    assert_non_null(a);
    assert_ptr_equal(a, b);
    assert_int_equal(EVP_PKEY_eq(a, gen), 1);
    pkeycache_stats(&hits, &misses);
    assert_int_equal(hits, 1);
    assert_int_equal(misses, 1);

    /* one byte more: not the cached entry, and (trailing data) not kept */
    unsigned char *longer = malloc(len + 1);
    memcpy(longer, der, len);
    longer[len] = 0;
    EVP_PKEY *c = pkeycache_get(longer, len + 1);
    EVP_PKEY *d = pkeycache_get(longer, len + 1);
    assert_ptr_not_equal(c, a);
    assert_ptr_not_equal(c, d);
    pkeycache_stats(&hits, &misses);
    assert_int_equal(hits, 1);
    assert_int_equal(misses, 3);

    /* garbage is no key */
    assert_null(pkeycache_get((const unsigned char *)"\x30\x03\x02\x01",
                                   4));
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
    EVP_PKEY_free(c);
    EVP_PKEY_free(d);
    free(longer);
    OPENSSL_free(der);
    pkeycache_flush();
}

static void test_cache_stays_bounded(void **state)
{
    (void)state;
    unsigned long hits, misses;
    size_t len0, len;
    EVP_PKEY *first = EVP_EC_gen("P-256");
    unsigned char *der0 = der_of(first, &len0);
    pkeycache_flush();
    EVP_PKEY_free(pkeycache_get(der0, len0));
    /* as many other keys as there are slots push the first one out
     * (EC keys: the cache does not care, and they are quick to make) */
    for (int i = 0; i < PKEYCACHE_SIZE; i++) {
        EVP_PKEY *k = EVP_EC_gen("P-256");
        unsigned char *der = der_of(k, &len);
        EVP_PKEY_free(pkeycache_get(der, len));
        OPENSSL_free(der);
        EVP_PKEY_free(k);
    }
    EVP_PKEY_free(pkeycache_get(der0, len0));
    pkeycache_stats(&hits, &misses);
    assert_int_equal(hits, 0);
    assert_int_equal(misses, PKEYCACHE_SIZE + 2);
    OPENSSL_free(der0);
    EVP_PKEY_free(first);
    pkeycache_flush();
}

static EVP_PKEY *via_bio(const unsigned char *der, size_t len)
{
    BIO *bio = BIO_new_mem_buf(der, (int)len);
    EVP_PKEY *k = d2i_PUBKEY_bio(bio, NULL);
    assert_int_equal(BIO_pending(bio), 0);    /* read to the end */
    BIO_free(bio);
    return k;
}

static void test_d2i_pubkey_bio_answers_from_cache(void **state)
{
    (void)state;
    unsigned long hits, misses;
    size_t len;
    EVP_PKEY *gen = rsa2048;
    unsigned char *der = der_of(gen, &len);
    pkeycache_flush();
    EVP_PKEY *a = via_bio(der, len), *b = via_bio(der, len);
    assert_non_null(a);
    assert_ptr_equal(a, b);
    assert_int_equal(EVP_PKEY_eq(a, gen), 1);
    /* the cached key verifies what the generated one signed */
    unsigned char sig[512];
    size_t siglen = sizeof sig;
    const unsigned char msg[] = "header hash";
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, gen), 1);
    assert_int_equal(EVP_DigestSign(ctx, sig, &siglen, msg, sizeof msg), 1);
    EVP_MD_CTX_reset(ctx);
    assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, b), 1);
    assert_int_equal(EVP_DigestVerify(ctx, sig, siglen, msg, sizeof msg), 1);
    EVP_MD_CTX_free(ctx);
    pkeycache_stats(&hits, &misses);
    assert_int_equal(hits, 1);
    assert_int_equal(misses, 1);
    /* garbage still fails as OpenSSL's own would */
    assert_null(via_bio((const unsigned char *)"not a key", 9));
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
    OPENSSL_free(der);
    pkeycache_flush();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_bytes_decoded_once),
        cmocka_unit_test(test_cache_stays_bounded),
        cmocka_unit_test(test_d2i_pubkey_bio_answers_from_cache),
    };
    return cmocka_run_group_tests(tests, make_key, free_key);
}
