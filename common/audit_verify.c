/*
 * audit_verify.c - check the hash chain of an audit log, streaming in
 * constant memory. Each complete record's "prev" must be the SHA-256 of
 * the complete record before it; lines that are not JSON objects are
 * fragments torn by a crash and are skipped (but counted).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "audit.h"

typedef struct verifier {
    audit_verify_result_t *out;
    char expect[AUDIT_HASH_HEX + 1];
    unsigned long line;
    unsigned long prev_line;    /* line of the last complete record */
} verifier_t;

static int broken(verifier_t *v, const char *why)
{
    v->out->first_bad_line = v->line;
    snprintf(v->out->why, sizeof(v->out->why), "%s", why);
    return 1;
}

static int check_record(verifier_t *v, const char *line, size_t len)
{
    json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
    const char *prev;
    char why[200];
    int rc = 0;

    if (o == NULL || !json_is_object(o)) {
        /* Our writer always writes whole objects: a line that is not one
         * was cut short by a crash (the next writer ended it). */
        json_decref(o);
        if (v->out->torn++ == 0)
            v->out->first_torn_line = v->line;
        return 0;
    }
    prev = json_string_value(json_object_get(o, "prev"));
    if (prev == NULL || strlen(prev) != AUDIT_HASH_HEX
        || json_object_get(o, "ts") == NULL || json_object_get(o, "component") == NULL) {
        rc = broken(v, "not an audit record (missing ts, component or prev)");
    } else if (v->prev_line != 0 && strcmp(prev, v->expect) != 0) {
        snprintf(why, sizeof(why), "chain broken: prev is not the hash of "
                 "line %lu (a record was changed, removed, inserted or moved)",
                 v->prev_line);
        rc = broken(v, why);
    } else {
        /* The first record starts a chain (64 zeros) or continues the
         * file this one was rotated from: the caller checks that link. */
        if (v->prev_line == 0)
            memcpy(v->out->first_prev, prev, sizeof(v->out->first_prev));
        audit_hash_hex(line, len, v->expect);
        v->prev_line = v->line;
        v->out->records++;
    }
    json_decref(o);
    return rc;
}

int audit_verify_fd(int fd, audit_verify_result_t *out)
{
    verifier_t v = { .out = out };
    size_t cap = AUDIT_MAX_RECORD + 2, have = 0;
    char *buf = malloc(cap);
    int rc = 0;

    memset(out, 0, sizeof(*out));
    memset(v.expect, '0', AUDIT_HASH_HEX);
    memset(out->first_prev, '0', AUDIT_HASH_HEX);
    if (buf == NULL)
        return -1;
    for (;;) {
        ssize_t n = read(fd, buf + have, cap - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -1;
            break;
        }
        have += (size_t) n;
        /* Check every complete line in the buffer. */
        char *p = buf, *nl;
        while (rc == 0 && (nl = memchr(p, '\n', have - (size_t) (p - buf))) != NULL) {
            v.line++;
            rc = check_record(&v, p, (size_t) (nl - p));
            p = nl + 1;
        }
        have -= (size_t) (p - buf);
        memmove(buf, p, have);
        if (rc != 0)
            break;
        if (n == 0) {
            if (have > 0) {     /* a last line without newline */
                v.line++;
                rc = check_record(&v, buf, have);
            }
            break;
        }
        if (have == cap) {
            v.line++;
            rc = broken(&v, "line longer than the longest record");
            break;
        }
    }
    memcpy(out->last_hash, v.expect, sizeof(out->last_hash));
    free(buf);
    return rc;
}

int audit_verify_file(const char *path, audit_verify_result_t *out, char *err,
                      size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc;

    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    rc = audit_verify_fd(fd, out);
    if (rc < 0)
        snprintf(err, errlen, "%s: read: %s", path, strerror(errno));
    close(fd);
    return rc;
}

int audit_hash_is_zero(const char *hex)
{
    return hex != NULL && strspn(hex, "0") == AUDIT_HASH_HEX && hex[AUDIT_HASH_HEX] == '\0';
}
