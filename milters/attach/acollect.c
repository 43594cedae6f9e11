/*
 * acollect.c - message collection for postern-attach: memory first,
 * then an unlinked temporary file, never more than the configured
 * maximum.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "acollect.h"

struct acollect {
    size_t spill, max;
    char *tmpdir;
    unsigned char *buf;         /* in memory while fd < 0 */
    size_t len, cap;            /* bytes kept */
    uint64_t total;             /* bytes offered */
    int fd;
    void *map;
    size_t maplen;
};

acollect_t *acollect_new(size_t spill, size_t max, const char *tmpdir)
{
    acollect_t *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    c->tmpdir = strdup(tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (c->tmpdir == NULL) {
        free(c);
        return NULL;
    }
    c->spill = spill < max ? spill : max;
    c->max = max;
    c->fd = -1;
    return c;
}

void acollect_reset(acollect_t *c)
{
    if (c->map != NULL)
        munmap(c->map, c->maplen);
    if (c->fd >= 0)
        close(c->fd);
    free(c->buf);
    c->buf = NULL;
    c->map = NULL;
    c->fd = -1;
    c->len = c->cap = c->maplen = 0;
    c->total = 0;
}

void acollect_free(acollect_t *c)
{
    if (c == NULL)
        return;
    acollect_reset(c);
    free(c->tmpdir);
    free(c);
}

static int write_all(int fd, const void *data, size_t len)
{
    const unsigned char *p = data;

    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t) w;
    }
    return 0;
}

/* Moves what is in memory to a new unlinked file. */
static int spill(acollect_t *c, char *err, size_t errlen)
{
    char path[4096];

    snprintf(path, sizeof(path), "%s/postern-attach.XXXXXX", c->tmpdir);
    c->fd = mkstemp(path);
    if (c->fd < 0) {
        snprintf(err, errlen, "temporary file in %s: %s", c->tmpdir, strerror(errno));
        return -1;
    }
    unlink(path);
    if (c->len > 0 && write_all(c->fd, c->buf, c->len) < 0) {
        snprintf(err, errlen, "temporary file: %s", strerror(errno));
        return -1;
    }
    free(c->buf);
    c->buf = NULL;
    c->cap = 0;
    return 0;
}

static int grow(acollect_t *c, size_t need, char *err, size_t errlen)
{
    size_t cap = c->cap ? c->cap : 65536;

    while (cap < need)
        cap *= 2;
    if (cap > c->spill)
        cap = c->spill;
    unsigned char *b = realloc(c->buf, cap);
    if (b == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    c->buf = b;
    c->cap = cap;
    return 0;
}

int acollect_add(acollect_t *c, const void *data, size_t len, char *err, size_t errlen)
{
    c->total += len;
    if (c->len >= c->max)
        return 0;
    if (len > c->max - c->len)
        len = c->max - c->len;          /* the rest is only counted */
    if (c->fd < 0 && c->len + len > c->spill && spill(c, err, errlen) < 0)
        return -1;
    if (c->fd >= 0) {
        if (write_all(c->fd, data, len) < 0) {
            snprintf(err, errlen, "temporary file: %s", strerror(errno));
            return -1;
        }
    } else {
        if (c->len + len > c->cap && grow(c, c->len + len, err, errlen) < 0)
            return -1;
        memcpy(c->buf + c->len, data, len);
    }
    c->len += len;
    return 0;
}

int acollect_header(acollect_t *c, const char *name, const char *value, char *err,
                    size_t errlen)
{
    if (acollect_add(c, name, strlen(name), err, errlen) < 0
        || acollect_add(c, ": ", 2, err, errlen) < 0
        || acollect_add(c, value, strlen(value), err, errlen) < 0)
        return -1;
    return acollect_add(c, "\r\n", 2, err, errlen);
}

uint64_t acollect_size(const acollect_t *c)
{
    return c->total;
}

bool acollect_over(const acollect_t *c)
{
    return c->total > c->max;
}

bool acollect_spilled(const acollect_t *c)
{
    return c->fd >= 0;
}

int acollect_map(acollect_t *c, const void **data, size_t *len, char *err, size_t errlen)
{
    *len = c->len;
    if (c->fd < 0 || c->len == 0) {
        *data = c->buf ? (const void *) c->buf : (const void *) "";
        return 0;
    }
    if (c->map == NULL) {
        void *m = mmap(NULL, c->len, PROT_READ, MAP_PRIVATE, c->fd, 0);
        if (m == MAP_FAILED) {
            snprintf(err, errlen, "mmap: %s", strerror(errno));
            return -1;
        }
        c->map = m;
        c->maplen = c->len;
    }
    *data = c->map;
    return 0;
}
