/*
 * request.c - split a policy request into attributes, with fixed limits.
 */
#include <stdio.h>
#include <string.h>

#include "request.h"

/* End of the request: the offset just past "\n\n" (or "\n\r\n"), or 0. */
static size_t find_end(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (i == 0 || buf[i - 1] == '\n')
            return i + 1;
        if (buf[i - 1] == '\r' && (i == 1 || buf[i - 2] == '\n'))
            return i + 1;
    }
    return 0;
}

static int valid_name(const char *s, size_t n)
{
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
              || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

static int add_line(request_t *req, char *line, size_t n, char *err, size_t errlen)
{
    char *eq = memchr(line, '=', n);

    if (n > 0 && line[n - 1] == '\r')
        line[--n] = '\0';
    if (eq == NULL || !valid_name(line, (size_t) (eq - line))) {
        snprintf(err, errlen, "not a name=value line: '%.40s'", line);
        return -1;
    }
    *eq = '\0';
    if (memchr(eq + 1, '\0', n - (size_t) (eq - line) - 1) != NULL) {
        snprintf(err, errlen, "NUL byte in attribute '%.40s'", line);
        return -1;
    }
    if (request_get(req, line)[0] != '\0' || req->nattrs >= REQUEST_MAX_ATTRS) {
        if (req->nattrs >= REQUEST_MAX_ATTRS) {
            snprintf(err, errlen, "more than %d attributes", REQUEST_MAX_ATTRS);
            return -1;
        }
        return 0;               /* repeated: the first value stands */
    }
    req->attrs[req->nattrs].name = line;
    req->attrs[req->nattrs].value = eq + 1;
    req->nattrs++;
    return 0;
}

request_status_t request_parse(const char *buf, size_t len, request_t *req,
                               size_t *used, char *err, size_t errlen)
{
    size_t end = find_end(buf, len > REQUEST_MAX_BYTES ? REQUEST_MAX_BYTES : len);
    size_t body;

    req->nattrs = 0;
    if (end == 0) {
        if (len < REQUEST_MAX_BYTES)
            return REQUEST_PARTIAL;
        snprintf(err, errlen, "request longer than %d bytes", REQUEST_MAX_BYTES);
        return REQUEST_BAD;
    }
    /* Everything before the final empty line. */
    body = end - (end >= 2 && buf[end - 2] == '\r' ? 2 : 1);
    memcpy(req->text, buf, body);
    req->text[body] = '\0';
    for (size_t pos = 0; pos < body;) {
        char *line = req->text + pos;
        char *nl = memchr(line, '\n', body - pos);
        size_t n = nl ? (size_t) (nl - line) : body - pos;
        line[n] = '\0';
        if (add_line(req, line, n, err, errlen) < 0)
            return REQUEST_BAD;
        pos += n + 1;
    }
    if (req->nattrs == 0) {
        snprintf(err, errlen, "empty request");
        return REQUEST_BAD;
    }
    *used = end;
    return REQUEST_OK;
}

const char *request_get(const request_t *req, const char *name)
{
    for (size_t i = 0; i < req->nattrs; i++)
        if (strcmp(req->attrs[i].name, name) == 0)
            return req->attrs[i].value;
    return "";
}
