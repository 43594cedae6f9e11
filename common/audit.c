/*
 * audit.c - write audit records: format them (audit_fmt.c), chain them
 * with SHA-256, append under flock() with one write(2). See audit.h for
 * the guarantees and docs/audit-log.md for the format.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "audit.h"
#include "audit_fmt.h"

#define TAIL_FIRST 4096

struct audit {
    pthread_mutex_t lock;
    char *path;
    char *component;
    audit_fmt_t *fmt;
    int fd;                     /* -1: disabled */
    dev_t dev;
    ino_t ino;
    off_t cached_end;           /* file size after our last write; -1 none */
    char cached_hash[AUDIT_HASH_HEX + 1];
    char *tail;                 /* buffer for reading the last record */
};

static const char zero_hash[AUDIT_HASH_HEX + 1] =
    "0000000000000000000000000000000000000000000000000000000000000000";

/* EVP_sha256() looks the algorithm up in the provider on every digest;
 * fetched once, the digest costs little more than the hashing. */
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_fetched;

static void sha256_fetch(void)
{
    sha256_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void audit_hash_hex(const void *data, size_t len, char out[AUDIT_HASH_HEX + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int mdlen = 0;

    pthread_once(&sha256_once, sha256_fetch);
    EVP_Digest(data, len, md, &mdlen, sha256_fetched ? sha256_fetched : EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[AUDIT_HASH_HEX] = '\0';
}

char *audit_format(const audit_record_t *r, const char *component,
                   const char *prev_hex)
{
    char host[256] = "", *text, *copy = NULL;
    audit_fmt_t *f;
    size_t len;

    gethostname(host, sizeof(host) - 1);
    if ((f = audit_fmt_new(host)) == NULL)
        return NULL;
    if ((text = audit_fmt_record(f, r, component, prev_hex, &len)) != NULL)
        copy = strndup(text, len);
    audit_fmt_free(f);
    return copy;
}

/* ---- opening and rotation ---- */

static int open_file(audit_t *a, char *err, size_t errlen)
{
    struct stat st;
    int fd = open(a->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

    if (fd < 0 || fstat(fd, &st) < 0) {
        snprintf(err, errlen, "%s: %s", a->path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (a->fd >= 0)
        close(a->fd);
    a->fd = fd;
    a->dev = st.st_dev;
    a->ino = st.st_ino;
    a->cached_end = -1;
    return 0;
}

audit_t *audit_open(const char *path, const char *component, char *err,
                    size_t errlen)
{
    audit_t *a = calloc(1, sizeof(*a));
    char host[256] = "";

    if (a == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&a->lock, NULL);
    a->fd = -1;
    a->component = strdup(component ? component : "postern");
    if (path == NULL || *path == '\0')
        return a;               /* disabled */
    gethostname(host, sizeof(host) - 1);
    a->fmt = audit_fmt_new(host);
    a->path = strdup(path);
    a->tail = malloc(2 * AUDIT_MAX_RECORD + 2);
    if (a->path == NULL || a->tail == NULL || a->component == NULL || a->fmt == NULL
        || open_file(a, err, errlen) < 0) {
        if (a->path == NULL || a->tail == NULL || a->fmt == NULL)
            snprintf(err, errlen, "out of memory");
        audit_close(a);
        return NULL;
    }
    return a;
}

/* ---- finding the previous record ---- */

static int find_prev(audit_t *a, off_t size, char prev[AUDIT_HASH_HEX + 1],
                     int *torn, char *err, size_t errlen)
{
    size_t win = TAIL_FIRST;

    *torn = 0;
    if (size == 0) {
        memcpy(prev, zero_hash, sizeof(zero_hash));
        return 0;
    }
    for (;;) {
        off_t off = size > (off_t) win ? size - (off_t) win : 0;
        size_t n = (size_t) (size - off);
        ssize_t got = pread(a->fd, a->tail, n, off);
        if (got != (ssize_t) n) {
            snprintf(err, errlen, "%s: cannot read the last record: %s", a->path,
                     got < 0 ? strerror(errno) : "short read");
            return -1;
        }
        /* END: the newline that ends the last complete line. */
        char *end = a->tail + n - 1;
        *torn = *end != '\n';
        if (*torn)
            end = memrchr(a->tail, '\n', n);
        if (end != NULL) {
            char *start = memrchr(a->tail, '\n', (size_t) (end - a->tail));
            if (start != NULL || off == 0) {
                start = start ? start + 1 : a->tail;
                audit_hash_hex(start, (size_t) (end - start), prev);
                return 0;
            }
        } else if (off == 0) {
            memcpy(prev, zero_hash, sizeof(zero_hash));   /* only a fragment */
            return 0;
        }
        if (win >= 2 * AUDIT_MAX_RECORD) {
            snprintf(err, errlen, "%s: last record longer than %d bytes", a->path,
                     AUDIT_MAX_RECORD);
            return -1;
        }
        win = win * 4 > 2 * AUDIT_MAX_RECORD ? 2 * AUDIT_MAX_RECORD : win * 4;
    }
}

/* The file at our path was replaced (rotated) or removed: reopen, and
 * make the new file's chain continue the old one. Called holding the old
 * file's flock, so no writer can add to the old file after we read its
 * last record; returns holding the new file's, with its size in SIZE. */
static int follow_rotation(audit_t *a, off_t *size, char *err, size_t errlen)
{
    struct stat st;
    char last[AUDIT_HASH_HEX + 1];
    int old = a->fd, torn;

    if (fstat(old, &st) < 0 || find_prev(a, st.st_size, last, &torn, err, errlen) < 0)
        return -1;
    a->fd = -1;
    if (open_file(a, err, errlen) < 0) {
        a->fd = old;
        return -1;
    }
    if (flock(a->fd, LOCK_EX) < 0) {
        snprintf(err, errlen, "%s: flock: %s", a->path, strerror(errno));
        close(old);
        return -1;
    }
    close(old);                 /* releases the old file's lock */
    if (fstat(a->fd, &st) < 0) {
        snprintf(err, errlen, "%s: %s", a->path, strerror(errno));
        return -1;
    }
    /* Empty: nobody has started it yet, so its first record continues
     * the old file (append_locked takes the cached hash at size 0). */
    if (st.st_size == 0) {
        memcpy(a->cached_hash, last, sizeof(last));
        a->cached_end = 0;
    }
    *size = st.st_size;
    return 0;
}

/* The size of the file we append to, after following a rotation. One
 * stat() of the path tells both: while it is still our file, its size
 * is our descriptor's. */
static int locked_size(audit_t *a, off_t *size, char *err, size_t errlen)
{
    struct stat st;

    if (stat(a->path, &st) == 0 && st.st_dev == a->dev && st.st_ino == a->ino) {
        *size = st.st_size;
        return 0;
    }
    return follow_rotation(a, size, err, errlen);
}

/* ---- writing ---- */

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t) n;
    }
    return 0;
}

static int append_locked(audit_t *a, const audit_record_t *r, off_t size, char *err,
                         size_t errlen)
{
    char prev[AUDIT_HASH_HEX + 1];
    int torn = 0;
    char *text, *line;
    size_t len;

    if (size == a->cached_end)
        memcpy(prev, a->cached_hash, sizeof(prev));
    else if (find_prev(a, size, prev, &torn, err, errlen) < 0)
        return -1;
    if ((text = audit_fmt_record(a->fmt, r, a->component, prev, &len)) == NULL) {
        snprintf(err, errlen, "cannot format the audit record");
        return -1;
    }
    /* The formatter leaves a byte free on each side: a torn fragment
     * gets its newline in the same write as our line. */
    line = text;
    if (torn)
        *--line = '\n';
    text[len] = '\n';
    size_t o = len + 1 + (torn ? 1 : 0);
    if (write_all(a->fd, line, o) < 0) {
        snprintf(err, errlen, "%s: write: %s", a->path, strerror(errno));
        a->cached_end = -1;
        return -1;
    }
    audit_hash_hex(text, len, a->cached_hash);
    a->cached_end = size + (off_t) o;
    return 0;
}

int audit_write(audit_t *a, const audit_record_t *r, char *err, size_t errlen)
{
    off_t size;
    int rc;

    if (a == NULL || a->path == NULL)
        return 0;
    pthread_mutex_lock(&a->lock);
    if (flock(a->fd, LOCK_EX) < 0) {
        snprintf(err, errlen, "%s: flock: %s", a->path, strerror(errno));
        rc = -1;
    } else {
        rc = locked_size(a, &size, err, errlen);
        if (rc == 0)
            rc = append_locked(a, r, size, err, errlen);
        flock(a->fd, LOCK_UN);
    }
    pthread_mutex_unlock(&a->lock);
    return rc;
}

int audit_flush(audit_t *a)
{
    int rc = 0;

    if (a == NULL || a->fd < 0)
        return 0;
    pthread_mutex_lock(&a->lock);
    rc = fdatasync(a->fd);
    pthread_mutex_unlock(&a->lock);
    return rc;
}

void audit_close(audit_t *a)
{
    if (a == NULL)
        return;
    if (a->fd >= 0)
        close(a->fd);
    pthread_mutex_destroy(&a->lock);
    free(a->path);
    free(a->component);
    free(a->tail);
    audit_fmt_free(a->fmt);
    free(a);
}
