/*
 * request.c - split a policy request into attributes, with fixed limits,
 * in one pass over the bytes: no search per attribute, no copy beyond
 * the request's own text.
 */
#include <stdio.h>
#include <string.h>

#include "request.h"

#define NAME_MAX_LEN 64

/* The known attribute NAME (N bytes) is, or -1. */
static int known_index(const char *name, size_t n)
{
#define IS(s) (n == sizeof(s) - 1 && memcmp(name, s, n) == 0)
    switch (n) {
    case 4: return IS("size") ? REQ_SIZE : -1;
    case 6: return IS("sender") ? REQ_SENDER : -1;
    case 8: return IS("queue_id") ? REQ_QUEUE_ID : -1;
    case 9: return IS("recipient") ? REQ_RECIPIENT : IS("helo_name") ? REQ_HELO_NAME : -1;
    case 13: return IS("sasl_username") ? REQ_SASL_USERNAME : -1;
    case 14:
        return IS("protocol_state") ? REQ_PROTOCOL_STATE
             : IS("client_address") ? REQ_CLIENT_ADDRESS : -1;
    case 15: return IS("recipient_count") ? REQ_RECIPIENT_COUNT : -1;
    }
    return -1;
#undef IS
}

/* Letters, digits and '_': what Postfix puts in attribute names. */
static const unsigned char name_char[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['_'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
    ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1,
};

/* Length of the name before '=' when it is a valid name of at most
 * NAME_MAX_LEN bytes, else 0; *HASH tells names apart well enough for
 * the repeat bitmap (equal names always hash alike). */
static size_t scan_name(const char *s, size_t n, uint32_t *hash)
{
    const char *eq = memchr(s, '=', n);
    size_t len = eq ? (size_t) (eq - s) : 0;
    unsigned ok = 1;

    if (len == 0 || len > NAME_MAX_LEN)
        return 0;
    for (size_t i = 0; i < len; i++)
        ok &= name_char[(unsigned char) s[i]];
    if (!ok)
        return 0;
    *hash = (uint32_t) len * 2654435761u ^ (unsigned char) s[0] * 40503u
          ^ (unsigned char) s[len - 1] * 9973u ^ (unsigned char) s[len / 2];
    return len;
}

/* Whether an attribute NAME (hash H) is already stored; the bitmap of
 * hashes answers most "no"s without a comparison. */
static int repeated(const request_t *req, const char *name, uint32_t h)
{
    if (!(req->seen & (1ULL << (h & 63))))
        return 0;
    for (size_t i = 0; i < req->nattrs; i++)
        if (req->hash[i] == h && strcmp(req->attrs[i].name, name) == 0)
            return 1;
    return 0;
}

static int add_line(request_t *req, char *line, size_t n, char *err, size_t errlen)
{
    uint32_t h = 0;
    size_t namelen;

    if (n > 0 && line[n - 1] == '\r')
        line[--n] = '\0';
    if ((namelen = scan_name(line, n, &h)) == 0) {
        snprintf(err, errlen, "not a name=value line: '%.40s'", line);
        return -1;
    }
    line[namelen] = '\0';
    if (repeated(req, line, h))
        return 0;               /* repeated: the first value stands */
    if (req->nattrs >= REQUEST_MAX_ATTRS) {
        snprintf(err, errlen, "more than %d attributes", REQUEST_MAX_ATTRS);
        return -1;
    }
    int k = known_index(line, namelen);
    if (k >= 0)
        req->known[k] = line + namelen + 1;
    req->attrs[req->nattrs].name = line;
    req->attrs[req->nattrs].value = line + namelen + 1;
    req->hash[req->nattrs] = h;
    req->seen |= 1ULL << (h & 63);
    req->nattrs++;
    return 0;
}

/* A value may not hold a NUL byte (it would cut the value short). One
 * search over the whole request instead of one per line; ERR names the
 * attribute, whose copied line ends at its '='. */
static int has_nul(const request_t *req, const char *buf, size_t len, char *err,
                   size_t errlen)
{
    const char *nul = memchr(buf, '\0', len);
    size_t start;

    if (nul == NULL)
        return 0;
    for (start = (size_t) (nul - buf); start > 0 && buf[start - 1] != '\n'; start--)
        continue;
    snprintf(err, errlen, "NUL byte in attribute '%.40s'", req->text + start);
    return 1;
}

/* One pass: each line is copied into the request and split as soon as
 * memchr finds its end; the empty line ends the request. */
request_status_t request_parse(const char *buf, size_t len, request_t *req,
                               size_t *used, char *err, size_t errlen)
{
    size_t lim = len > REQUEST_MAX_BYTES ? REQUEST_MAX_BYTES : len, line = 0;
    const char *nl;

    req->nattrs = 0;
    req->seen = 0;
    memset(req->known, 0, sizeof(req->known));
    while (line < lim && (nl = memchr(buf + line, '\n', lim - line)) != NULL) {
        size_t end = (size_t) (nl - buf), n = end - line;
        if (n == 0 || (n == 1 && buf[line] == '\r')) {
            if (req->nattrs == 0) {
                snprintf(err, errlen, "empty request");
                return REQUEST_BAD;
            }
            if (has_nul(req, buf, end, err, errlen))
                return REQUEST_BAD;
            *used = end + 1;
            return REQUEST_OK;
        }
        char *copy = req->text + line;
        memcpy(copy, buf + line, n);
        copy[n] = '\0';
        if (add_line(req, copy, n, err, errlen) < 0)
            return REQUEST_BAD;
        line = end + 1;
    }
    if (len < REQUEST_MAX_BYTES)
        return REQUEST_PARTIAL;
    snprintf(err, errlen, "request longer than %d bytes", REQUEST_MAX_BYTES);
    return REQUEST_BAD;
}

const char *request_value(const request_t *req, request_known_t a)
{
    return req->known[a] ? req->known[a] : "";
}

const char *request_get(const request_t *req, const char *name)
{
    int k = known_index(name, strlen(name));

    if (k >= 0)
        return request_value(req, (request_known_t) k);
    for (size_t i = 0; i < req->nattrs; i++)
        if (strcmp(req->attrs[i].name, name) == 0)
            return req->attrs[i].value;
    return "";
}
