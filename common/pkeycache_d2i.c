/*
 * pkeycache_d2i.c - d2i_PUBKEY_bio() for the daemons that verify DKIM
 * through libopendkim (postern-dkim, postern-dmarc): libopendkim decodes
 * the DER key of a DKIM key record with it for every signature it
 * verifies, and offers no hook to hand it a key decoded before. Defined
 * in the executable, this function is what the dynamic linker binds
 * libopendkim's call to; it answers a memory BIO (what libopendkim
 * passes) from pkeycache and leaves everything else to OpenSSL's own
 * function. Built as an object library (postern_pkeycache_d2i) that
 * only executables link, never into postern_common: a static library
 * member nobody calls would not be linked in.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* RTLD_NEXT */
#endif
#include <dlfcn.h>
#include <pthread.h>

#include <openssl/bio.h>
#include <openssl/x509.h>

#include "pkeycache.h"

typedef EVP_PKEY *(*d2i_fn)(BIO *, EVP_PKEY **);

static d2i_fn openssl_d2i;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void find_openssl(void)
{
    openssl_d2i = (d2i_fn)dlsym(RTLD_NEXT, "d2i_PUBKEY_bio");
}

/* Reads what the real function would have read, so the BIO ends where
 * it would have. */
static void drain(BIO *bp)
{
    char sink[512];
    while (BIO_read(bp, sink, sizeof sink) > 0)
        ;
}

EVP_PKEY *d2i_PUBKEY_bio(BIO *bp, EVP_PKEY **a)
{
    char *data = NULL;
    long len;
    if (a == NULL && bp != NULL && BIO_method_type(bp) == BIO_TYPE_MEM &&
        (len = BIO_get_mem_data(bp, &data)) > 0 && data != NULL) {
        EVP_PKEY *k = pkeycache_get((const unsigned char *)data,
                                         (size_t)len);
        if (k != NULL) {
            drain(bp);
            return k;
        }
    }
    pthread_once(&once, find_openssl);
    return openssl_d2i ? openssl_d2i(bp, a) : NULL;
}
