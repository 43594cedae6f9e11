/*
 * backend_memory.c - limit state in this process: an open-addressing hash
 * table from key to TAT. Idle keys (TAT in the past) carry no
 * information and are dropped by the periodic sweep, which bounds
 * memory; when the table is still full, apply() fails and the daemon's
 * failure action applies. A snapshot file keeps the counters across a
 * restart: written atomically (temporary file + rename).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "limit.h"

typedef struct slot {
    char *key;                  /* NULL: empty; TOMBSTONE: deleted */
    int64_t tat;
} slot_t;

typedef struct membackend {
    backend_t base;
    slot_t *slots;
    size_t cap, cap_max, used, live, max_keys;
    char *snapshot;
    int64_t last_save;
} membackend_t;

static char tombstone[1];
#define TOMBSTONE tombstone
#define SAVE_EVERY_US (60 * GCRA_SECOND)

/* FNV-1a: short keys, no adversary who can choose the seed. */
static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *s; s++)
        h = (h ^ (unsigned char) *s) * 1099511628211ULL;
    return h;
}

/* The slot holding KEY, or the first free one on its probe path. */
static slot_t *find(membackend_t *m, const char *key, bool for_insert)
{
    size_t i = (size_t) hash(key) & (m->cap - 1);
    slot_t *free_slot = NULL;

    for (size_t n = 0; n < m->cap; n++, i = (i + 1) & (m->cap - 1)) {
        slot_t *s = &m->slots[i];
        if (s->key == NULL)
            return for_insert ? (free_slot ? free_slot : s) : NULL;
        if (s->key == TOMBSTONE) {
            if (free_slot == NULL)
                free_slot = s;
        } else if (strcmp(s->key, key) == 0) {
            return s;
        }
    }
    return for_insert ? free_slot : NULL;
}

/* Drops tombstones, which otherwise fill the probe paths, and doubles the
 * table while it is more than half full of live keys (up to cap_max). */
static int rehash(membackend_t *m)
{
    slot_t *old = m->slots;
    size_t cap = m->cap, ncap = m->cap;

    if (m->live * 2 > cap && cap < m->cap_max)
        ncap = cap * 2;
    if ((m->slots = calloc(ncap, sizeof(slot_t))) == NULL) {
        m->slots = old;
        return -1;
    }
    m->cap = ncap;
    m->used = 0;
    for (size_t i = 0; i < cap; i++) {
        if (old[i].key == NULL || old[i].key == TOMBSTONE)
            continue;
        slot_t *s = find(m, old[i].key, true);
        *s = old[i];
        m->used++;
    }
    free(old);
    return 0;
}

static int insert(membackend_t *m, const char *key, int64_t tat)
{
    slot_t *s;

    if (m->live >= m->max_keys)
        return -1;
    if (m->used + 1 > m->cap / 4 * 3 && rehash(m) < 0)
        return -1;
    if ((s = find(m, key, true)) == NULL)
        return -1;
    if (s->key == NULL || s->key == TOMBSTONE) {
        char *copy = strdup(key);
        if (copy == NULL)
            return -1;
        if (s->key == NULL)
            m->used++;
        s->key = copy;
        m->live++;
    }
    s->tat = tat;
    return 0;
}

static void sweep(membackend_t *m, int64_t now_us)
{
    for (size_t i = 0; i < m->cap; i++) {
        slot_t *s = &m->slots[i];
        if (s->key != NULL && s->key != TOMBSTONE && gcra_expired(s->tat, now_us)) {
            free(s->key);
            s->key = TOMBSTONE;
            m->live--;
        }
    }
}

static void mem_apply(backend_t *b, const char *key, const gcra_params_t *p, int64_t now_us,
                      uint64_t cost, backend_done_fn done, void *arg)
{
    membackend_t *m = (membackend_t *) b;
    slot_t *s = find(m, key, false);
    int64_t tat = s ? s->tat : 0;
    gcra_result_t r = gcra_apply(p, &tat, now_us, cost);

    if (s != NULL)
        s->tat = tat;
    else if (r.allowed && insert(m, key, tat) < 0) {
        sweep(m, now_us);
        if (insert(m, key, tat) < 0) {
            done(arg, -1, NULL, "memory back end full (max_keys)");
            return;
        }
    }
    done(arg, 0, &r, NULL);
}

static int mem_peek(backend_t *b, const char *key, int64_t *tat)
{
    slot_t *s = find((membackend_t *) b, key, false);

    *tat = s ? s->tat : 0;
    return 0;
}

static int mem_scan(backend_t *b, const char *prefix,
                    void (*fn)(void *arg, const char *key, int64_t tat), void *arg)
{
    membackend_t *m = (membackend_t *) b;
    size_t n = strlen(prefix);

    for (size_t i = 0; i < m->cap; i++) {
        slot_t *s = &m->slots[i];
        if (s->key != NULL && s->key != TOMBSTONE && strncmp(s->key, prefix, n) == 0)
            fn(arg, s->key, s->tat);
    }
    return 0;
}

static int save(membackend_t *m, int64_t now_us)
{
    char tmp[4200];
    FILE *f;

    if (m->snapshot == NULL)
        return 0;
    snprintf(tmp, sizeof(tmp), "%s.tmp", m->snapshot);
    if ((f = fopen(tmp, "w")) == NULL)
        return -1;
    for (size_t i = 0; i < m->cap; i++) {
        slot_t *s = &m->slots[i];
        if (s->key != NULL && s->key != TOMBSTONE && !gcra_expired(s->tat, now_us))
            fprintf(f, "%" PRId64 " %s\n", s->tat, s->key);
    }
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        fclose(f);
        unlink(tmp);
        return -1;
    }
    fclose(f);
    return rename(tmp, m->snapshot);
}

/* Lines "TAT KEY"; keys have no newline (request values cannot). */
static int load(membackend_t *m, int64_t now_us, char *err, size_t errlen)
{
    char line[LIMIT_KEY_MAX + 32];
    FILE *f = fopen(m->snapshot, "r");
    unsigned long n = 0;

    if (f == NULL) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "%s: %s", m->snapshot, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        char *sp = strchr(line, ' ');
        n++;
        line[strcspn(line, "\n")] = '\0';
        if (sp == NULL || sp[1] == '\0')
            continue;           /* a torn last line from a crash: skip */
        int64_t tat = strtoll(line, NULL, 10);
        if (!gcra_expired(tat, now_us) && insert(m, sp + 1, tat) < 0)
            break;
    }
    fclose(f);
    (void) n;
    return 0;
}

static void mem_tick(backend_t *b, int64_t now_us)
{
    membackend_t *m = (membackend_t *) b;

    sweep(m, now_us);
    if (m->snapshot != NULL && now_us - m->last_save >= SAVE_EVERY_US) {
        save(m, now_us);
        m->last_save = now_us;
    }
}

static void mem_free(backend_t *b)
{
    membackend_t *m = (membackend_t *) b;
    struct timespec ts;

    if (m == NULL)
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    save(m, (int64_t) ts.tv_sec * GCRA_SECOND + ts.tv_nsec / 1000);
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key != NULL && m->slots[i].key != TOMBSTONE)
            free(m->slots[i].key);
    free(m->slots);
    free(m->snapshot);
    free(m);
}

static const backend_ops_t memory_ops = {
    "memory", mem_apply, mem_peek, mem_scan, mem_tick, mem_free
};

backend_t *backend_memory_new(size_t max_keys, const char *snapshot, int64_t now_us,
                              char *err, size_t errlen)
{
    membackend_t *m = calloc(1, sizeof(*m));
    size_t cap_max = 64;

    if (m == NULL)
        goto nomem;
    /* Load factor at most 1/2 at max_keys; start small and grow. */
    while (cap_max < max_keys * 2)
        cap_max *= 2;
    m->base.ops = &memory_ops;
    m->cap_max = cap_max;
    m->cap = cap_max < 4096 ? cap_max : 4096;
    m->max_keys = max_keys;
    m->last_save = now_us;
    if ((m->slots = calloc(m->cap, sizeof(slot_t))) == NULL)
        goto nomem;
    if (snapshot != NULL && *snapshot != '\0') {
        if ((m->snapshot = strdup(snapshot)) == NULL)
            goto nomem;
        if (load(m, now_us, err, errlen) < 0) {
            free(m->snapshot);
            m->snapshot = NULL;     /* keep the file we could not read */
            mem_free(&m->base);
            return NULL;
        }
    }
    return &m->base;
nomem:
    if (m != NULL)
        free(m->slots);
    free(m);
    snprintf(err, errlen, "out of memory");
    return NULL;
}

size_t backend_memory_count(const backend_t *b)
{
    return ((const membackend_t *) b)->live;
}
