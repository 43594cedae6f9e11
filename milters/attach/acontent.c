/*
 * acontent.c - true types with a pool of libmagic handles, and archive
 * listings with libarchive from memory, for the MIME walker.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <archive.h>
#include <archive_entry.h>
#include <magic.h>

#include "acontent.h"

#define POOL_MAX 32             /* idle handles kept; more are closed */
#define HEAD_BYTES 65536        /* data read from an entry to type it */

struct acontent {
    pthread_mutex_t lock;
    magic_t idle[POOL_MAX];
    size_t nidle;
};

static magic_t magic_make(char *err, size_t errlen)
{
    magic_t m = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);

    if (m == NULL) {
        snprintf(err, errlen, "libmagic: out of memory");
        return NULL;
    }
    if (magic_load(m, NULL) != 0) {
        snprintf(err, errlen, "libmagic: %s", magic_error(m) ? magic_error(m) : "cannot load");
        magic_close(m);
        return NULL;
    }
    return m;
}

acontent_t *acontent_new(char *err, size_t errlen)
{
    acontent_t *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    /* Load one now so a missing database is a start-up error. */
    c->idle[0] = magic_make(err, errlen);
    if (c->idle[0] == NULL) {
        acontent_free(c);
        return NULL;
    }
    c->nidle = 1;
    return c;
}

void acontent_free(acontent_t *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->nidle; i++)
        magic_close(c->idle[i]);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static magic_t pool_take(acontent_t *c)
{
    magic_t m = NULL;
    char err[128];

    pthread_mutex_lock(&c->lock);
    if (c->nidle > 0)
        m = c->idle[--c->nidle];
    pthread_mutex_unlock(&c->lock);
    return m ? m : magic_make(err, sizeof(err));
}

static void pool_give(acontent_t *c, magic_t m)
{
    pthread_mutex_lock(&c->lock);
    if (c->nidle < POOL_MAX) {
        c->idle[c->nidle++] = m;
        m = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    if (m != NULL)
        magic_close(m);
}

int acontent_type(acontent_t *c, const void *data, size_t len, char *out, size_t outlen)
{
    magic_t m = pool_take(c);
    const char *t = NULL;

    if (m != NULL && len > 0)
        t = magic_buffer(m, data, len < ACONTENT_MAGIC_BYTES ? len : ACONTENT_MAGIC_BYTES);
    else if (m != NULL)
        t = "application/x-empty";
    snprintf(out, outlen, "%s", t ? t : "application/octet-stream");
    if (m != NULL)
        pool_give(c, m);
    return t ? 0 : -1;
}

static const char *const archive_types[] = {
    "application/zip", "application/x-zip-compressed", "application/x-rar",
    "application/vnd.rar", "application/x-rar-compressed", "application/x-7z-compressed",
    "application/x-tar", "application/x-gtar", "application/x-cpio",
    "application/x-iso9660-image", "application/vnd.ms-cab-compressed",
    "application/x-lzh-compressed", "application/x-archive", "application/x-xar",
    NULL
};

/* Single-file compressors: their content is one stream, read as "data". */
static const char *const compressed_types[] = {
    "application/gzip", "application/x-gzip", "application/x-bzip2", "application/x-xz",
    "application/x-lzma", "application/zstd", "application/x-compress", "application/x-lzip",
    NULL
};

static bool in_list(const char *const *list, const char *type)
{
    for (size_t i = 0; list[i] != NULL; i++)
        if (strcasecmp(list[i], type) == 0)
            return true;
    return false;
}

bool acontent_is_archive(const char *type)
{
    return in_list(archive_types, type) || in_list(compressed_types, type);
}

typedef struct walk {
    acontent_t *c;
    const acontent_limits_t *lim;
    acontent_entry_fn fn;
    void *arg;
    unsigned *flags;
} walk_t;

static struct archive *open_mem(const void *data, size_t len, const char *type)
{
    struct archive *a = archive_read_new();

    if (a == NULL)
        return NULL;
    archive_read_support_filter_all(a);
    archive_read_support_format_all(a);
    if (in_list(compressed_types, type))
        archive_read_support_format_raw(a);
    if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
        archive_read_free(a);
        return NULL;
    }
    return a;
}

/* Reads up to CAP bytes of the current entry into BUF; returns the count
 * (less on error or end). */
static size_t read_data(struct archive *a, unsigned char *buf, size_t cap)
{
    size_t got = 0;

    while (got < cap) {
        la_ssize_t r = archive_read_data(a, buf + got, cap - got);
        if (r <= 0)
            break;
        got += (size_t) r;
    }
    return got;
}

static int list_level(walk_t *w, const void *data, size_t len, const char *type,
                      int parent, unsigned depth);
static int nested(walk_t *w, struct archive *a, unsigned char **buf, size_t got,
                  const char *type, int id, unsigned depth);

/* One entry: type it, report it, and list it when it is an archive. */
static int one_entry(walk_t *w, struct archive *a, struct archive_entry *ent,
                     unsigned depth, unsigned index, int parent)
{
    acontent_entry_t e = { .depth = depth, .index = index, .parent = parent, .type = "" };
    char type[ACONTENT_MAX_TYPE] = "";
    unsigned char *buf = NULL;
    size_t got = 0;
    int id, rc = 0;

    e.name = archive_entry_pathname_utf8(ent);
    if (e.name == NULL)
        e.name = archive_entry_pathname(ent);
    if (e.name == NULL)
        e.name = "";
    e.size = archive_entry_size_is_set(ent) && archive_entry_size(ent) > 0
             ? (uint64_t) archive_entry_size(ent) : 0;
    e.encrypted = archive_entry_is_encrypted(ent);
    if (e.encrypted)
        *w->flags |= ACONTENT_ENCRYPTED;
    if (!e.encrypted && archive_entry_filetype(ent) == AE_IFREG) {
        size_t cap = HEAD_BYTES;
        buf = malloc(cap);
        if (buf == NULL)
            return -1;
        got = read_data(a, buf, cap);
        acontent_type(w->c, buf, got, type, sizeof(type));
        e.type = type;
        if (e.size == 0)
            e.size = got;
    }
    id = w->fn(w->arg, &e);
    if (id < 0) {
        free(buf);
        return -1;
    }
    if (buf != NULL && acontent_is_archive(type)) {
        if (depth >= w->lim->max_depth) {
            *w->flags |= ACONTENT_LIMIT;
        } else {
            rc = nested(w, a, &buf, got, type, id, depth);
        }
    }
    free(buf);
    return rc;
}

/* The rest of a nested archive is read into memory (at most max_read
 * bytes: a zip bomb stops there) and listed one level deeper. */
static int nested(walk_t *w, struct archive *a, unsigned char **buf, size_t got,
                  const char *type, int id, unsigned depth)
{
    size_t cap = w->lim->max_read;
    unsigned char *big;

    if (got == HEAD_BYTES && cap > got) {
        big = realloc(*buf, cap);
        if (big == NULL)
            return -1;
        *buf = big;
        got += read_data(a, big + got, cap - got);
        if (got == cap) {
            unsigned char probe;
            if (archive_read_data(a, &probe, 1) > 0)
                *w->flags |= ACONTENT_LIMIT;     /* listed from a prefix only */
        }
    } else if (got == HEAD_BYTES) {
        *w->flags |= ACONTENT_LIMIT;
    }
    return list_level(w, *buf, got, type, id, depth + 1);
}

static int list_level(walk_t *w, const void *data, size_t len, const char *type,
                      int parent, unsigned depth)
{
    struct archive *a = open_mem(data, len, type);
    struct archive_entry *ent;
    unsigned index = 0;
    int r, rc = 0;

    if (a == NULL) {
        *w->flags |= ACONTENT_UNREADABLE;
        return 0;
    }
    while ((r = archive_read_next_header(a, &ent)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
        if (*w->lim->budget == 0) {
            *w->flags |= ACONTENT_LIMIT;
            break;
        }
        (*w->lim->budget)--;
        rc = one_entry(w, a, ent, depth, ++index, parent);
        if (rc < 0)
            break;
    }
    if (r == ARCHIVE_FATAL || r == ARCHIVE_FAILED || r == ARCHIVE_RETRY) {
        /* 7z and rar with encrypted headers fail here, saying so. */
        if (archive_read_has_encrypted_entries(a) > 0)
            *w->flags |= ACONTENT_ENCRYPTED;
        else
            *w->flags |= ACONTENT_UNREADABLE;
    }
    if (archive_read_has_encrypted_entries(a) > 0)
        *w->flags |= ACONTENT_ENCRYPTED;
    archive_read_free(a);
    return rc;
}

int acontent_list(acontent_t *c, const void *data, size_t len, const char *type,
                  int parent, const acontent_limits_t *limits, acontent_entry_fn on_entry,
                  void *arg, unsigned *flags)
{
    walk_t w = { c, limits, on_entry, arg, flags };

    if (limits->max_depth == 0) {
        *flags |= ACONTENT_LIMIT;
        return 0;
    }
    return list_level(&w, data, len, type, parent, 1);
}
