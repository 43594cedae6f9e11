/*
 * dnscache.c - a hash table of answers with TTLs and reference counts,
 * under one mutex: the resolver's fast path for repeated lookups.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dnscache.h"

#define MAX_KEY 256

struct dnscache_entry {
    struct dnscache_entry *next;
    char name[MAX_KEY];         /* lower case, no trailing dot */
    int type;
    void *res;
    int status;
    long expires;
    unsigned refs;              /* the table's (while linked) + holders' */
};

struct dnscache {
    pthread_mutex_t mu;
    dnscache_entry_t **buckets;
    size_t mask;                /* bucket count - 1: about 4 entries each */
    size_t count, max;
    size_t held;                /* references handed out, not released */
    bool closed;                /* dnscache_free called: the last release
                                   frees the cache */
    void (*free_result)(void *res);
};

dnscache_t *dnscache_new(size_t max_entries, void (*free_result)(void *res))
{
    dnscache_t *c = calloc(1, sizeof(*c));
    size_t n = 16;

    while (n < max_entries / 4 && n < 65536)
        n *= 2;
    if (c == NULL || (c->buckets = calloc(n, sizeof(*c->buckets))) == NULL) {
        free(c);
        return NULL;
    }
    c->mask = n - 1;
    pthread_mutex_init(&c->mu, NULL);
    c->max = max_entries;
    c->free_result = free_result;
    return c;
}

/* Drops one reference; the last one frees. Called with the lock held:
 * freeing a result only calls the owner's free function. */
static void unref(dnscache_t *c, dnscache_entry_t *e)
{
    if (--e->refs == 0) {
        c->free_result(e->res);
        free(e);
    }
}

static void unlink_at(dnscache_t *c, dnscache_entry_t **pp);

static void destroy(dnscache_t *c)
{
    pthread_mutex_destroy(&c->mu);
    free(c->buckets);
    free(c);
}

/* Answers may outlive the resolver: entries still held keep the cache
 * until their last release. */
void dnscache_free(dnscache_t *c)
{
    bool idle;

    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    for (size_t b = 0; b <= c->mask; b++)
        while (c->buckets[b] != NULL)
            unlink_at(c, &c->buckets[b]);
    c->closed = true;
    idle = c->held == 0;
    pthread_mutex_unlock(&c->mu);
    if (idle)
        destroy(c);
}

/* NAME in lower case without a trailing dot; false when too long. */
static bool make_key(const char *name, char key[MAX_KEY])
{
    size_t n = strlen(name);

    if (n > 0 && name[n - 1] == '.')
        n--;
    if (n >= MAX_KEY)
        return false;
    for (size_t i = 0; i < n; i++)
        key[i] = (char) tolower((unsigned char) name[i]);
    key[n] = '\0';
    return true;
}

static size_t bucket_of(const dnscache_t *c, const char *key, int type)
{
    unsigned h = 2166136261u ^ (unsigned) type;     /* FNV-1a */

    for (; *key; key++)
        h = (h ^ (unsigned char) *key) * 16777619u;
    return h & c->mask;
}

/* Unlinks *PP (the table's reference goes). */
static void unlink_at(dnscache_t *c, dnscache_entry_t **pp)
{
    dnscache_entry_t *e = *pp;

    *pp = e->next;
    c->count--;
    unref(c, e);
}

dnscache_entry_t *dnscache_get(dnscache_t *c, const char *name, int type, long now_s,
                               void **res, int *status)
{
    char key[MAX_KEY];
    dnscache_entry_t *found = NULL;

    if (c == NULL || !make_key(name, key))
        return NULL;
    pthread_mutex_lock(&c->mu);
    for (dnscache_entry_t **pp = &c->buckets[bucket_of(c, key, type)]; *pp != NULL;) {
        dnscache_entry_t *e = *pp;
        if (e->expires <= now_s) {
            unlink_at(c, pp);
            continue;
        }
        if (e->type == type && strcmp(e->name, key) == 0) {
            e->refs++;
            c->held++;
            *res = e->res;
            *status = e->status;
            found = e;
            break;
        }
        pp = &e->next;
    }
    pthread_mutex_unlock(&c->mu);
    return found;
}

/* Room for one more: expired entries of bucket B and the EVICT_SPAN
 * buckets after it go, then, when the cache is still full, the one of
 * their entries that expires first. Bounded work per insert. */
#define EVICT_SPAN 16

static bool make_room(dnscache_t *c, size_t b, long now_s)
{
    dnscache_entry_t **oldest = NULL;

    for (size_t i = 0; i < EVICT_SPAN && (i == 0 || c->count >= c->max); i++) {
        for (dnscache_entry_t **pp = &c->buckets[(b + i) & c->mask]; *pp != NULL;) {
            if ((*pp)->expires <= now_s) {
                if (oldest != NULL && *oldest == (*pp))
                    oldest = NULL;
                unlink_at(c, pp);
                continue;
            }
            if (oldest == NULL || (*pp)->expires < (*oldest)->expires)
                oldest = pp;
            pp = &(*pp)->next;
        }
    }
    if (c->count < c->max)
        return true;
    if (oldest == NULL)
        return false;
    unlink_at(c, oldest);
    return true;
}

dnscache_entry_t *dnscache_put(dnscache_t *c, const char *name, int type, void *res,
                               int status, unsigned ttl_s, long now_s)
{
    dnscache_entry_t *e;
    size_t b;

    if (c == NULL || ttl_s == 0 || c->max == 0 || (e = calloc(1, sizeof(*e))) == NULL)
        return NULL;
    if (!make_key(name, e->name)) {
        free(e);
        return NULL;
    }
    e->type = type;
    e->res = res;
    e->status = status;
    e->expires = now_s + (long) (ttl_s > DNSCACHE_MAX_TTL ? DNSCACHE_MAX_TTL : ttl_s);
    e->refs = 2;                /* the table's and the caller's */
    b = bucket_of(c, e->name, type);
    pthread_mutex_lock(&c->mu);
    if (!make_room(c, b, now_s)) {
        pthread_mutex_unlock(&c->mu);
        free(e);
        return NULL;
    }
    /* A racing put of the same name leaves two entries; the newer one is
     * found first and the older one ages out. */
    e->next = c->buckets[b];
    c->buckets[b] = e;
    c->count++;
    c->held++;
    pthread_mutex_unlock(&c->mu);
    return e;
}

void dnscache_release(dnscache_t *c, dnscache_entry_t *e)
{
    bool last;

    if (c == NULL || e == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    unref(c, e);
    last = --c->held == 0 && c->closed;
    pthread_mutex_unlock(&c->mu);
    if (last)
        destroy(c);
}

size_t dnscache_count(dnscache_t *c)
{
    size_t n;

    pthread_mutex_lock(&c->mu);
    n = c->count;
    pthread_mutex_unlock(&c->mu);
    return n;
}
