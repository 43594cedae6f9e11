/*
 * avspool.c - per-message spool: memory first, then an anonymous file.
 * The milter appends header lines and body chunks; the scanner back end
 * reads the bytes back (memory, descriptor or positioned reads).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "avspool.h"

struct avspool {
    size_t mem_max, hard_max;
    char *dir;
    unsigned char *buf;
    size_t len, cap;
    int fd;                     /* -1 while in memory */
    unsigned long long total;
    bool over, failed;
};

avspool_t *avspool_new(size_t mem_max, size_t hard_max, const char *dir, char *err,
                       size_t errlen)
{
    avspool_t *s;

    if (dir == NULL || dir[0] != '/') {
        snprintf(err, errlen, "spool directory must be an absolute path");
        return NULL;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL || (s->dir = strdup(dir)) == NULL) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->mem_max = mem_max < hard_max ? mem_max : hard_max;
    s->hard_max = hard_max;
    s->fd = -1;
    return s;
}

void avspool_reset(avspool_t *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    s->len = 0;
    s->total = 0;
    s->over = s->failed = false;
    /* A large buffer is given back, so an idle connection holds little. */
    if (s->cap > 64 * 1024) {
        free(s->buf);
        s->buf = NULL;
        s->cap = 0;
    }
}

void avspool_free(avspool_t *s)
{
    if (s == NULL)
        return;
    avspool_reset(s);
    free(s->buf);
    free(s->dir);
    free(s);
}

/* An unnamed file in the spool directory, readable only by us. */
static int open_private(const char *dir, char *err, size_t errlen)
{
    char path[4096];
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

    if (fd >= 0)
        return fd;
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    if (snprintf(path, sizeof(path), "%s/postern-av.XXXXXX", dir) >= (int) sizeof(path)) {
        snprintf(err, errlen, "%s: path too long", dir);
        return -1;
    }
    fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    unlink(path);
    fchmod(fd, 0600);
    return fd;
}

static int write_all(int fd, const void *data, size_t len, char *err, size_t errlen)
{
    const unsigned char *p = data;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(err, errlen, "spool write: %s", n < 0 ? strerror(errno) : "short write");
            return -1;
        }
        p += n;
        len -= (size_t) n;
    }
    return 0;
}

/* Moves what memory holds to a new file; the buffer stays for reuse. */
static int spill(avspool_t *s, char *err, size_t errlen)
{
    s->fd = open_private(s->dir, err, errlen);
    if (s->fd < 0)
        return -1;
    return write_all(s->fd, s->buf, s->len, err, errlen);
}

static int grow(avspool_t *s, size_t need, char *err, size_t errlen)
{
    size_t cap = s->cap ? s->cap : 16 * 1024;
    unsigned char *b;

    while (cap < need)
        cap = cap > s->mem_max / 2 ? s->mem_max : cap * 2;
    b = realloc(s->buf, cap);
    if (b == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->buf = b;
    s->cap = cap;
    return 0;
}

int avspool_append(avspool_t *s, const void *data, size_t len, char *err, size_t errlen)
{
    s->total += len;
    if (s->failed)
        return -1;
    if (s->over || len > s->hard_max - s->len) {
        s->over = true;
        return 1;
    }
    if (len == 0)
        return 0;
    if (s->fd < 0 && s->len + len > s->mem_max && spill(s, err, errlen) < 0) {
        s->failed = true;
        return -1;
    }
    if (s->fd >= 0) {
        if (write_all(s->fd, data, len, err, errlen) < 0) {
            s->failed = true;
            return -1;
        }
    } else {
        if (s->len + len > s->cap && grow(s, s->len + len, err, errlen) < 0) {
            s->failed = true;
            return -1;
        }
        memcpy(s->buf + s->len, data, len);
    }
    s->len += len;
    return 0;
}

size_t avspool_size(const avspool_t *s)
{
    return s->len;
}

unsigned long long avspool_total(const avspool_t *s)
{
    return s->total;
}

bool avspool_over(const avspool_t *s)
{
    return s->over;
}

bool avspool_failed(const avspool_t *s)
{
    return s->failed;
}

const void *avspool_mem(const avspool_t *s, size_t *len)
{
    if (s->fd >= 0)
        return NULL;
    *len = s->len;
    return s->buf != NULL ? (const void *) s->buf : (const void *) "";
}

int avspool_fd(const avspool_t *s)
{
    return s->fd;
}

ssize_t avspool_read(const avspool_t *s, size_t off, void *buf, size_t n)
{
    ssize_t r;

    if (off >= s->len)
        return 0;
    if (n > s->len - off)
        n = s->len - off;
    if (s->fd < 0) {
        memcpy(buf, s->buf + off, n);
        return (ssize_t) n;
    }
    do
        r = pread(s->fd, buf, n, (off_t) off);
    while (r < 0 && errno == EINTR);
    return r;
}
