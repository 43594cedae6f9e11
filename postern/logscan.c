/*
 * logscan.c - block reads, memmem() per needle over the block, and the
 * lines around the hits (see logscan.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>

#include "logscan.h"

#define BLOCK LOGSCAN_MAX_LINE

typedef struct scan {
    const char *needles[LOGSCAN_MAX_NEEDLES];
    size_t lens[LOGSCAN_MAX_NEEDLES];
    size_t n;
    char *folded;               /* NOCASE: lower-case copy of the block */
    char *lowered[LOGSCAN_MAX_NEEDLES];
    logscan_fn fn;
    void *arg;
} scan_t;

/* ASCII only: a branch-free loop the compiler vectorises. */
static void fold(char *dst, const char *src, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) src[i];
        dst[i] = (char) (c + (((unsigned char) (c - 'A') < 26u) << 5));
    }
}

static int every_line(scan_t *s, const char *b, size_t len)
{
    const char *end = b + len;
    int rc;

    while (b < end) {
        const char *nl = memchr(b, '\n', (size_t) (end - b));
        const char *e = nl ? nl : end;
        if ((rc = s->fn(s->arg, b, (size_t) (e - b))) != 0)
            return rc;
        b = e + 1;
    }
    return 0;
}

/* The next hit of needle I at or after POS in HAY (LEN bytes); LEN: none. */
static size_t next_hit(const scan_t *s, size_t i, const char *hay, size_t pos, size_t len)
{
    const char *p = memmem(hay + pos, len - pos, s->needles[i], s->lens[i]);

    return p ? (size_t) (p - hay) : len;
}

/* Each needle's next hit is kept, so a needle absent from the block is
 * searched once per block, not once per hit of another. */
static int hit_lines(scan_t *s, const char *b, size_t len)
{
    const char *hay = b;
    size_t next[LOGSCAN_MAX_NEEDLES], pos = 0;
    int rc;

    if (s->folded != NULL) {
        fold(s->folded, b, len);
        hay = s->folded;
    }
    for (size_t i = 0; i < s->n; i++)
        next[i] = next_hit(s, i, hay, 0, len);
    for (;;) {
        size_t first = len;
        for (size_t i = 0; i < s->n; i++) {
            if (next[i] < pos)
                next[i] = next_hit(s, i, hay, pos, len);
            if (next[i] < first)
                first = next[i];
        }
        if (first == len)
            return 0;
        const char *nl = first ? memrchr(b, '\n', first) : NULL;
        size_t start = nl ? (size_t) (nl - b) + 1 : 0;
        const char *e = memchr(b + first, '\n', len - first);
        size_t end = e ? (size_t) (e - b) : len;
        if ((rc = s->fn(s->arg, b + start, end - start)) != 0)
            return rc;
        pos = end + 1;
        if (pos >= len)
            return 0;
    }
}

static int block(scan_t *s, const char *b, size_t len)
{
    return s->n == 0 ? every_line(s, b, len) : hit_lines(s, b, len);
}

/* Reads FD to the end, handing BLOCK() whole lines. */
static int read_all(scan_t *s, int fd, char *buf, char *err, size_t errlen)
{
    size_t have = 0;
    bool skipping = false;      /* inside an over-long line */
    int rc;

    for (;;) {
        ssize_t r = read(fd, buf + have, BLOCK - have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errlen, "%s", strerror(errno));
            return -1;
        }
        have += (size_t) r;
        const char *nl = have ? memrchr(buf, '\n', have) : NULL;
        size_t whole = r == 0 ? have : nl ? (size_t) (nl - buf) + 1 : 0;
        size_t from = 0;
        if (skipping && whole > 0) {
            const char *first = memchr(buf, '\n', whole);
            from = first ? (size_t) (first - buf) + 1 : whole;
            skipping = first == NULL;
        }
        if (whole == 0 && have == BLOCK) {
            skipping = true;    /* a line longer than a block: drop it */
            have = 0;
            continue;
        }
        if (whole > from && (rc = block(s, buf + from, whole - from)) != 0)
            return rc;
        memmove(buf, buf + whole, have - whole);
        have -= whole;
        if (r == 0)
            return 0;
    }
}

int logscan_file(const char *path, const char *const *needles, size_t nneedles, bool nocase,
                 logscan_fn fn, void *arg, char *err, size_t errlen)
{
    scan_t s = { .n = 0, .fn = fn, .arg = arg };
    char *buf = NULL;
    int fd, rc = -1;

    if (nneedles > LOGSCAN_MAX_NEEDLES) {
        snprintf(err, errlen, "too many search strings");
        return -1;
    }
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        return -1;
    }
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    if ((buf = malloc(BLOCK)) == NULL || (nocase && (s.folded = malloc(BLOCK)) == NULL))
        goto oom;
    for (size_t i = 0; i < nneedles; i++) {
        size_t len = strlen(needles[i]);
        if (len == 0)
            continue;           /* matches everywhere: no narrowing */
        if (nocase) {
            if ((s.lowered[s.n] = malloc(len + 1)) == NULL)
                goto oom;
            fold(s.lowered[s.n], needles[i], len + 1);
        }
        s.needles[s.n] = nocase ? s.lowered[s.n] : needles[i];
        s.lens[s.n++] = len;
    }
    if (s.n < nneedles)
        s.n = 0;                /* an empty needle: every line is a candidate */
    rc = read_all(&s, fd, buf, err, errlen);
    goto out;
oom:
    snprintf(err, errlen, "out of memory");
out:
    for (size_t i = 0; i < LOGSCAN_MAX_NEEDLES; i++)
        free(s.lowered[i]);
    free(s.folded);
    free(buf);
    close(fd);
    return rc;
}
