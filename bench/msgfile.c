/*
 * msgfile.c - splits the messages milter-load sends into header fields
 * and a CRLF body, once at start-up.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "msgfile.h"

static char *dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* Folded continuation of the last field: "\n" + the line as is. */
static int fold_into_last(msgfile_t *m, const char *line, size_t len)
{
    msgfile_header_t *h = &m->hdr[m->nhdr - 1];
    size_t old = strlen(h->value);
    char *v = realloc(h->value, old + 1 + len + 1);
    if (v == NULL)
        return -1;
    v[old] = '\n';
    memcpy(v + old + 1, line, len);
    v[old + 1 + len] = '\0';
    h->value = v;
    return 0;
}

static int add_header_line(msgfile_t *m, const char *line, size_t len,
                           char *err, size_t errlen)
{
    if ((line[0] == ' ' || line[0] == '\t') && m->nhdr > 0) {
        if (fold_into_last(m, line, len) == 0)
            return 0;
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const char *colon = memchr(line, ':', len);
    if (colon == NULL || colon == line || m->nhdr == MSGFILE_MAX_HEADERS) {
        snprintf(err, errlen, "header line %zu: %s", m->nhdr + 1,
                 colon ? "too many header fields" : "no field name");
        return -1;
    }
    msgfile_header_t *h = &m->hdr[m->nhdr];
    h->name = dup_n(line, (size_t)(colon - line));
    h->value = dup_n(colon + 1, len - (size_t)(colon - line) - 1);
    m->nhdr++;              /* counted even half-made, so free sees it */
    if (h->name == NULL || h->value == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static void add_body_line(msgfile_t *m, const char *line, size_t len)
{
    memcpy(m->body + m->bodylen, line, len);
    memcpy(m->body + m->bodylen + len, "\r\n", 2);
    m->bodylen += len + 2;
}

msgfile_t *msgfile_parse(const char *text, size_t len, char *err,
                         size_t errlen)
{
    msgfile_t *m = calloc(1, sizeof *m);
    /* CRLF for every LF at most doubles the size */
    if (m == NULL || len > MSGFILE_MAX_BYTES ||
        (m->body = malloc(2 * len + 1)) == NULL) {
        snprintf(err, errlen, "message too large or out of memory");
        free(m);
        return NULL;
    }
    int in_body = 0;
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t ll = end - i;
        if (ll > 0 && text[i + ll - 1] == '\r')
            ll--;
        if (in_body)
            add_body_line(m, text + i, ll);
        else if (ll == 0)
            in_body = 1;
        else if (add_header_line(m, text + i, ll, err, errlen) < 0) {
            msgfile_free(m);
            return NULL;
        }
        i = end + 1;
    }
    return m;
}

msgfile_t *msgfile_builtin(void)
{
    static const char head[] =
        "Return-Path: <sender@example.org>\n"
        "Received: from client.example.net (client.example.net [192.0.2.10])\n"
        "\tby mx.example.org (Postfix) with ESMTPS id 4B2C1A0001\n"
        "\tfor <rcpt@example.com>; Wed, 25 Nov 2026 06:00:00 +0000 (UTC)\n"
        "From: Sender <sender@example.org>\n"
        "To: Recipient <rcpt@example.com>\n"
        "Subject: quarterly figures\n"
        "Date: Wed, 25 Nov 2026 06:00:00 +0000\n"
        "Message-ID: <20261125060000.1234@example.org>\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "Content-Transfer-Encoding: 7bit\n"
        "\n";
    static const char line[] =
        "The figures for the quarter are attached below as plain text so "
        "that\n";
    char text[4096 + sizeof line];
    char err[128];
    size_t len = sizeof head - 1;
    memcpy(text, head, len);
    while (len + sizeof line - 1 <= 4096) {
        memcpy(text + len, line, sizeof line - 1);
        len += sizeof line - 1;
    }
    return msgfile_parse(text, len, err, sizeof err);
}

static int load_file(const char *path, msgfile_t **out, size_t max,
                     size_t *n, char *err, size_t errlen)
{
    char why[256];
    if (*n >= max) {
        snprintf(err, errlen, "%s: more than %zu messages", path, max);
        return -1;
    }
    FILE *f = fopen(path, "rb");
    char *buf = f ? malloc(MSGFILE_MAX_BYTES) : NULL;
    if (buf == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    size_t len = fread(buf, 1, MSGFILE_MAX_BYTES, f);
    fclose(f);
    out[*n] = msgfile_parse(buf, len, why, sizeof why);
    free(buf);
    if (out[*n] == NULL) {
        snprintf(err, errlen, "%s: %s", path, why);
        return -1;
    }
    (*n)++;
    return 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Regular files of dir, sorted; caller frees each and the array. */
static char **list_dir(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    char **names = d ? calloc(MSGFILE_MAX, sizeof *names) : NULL;
    struct dirent *e;
    *count = 0;
    while (names && (e = readdir(d)) != NULL && *count < MSGFILE_MAX) {
        struct stat st;
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", dir, e->d_name);
        if (stat(full, &st) == 0 && S_ISREG(st.st_mode) &&
            (names[*count] = strdup(full)) != NULL)
            (*count)++;
    }
    if (d)
        closedir(d);
    if (names)
        qsort(names, *count, sizeof names[0], name_cmp);
    return names;
}

int msgfile_load_path(const char *path, msgfile_t **out, size_t max,
                      size_t *n, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return load_file(path, out, max, n, err, errlen);
    size_t count;
    char **names = list_dir(path, &count);
    int rc = names ? 0 : -1;
    if (rc < 0)
        snprintf(err, errlen, "%s: cannot read directory", path);
    for (size_t i = 0; i < count; i++) {
        if (rc == 0)
            rc = load_file(names[i], out, max, n, err, errlen);
        free(names[i]);
    }
    free(names);
    return rc;
}

size_t msgfile_size(const msgfile_t *m)
{
    size_t n = 2 + m->bodylen;
    for (size_t i = 0; i < m->nhdr; i++)
        n += strlen(m->hdr[i].name) + 1 + strlen(m->hdr[i].value) + 2;
    return n;
}

void msgfile_free(msgfile_t *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->nhdr; i++) {
        free(m->hdr[i].name);
        free(m->hdr[i].value);
    }
    free(m->body);
    free(m);
}
