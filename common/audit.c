/*
 * audit.c - write audit records: format with jansson, chain with
 * SHA-256, append under flock() with one write(2). See audit.h for the
 * guarantees and docs/audit-log.md for the format.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "audit.h"

/* Bounds that keep one record far below AUDIT_MAX_RECORD. */
#define FIELD_MAX 2048
#define RCPT_MAX 50
#define TAIL_FIRST 4096

struct audit {
    pthread_mutex_t lock;
    char *path;
    char *component;
    char host[256];
    int fd;                     /* -1: disabled */
    dev_t dev;
    ino_t ino;
    off_t cached_end;           /* file size after our last write; -1 none */
    char cached_hash[AUDIT_HASH_HEX + 1];
    char *tail;                 /* buffer for reading the last record */
};

static const char zero_hash[AUDIT_HASH_HEX + 1] =
    "0000000000000000000000000000000000000000000000000000000000000000";

void audit_hash_hex(const void *data, size_t len, char out[AUDIT_HASH_HEX + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int mdlen = 0;

    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[AUDIT_HASH_HEX] = '\0';
}

/* ---- formatting ---- */

/* Length of a valid UTF-8 sequence at S (at most N bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    size_t len;
    unsigned cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
        cp = s[0] & 0x1f;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        cp = s[0] & 0x0f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    /* Overlong forms, surrogates and values past U+10FFFF are invalid. */
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff))
        || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* S as valid UTF-8 of at most FIELD_MAX bytes; bad bytes become U+FFFD. */
static json_t *safe_string(const char *s)
{
    const unsigned char *p = (const unsigned char *) s;
    size_t n, o = 0;
    char *buf;
    json_t *j;

    if (s == NULL)
        return json_null();
    n = strlen(s);
    if ((buf = malloc(FIELD_MAX + 4)) == NULL)
        return json_null();
    while (n > 0 && o < FIELD_MAX) {
        size_t len = utf8_seq(p, n);
        if (len == 0 || *p == 0) {
            memcpy(buf + o, "\xef\xbf\xbd", 3);
            o += 3;
            len = 1;
        } else {
            memcpy(buf + o, p, len);
            o += len;
        }
        p += len;
        n -= len;
    }
    j = json_stringn(buf, o);
    free(buf);
    return j ? j : json_null();
}

static json_t *str_or_null(const char *s)
{
    return s == NULL ? json_null() : safe_string(s);
}

static void timestamp(char *buf, size_t len)
{
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (long) (ts.tv_nsec / 1000) % 1000000);
}

static json_t *rcpt_array(const audit_record_t *r)
{
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < r->nrcpt && i < RCPT_MAX; i++)
        json_array_append_new(a, str_or_null(r->rcpt[i]));
    return a ? a : json_null();
}

static json_t *record_object(const audit_record_t *r, const char *component,
                             const char *host)
{
    char ts[80];
    json_t *o = json_object();

    if (o == NULL)
        return NULL;
    timestamp(ts, sizeof(ts));
    json_object_set_new(o, "ts", json_string(ts));
    json_object_set_new(o, "host", str_or_null(host));
    json_object_set_new(o, "component", str_or_null(r->component ? r->component
                                                                 : component));
    json_object_set_new(o, "pid", json_integer(getpid()));
    json_object_set_new(o, "qid", str_or_null(r->qid));
    json_object_set_new(o, "conn", str_or_null(r->conn));
    json_object_set_new(o, "client_ip", str_or_null(r->client_ip));
    json_object_set_new(o, "helo", str_or_null(r->helo));
    json_object_set_new(o, "from", str_or_null(r->from));
    json_object_set_new(o, "rcpt", rcpt_array(r));
    if (r->nrcpt > RCPT_MAX)
        json_object_set_new(o, "rcpt_more", json_integer((json_int_t) (r->nrcpt - RCPT_MAX)));
    if (r->msgid != NULL)
        json_object_set_new(o, "msgid", safe_string(r->msgid));
    json_object_set_new(o, "step", str_or_null(r->step));
    json_object_set_new(o, "result", str_or_null(r->result));
    json_object_set_new(o, "reason", str_or_null(r->reason));
    json_object_set_new(o, "action", str_or_null(r->action));
    json_object_set_new(o, "ms", json_real(round(r->ms * 1000.0) / 1000.0));
    if (r->extra != NULL && json_is_object(r->extra))
        json_object_set(o, "extra", r->extra);
    return o;
}

static char *dump_with_prev(json_t *o, const char *prev_hex)
{
    json_object_set_new(o, "prev", json_string(prev_hex));
    return json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
}

static char *format_host(const audit_record_t *r, const char *component,
                         const char *host, const char *prev_hex)
{
    json_t *o = record_object(r, component, host);
    char *text;

    if (o == NULL)
        return NULL;
    text = dump_with_prev(o, prev_hex);
    if (text != NULL && strlen(text) > AUDIT_MAX_RECORD - 256) {
        /* Only a huge "extra" can get here: keep the record, drop it. */
        free(text);
        json_object_set_new(o, "extra", json_pack("{s:b}", "dropped_too_large", 1));
        text = dump_with_prev(o, prev_hex);
    }
    json_decref(o);
    return text;
}

char *audit_format(const audit_record_t *r, const char *component,
                   const char *prev_hex)
{
    char host[256] = "";

    gethostname(host, sizeof(host) - 1);
    return format_host(r, component, host, prev_hex);
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

    if (a == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&a->lock, NULL);
    a->fd = -1;
    a->component = strdup(component ? component : "postern");
    gethostname(a->host, sizeof(a->host) - 1);
    if (path == NULL || *path == '\0')
        return a;               /* disabled */
    a->path = strdup(path);
    a->tail = malloc(2 * AUDIT_MAX_RECORD + 2);
    if (a->path == NULL || a->tail == NULL || a->component == NULL
        || open_file(a, err, errlen) < 0) {
        if (a->path == NULL || a->tail == NULL)
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
 * last record; returns holding the new file's. */
static int follow_rotation(audit_t *a, char *err, size_t errlen)
{
    struct stat st;
    char last[AUDIT_HASH_HEX + 1];
    int old = a->fd, torn;

    if (stat(a->path, &st) == 0 && st.st_dev == a->dev && st.st_ino == a->ino)
        return 0;
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
    /* Empty: nobody has started it yet, so its first record continues
     * the old file (append_locked takes the cached hash at size 0). */
    if (fstat(a->fd, &st) == 0 && st.st_size == 0) {
        memcpy(a->cached_hash, last, sizeof(last));
        a->cached_end = 0;
    }
    return 0;
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

static int append_locked(audit_t *a, const audit_record_t *r, char *err,
                         size_t errlen)
{
    struct stat st;
    char prev[AUDIT_HASH_HEX + 1];
    int torn = 0, rc = -1;
    char *text = NULL, *line = NULL;

    if (fstat(a->fd, &st) < 0) {
        snprintf(err, errlen, "%s: %s", a->path, strerror(errno));
        return -1;
    }
    if (st.st_size == a->cached_end)
        memcpy(prev, a->cached_hash, sizeof(prev));
    else if (find_prev(a, st.st_size, prev, &torn, err, errlen) < 0)
        return -1;
    if ((text = format_host(r, a->component, a->host, prev)) == NULL) {
        snprintf(err, errlen, "cannot format the audit record");
        return -1;
    }
    size_t len = strlen(text);
    /* A torn fragment gets its newline in the same write as our line. */
    if ((line = malloc(len + 3)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    size_t o = 0;
    if (torn)
        line[o++] = '\n';
    memcpy(line + o, text, len);
    o += len;
    line[o++] = '\n';
    if (write_all(a->fd, line, o) < 0) {
        snprintf(err, errlen, "%s: write: %s", a->path, strerror(errno));
        a->cached_end = -1;
        goto out;
    }
    audit_hash_hex(text, len, a->cached_hash);
    a->cached_end = st.st_size + (off_t) o;
    rc = 0;
out:
    free(text);
    free(line);
    return rc;
}

int audit_write(audit_t *a, const audit_record_t *r, char *err, size_t errlen)
{
    int rc;

    if (a == NULL || a->path == NULL)
        return 0;
    pthread_mutex_lock(&a->lock);
    if (flock(a->fd, LOCK_EX) < 0) {
        snprintf(err, errlen, "%s: flock: %s", a->path, strerror(errno));
        rc = -1;
    } else {
        rc = follow_rotation(a, err, errlen);
        if (rc == 0)
            rc = append_locked(a, r, err, errlen);
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
    free(a);
}
