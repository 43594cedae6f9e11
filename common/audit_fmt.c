/*
 * audit_fmt.c - format one audit record straight into a buffer, with the
 * bytes jansson would give for the same record as an object (see
 * audit_fmt.h). audit.c chains and appends what this makes.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "audit_fmt.h"
#include "pidcache.h"

/* Bounds that keep one record far below AUDIT_MAX_RECORD. */
#define FIELD_MAX 2048
#define RCPT_MAX 50
/* A field after the cut: FIELD_MAX bytes plus one last sequence, every
 * byte of it possibly escaped as \u00XX, and its quotes. */
#define FIELD_ROOM (6 * (FIELD_MAX + 4) + 2)
/* jansson has no depth limit when dumping, only a cycle check; this
 * bound stands in for the cycle check. */
#define EXTRA_DEPTH_MAX 2048
/* What jansson's json_dumps() was given for the whole record. */
#define DUMP_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12))

struct audit_fmt {
    char *buf;                  /* buf[0] is kept for a leading newline */
    size_t len, cap;
    int failed;                 /* out of memory or unformattable extra */
    char *host;                 /* the host as a JSON string */
    size_t host_len;
    pid_t pid;                  /* pid_txt is its decimal form */
    char pid_txt[24];
    time_t sec;                 /* sec_txt is its date and time */
    char sec_txt[80];
};

/* ---- the buffer ---- */

/* Room for N more bytes (and a newline and NUL after them), or NULL. */
static char *room(audit_fmt_t *f, size_t n)
{
    if (f->failed)
        return NULL;
    if (f->len + n + 2 > f->cap) {
        size_t cap = f->cap * 2 > f->len + n + 2 ? f->cap * 2 : f->len + n + 2;
        char *p = realloc(f->buf, cap);
        if (p == NULL) {
            f->failed = 1;
            return NULL;
        }
        f->buf = p;
        f->cap = cap;
    }
    return f->buf + f->len;
}

static void put_bytes(audit_fmt_t *f, const char *s, size_t n)
{
    char *o = room(f, n);

    if (o != NULL) {
        memcpy(o, s, n);
        f->len += n;
    }
}

#define put_lit(f, s) put_bytes((f), (s), sizeof(s) - 1)

static void put_uint(audit_fmt_t *f, unsigned long long v, int negative)
{
    char tmp[24], *p = tmp + sizeof(tmp);

    do {
        *--p = (char) ('0' + v % 10);
        v /= 10;
    } while (v != 0);
    if (negative)
        *--p = '-';
    put_bytes(f, p, (size_t) (tmp + sizeof(tmp) - p));
}

static void put_int(audit_fmt_t *f, long long v)
{
    put_uint(f, v < 0 ? 0ULL - (unsigned long long) v : (unsigned long long) v, v < 0);
}

/* ---- strings ---- */

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

/* Bytes copied as they are: printable ASCII but quote and backslash. */
#define PLAIN(c) ((c) >= 0x20 && (c) < 0x80 && (c) != '"' && (c) != '\\')

/* One ASCII byte that needs escaping: RFC 8259 section 7 requires it for
 * quote, backslash and controls; jansson uses the short forms where
 * there is one and \u00XX (upper-case hex) for the rest. */
static char *escape_at(char *o, unsigned char c)
{
    static const char hex[] = "0123456789ABCDEF";

    *o++ = '\\';
    switch (c) {
    case '"': *o++ = '"'; break;
    case '\\': *o++ = '\\'; break;
    case '\b': *o++ = 'b'; break;
    case '\f': *o++ = 'f'; break;
    case '\n': *o++ = 'n'; break;
    case '\r': *o++ = 'r'; break;
    case '\t': *o++ = 't'; break;
    default:
        memcpy(o, "u00", 3);
        o[3] = hex[c >> 4];
        o[4] = hex[c & 15];
        o += 5;
    }
    return o;
}

/* A string from the network: cut at FIELD_MAX bytes, bad UTF-8 made
 * U+FFFD, escaped; NULL is JSON null. */
static void put_field(audit_fmt_t *f, const char *s)
{
    const unsigned char *p = (const unsigned char *) s;
    size_t n, kept = 0;
    char *o, *start;

    if (s == NULL) {
        put_lit(f, "null");
        return;
    }
    if ((o = start = room(f, FIELD_ROOM)) == NULL)
        return;
    n = strlen(s);
    *o++ = '"';
    while (n > 0 && kept < FIELD_MAX) {
        size_t len;
        if (PLAIN(*p)) {
            *o++ = (char) *p++;
            n--;
            kept++;
            continue;
        }
        len = *p < 0x80 ? 1 : utf8_seq(p, n);
        if (*p < 0x80) {
            o = escape_at(o, *p);
        } else if (len == 0) {
            memcpy(o, "\xef\xbf\xbd", 3);
            o += 3;
            kept += 2;          /* three bytes out for one in */
            len = 1;
        } else {
            memcpy(o, p, len);
            o += len;
        }
        kept += len;
        p += len;
        n -= len;
    }
    *o++ = '"';
    f->len += (size_t) (o - start);
}

/* A jansson string (valid UTF-8, may hold NUL), escaped as jansson
 * would; -1 for invalid UTF-8, which jansson refuses to dump. */
static int put_json_string(audit_fmt_t *f, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *) s;
    char *o, *start;

    if (n > (SIZE_MAX - 2) / 6 || (o = start = room(f, 6 * n + 2)) == NULL)
        return -1;
    *o++ = '"';
    while (n > 0) {
        size_t len;
        if (PLAIN(*p)) {
            *o++ = (char) *p++;
            n--;
            continue;
        }
        if ((len = utf8_seq(p, n)) == 0)
            return -1;
        if (len == 1) {
            o = escape_at(o, *p);
        } else {
            memcpy(o, p, len);
            o += len;
        }
        p += len;
        n -= len;
    }
    *o++ = '"';
    f->len += (size_t) (o - start);
    return 0;
}

/* ---- numbers ---- */

/* A real as jansson dumps it: jansson itself does the digits. */
static int put_real(audit_fmt_t *f, const json_t *v)
{
    char tmp[128];
    size_t n = json_dumpb(v, tmp, sizeof(tmp), JSON_ENCODE_ANY | DUMP_FLAGS);

    if (n == 0 || n > sizeof(tmp))
        return -1;
    put_bytes(f, tmp, n);
    return 0;
}

/* "ms", rounded to microseconds. The common case, a whole number of
 * microseconds below 10^9, is what "%.12g" prints for k/1000 (at most
 * nine significant digits), with ".0" when there is no fraction; any
 * other value goes through jansson. Not finite: jansson has no such
 * real, so the key is left out, as it always was. */
static void put_ms(audit_fmt_t *f, double ms)
{
    double k = round(ms * 1000.0), v = k / 1000.0;
    json_t *real;

    if (!isfinite(v))
        return;
    put_lit(f, ",\"ms\":");
    if (k >= 0 && k < 1e9 && !signbit(k)) {
        unsigned long u = (unsigned long) k;
        unsigned frac = (unsigned) (u % 1000);
        char tmp[8];
        int n = 0;

        put_uint(f, u / 1000, 0);
        tmp[n++] = '.';
        tmp[n++] = (char) ('0' + frac / 100);
        if (frac % 100 != 0) {
            tmp[n++] = (char) ('0' + frac / 10 % 10);
            if (frac % 10 != 0)
                tmp[n++] = (char) ('0' + frac % 10);
        }
        put_bytes(f, tmp, (size_t) n);
        return;
    }
    if ((real = json_real(v)) == NULL || put_real(f, real) < 0)
        f->failed = 1;
    json_decref(real);
}

/* ---- extra: any jansson value, walked in jansson's order ---- */

static int put_json(audit_fmt_t *f, json_t *v, int depth);

static int put_object(audit_fmt_t *f, json_t *v, int depth)
{
    put_lit(f, "{");
    for (void *it = json_object_iter(v); it != NULL;) {
        if (put_json_string(f, json_object_iter_key(it), json_object_iter_key_len(it)) < 0)
            return -1;
        put_lit(f, ":");
        if (put_json(f, json_object_iter_value(it), depth + 1) < 0)
            return -1;
        if ((it = json_object_iter_next(v, it)) != NULL)
            put_lit(f, ",");
    }
    put_lit(f, "}");
    return 0;
}

static int put_array(audit_fmt_t *f, json_t *v, int depth)
{
    size_t n = json_array_size(v);

    put_lit(f, "[");
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            put_lit(f, ",");
        if (put_json(f, json_array_get(v, i), depth + 1) < 0)
            return -1;
    }
    put_lit(f, "]");
    return 0;
}

static int put_json(audit_fmt_t *f, json_t *v, int depth)
{
    if (v == NULL || depth > EXTRA_DEPTH_MAX)
        return -1;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return put_object(f, v, depth);
    case JSON_ARRAY:
        return put_array(f, v, depth);
    case JSON_STRING:
        return put_json_string(f, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        put_int(f, (long long) json_integer_value(v));
        return 0;
    case JSON_REAL:
        return put_real(f, v);
    case JSON_TRUE:
        put_lit(f, "true");
        return 0;
    case JSON_FALSE:
        put_lit(f, "false");
        return 0;
    case JSON_NULL:
        put_lit(f, "null");
        return 0;
    }
    return -1;
}

/* ---- the record ---- */

static void put_ts(audit_fmt_t *f)
{
    struct timespec ts;
    char frac[8];
    long us;

    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != f->sec || f->sec_txt[0] == '\0') {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        snprintf(f->sec_txt, sizeof(f->sec_txt), "%04d-%02d-%02dT%02d:%02d:%02d",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                 tm.tm_sec);
        f->sec = ts.tv_sec;
    }
    put_bytes(f, f->sec_txt, strlen(f->sec_txt));
    us = (ts.tv_nsec / 1000) % 1000000;
    frac[0] = '.';
    for (int i = 6; i >= 1; i--, us /= 10)
        frac[i] = (char) ('0' + us % 10);
    frac[7] = 'Z';
    put_bytes(f, frac, sizeof(frac));
}

static void put_pid(audit_fmt_t *f)
{
    pid_t pid = pidcache_pid();

    if (pid != f->pid) {
        snprintf(f->pid_txt, sizeof(f->pid_txt), "%ld", (long) pid);
        f->pid = pid;
    }
    put_bytes(f, f->pid_txt, strlen(f->pid_txt));
}

static void put_rcpts(audit_fmt_t *f, const audit_record_t *r)
{
    size_t n = r->rcpt == NULL ? 0 : r->nrcpt;

    put_lit(f, ",\"rcpt\":[");
    for (size_t i = 0; i < n && i < RCPT_MAX; i++) {
        if (i > 0)
            put_lit(f, ",");
        put_field(f, r->rcpt[i]);
    }
    put_lit(f, "]");
    if (r->nrcpt > RCPT_MAX) {
        put_lit(f, ",\"rcpt_more\":");
        put_uint(f, (unsigned long long) (r->nrcpt - RCPT_MAX), 0);
    }
}

static void put_prev(audit_fmt_t *f, const char *prev_hex)
{
    put_lit(f, ",\"prev\":");
    if (put_json_string(f, prev_hex, strlen(prev_hex)) < 0)
        f->failed = 1;
    put_lit(f, "}");
}

/* The string fields around the recipients, in the order of the format. */
typedef struct field_key {
    const char *key;            /* with its comma and colon */
    size_t key_len, at;         /* at: offset in audit_record_t */
} field_key_t;

#define FIELD(name) { ",\"" #name "\":", sizeof(",\"" #name "\":") - 1, \
                      offsetof(audit_record_t, name) }

static const field_key_t envelope_keys[] = {
    FIELD(qid), FIELD(conn), FIELD(client_ip), FIELD(helo), FIELD(from),
};
static const field_key_t decision_keys[] = {
    FIELD(step), FIELD(result), FIELD(reason), FIELD(action),
};

static void put_keyed(audit_fmt_t *f, const audit_record_t *r, const field_key_t *k,
                      size_t n)
{
    for (size_t i = 0; i < n; i++) {
        put_bytes(f, k[i].key, k[i].key_len);
        put_field(f, *(const char *const *) ((const char *) r + k[i].at));
    }
}

/* Everything but extra and prev, in the order of the format. */
static void put_fields(audit_fmt_t *f, const audit_record_t *r, const char *component)
{
    put_lit(f, "{\"ts\":\"");
    put_ts(f);
    put_lit(f, "\",\"host\":");
    put_bytes(f, f->host, f->host_len);
    put_lit(f, ",\"component\":");
    put_field(f, r->component ? r->component : component);
    put_lit(f, ",\"pid\":");
    put_pid(f);
    put_keyed(f, r, envelope_keys, sizeof(envelope_keys) / sizeof(envelope_keys[0]));
    put_rcpts(f, r);
    if (r->msgid != NULL) {
        put_lit(f, ",\"msgid\":");
        put_field(f, r->msgid);
    }
    put_keyed(f, r, decision_keys, sizeof(decision_keys) / sizeof(decision_keys[0]));
    put_ms(f, r->ms);
}

/* A record that came out too long (only a huge "extra" or many long,
 * escaped recipients can do it) keeps everything but extra, which
 * becomes a marker: in extra's place when there was one, else after prev
 * (where jansson put a key added last). */
static void drop_extra(audit_fmt_t *f, size_t extra_at, const char *prev_hex)
{
    if (extra_at != 0) {
        f->len = extra_at;
        put_lit(f, ",\"extra\":{\"dropped_too_large\":true}");
        put_prev(f, prev_hex);
    } else {
        f->len--;               /* the closing brace */
        put_lit(f, ",\"extra\":{\"dropped_too_large\":true}}");
    }
}

char *audit_fmt_record(audit_fmt_t *f, const audit_record_t *r, const char *component,
                       const char *prev_hex, size_t *len)
{
    size_t extra_at = 0;

    f->len = 1;
    f->failed = 0;
    put_fields(f, r, component);
    if (r->extra != NULL && json_is_object(r->extra)) {
        extra_at = f->len;
        put_lit(f, ",\"extra\":");
        if (put_json(f, r->extra, 0) < 0)
            f->failed = 1;
    }
    put_prev(f, prev_hex);
    if (!f->failed && f->len - 1 > AUDIT_MAX_RECORD - 256)
        drop_extra(f, extra_at, prev_hex);
    if (f->failed)
        return NULL;
    f->buf[f->len] = '\0';
    *len = f->len - 1;
    return f->buf + 1;
}

audit_fmt_t *audit_fmt_new(const char *host)
{
    audit_fmt_t *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return NULL;
    f->len = 1;
    put_field(f, host);
    f->host_len = f->len - 1;
    if (f->failed || (f->host = strndup(f->buf + 1, f->host_len)) == NULL) {
        audit_fmt_free(f);
        return NULL;
    }
    return f;
}

void audit_fmt_free(audit_fmt_t *f)
{
    if (f == NULL)
        return;
    free(f->buf);
    free(f->host);
    free(f);
}
