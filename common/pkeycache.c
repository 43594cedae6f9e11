/*
 * pkeycache.c - decoded DKIM public keys, kept by their DER bytes,
 * so that verifying the next message signed with the same key skips
 * OpenSSL's key decoding (see pkeycache.h for why and how much).
 */
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <openssl/x509.h>

#include "pkeycache.h"

typedef struct {
    uint64_t hash;
    size_t len;
    unsigned char der[PKEYCACHE_MAX_DER];
    EVP_PKEY *key;              /* NULL: free slot */
} slot_t;

static slot_t slots[PKEYCACHE_SIZE];
static size_t next_slot;
static unsigned long hits, misses;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* FNV-1a: a cheap first comparison before memcmp. */
static uint64_t fnv1a(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3u;
    return h;
}

/* A new reference to the cached key, or NULL; lock held. */
static EVP_PKEY *lookup(uint64_t h, const unsigned char *der, size_t len)
{
    for (size_t i = 0; i < PKEYCACHE_SIZE; i++) {
        slot_t *s = &slots[i];
        if (s->key != NULL && s->hash == h && s->len == len &&
            memcmp(s->der, der, len) == 0)
            return EVP_PKEY_up_ref(s->key) ? s->key : NULL;
    }
    return NULL;
}

/* Keeps key (its own reference) unless another thread was first. */
static void insert(uint64_t h, const unsigned char *der, size_t len,
                   EVP_PKEY *key)
{
    EVP_PKEY *there = lookup(h, der, len);
    if (there != NULL) {
        EVP_PKEY_free(there);
        return;
    }
    if (!EVP_PKEY_up_ref(key))
        return;
    slot_t *s = &slots[next_slot];
    next_slot = (next_slot + 1) % PKEYCACHE_SIZE;
    EVP_PKEY_free(s->key);
    s->hash = h;
    s->len = len;
    memcpy(s->der, der, len);
    s->key = key;
}

EVP_PKEY *pkeycache_get(const unsigned char *der, size_t len)
{
    const unsigned char *p = der;
    if (len == 0 || len > PKEYCACHE_MAX_DER || len > LONG_MAX)
        return d2i_PUBKEY(NULL, &p, (long)(len > LONG_MAX ? 0 : len));
    uint64_t h = fnv1a(der, len);
    pthread_mutex_lock(&lock);
    EVP_PKEY *key = lookup(h, der, len);
    if (key != NULL)
        hits++;
    else
        misses++;
    pthread_mutex_unlock(&lock);
    if (key != NULL)
        return key;
    /* Parse outside the lock: it is the slow part. Only a key that
     * used every byte is kept, so equal bytes mean an equal key. */
    key = d2i_PUBKEY(NULL, &p, (long)len);
    if (key == NULL || p != der + len)
        return key;
    pthread_mutex_lock(&lock);
    insert(h, der, len, key);
    pthread_mutex_unlock(&lock);
    return key;
}

void pkeycache_stats(unsigned long *h, unsigned long *m)
{
    pthread_mutex_lock(&lock);
    *h = hits;
    *m = misses;
    pthread_mutex_unlock(&lock);
}

void pkeycache_flush(void)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < PKEYCACHE_SIZE; i++) {
        EVP_PKEY_free(slots[i].key);
        slots[i].key = NULL;
    }
    next_slot = 0;
    hits = misses = 0;
    pthread_mutex_unlock(&lock);
}
