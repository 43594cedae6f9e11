/*
 * ppolicy.c - policy protocol codec of policy-load: requests out, the
 * server's untrusted "action=...\n\n" replies in, checked byte by byte.
 */
#include <stdio.h>
#include <string.h>

#include "ppolicy.h"

static const char action_prefix[] = "action=";
#define PREFIX_LEN (sizeof action_prefix - 1)

static int append(char *buf, size_t cap, size_t *off, const char *s,
                  size_t n)
{
    if (n >= cap - *off)        /* keep one byte for the NUL */
        return -1;
    memcpy(buf + *off, s, n);
    *off += n;
    return 0;
}

static int bad_attr(const ppolicy_attr_t *a, char *err, size_t errlen)
{
    const char *v = a->value ? a->value : "";
    if (a->name == NULL || a->name[0] == '\0') {
        snprintf(err, errlen, "attribute without a name");
        return 1;
    }
    if (strpbrk(a->name, "=\n") != NULL || strchr(v, '\n') != NULL) {
        snprintf(err, errlen, "attribute %.64s: '=' in the name or a "
                 "newline", a->name);
        return 1;
    }
    return 0;
}

int ppolicy_encode(char *buf, size_t cap, const ppolicy_attr_t *attrs,
                   size_t n, size_t *len, char *err, size_t errlen)
{
    size_t off = 0;
    if (cap == 0) {
        snprintf(err, errlen, "no room for a request");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (bad_attr(&attrs[i], err, errlen))
            return -1;
        const char *v = attrs[i].value ? attrs[i].value : "";
        if (append(buf, cap, &off, attrs[i].name, strlen(attrs[i].name)) ||
            append(buf, cap, &off, "=", 1) ||
            append(buf, cap, &off, v, strlen(v)) ||
            append(buf, cap, &off, "\n", 1)) {
            snprintf(err, errlen, "request longer than %zu bytes", cap - 1);
            return -1;
        }
    }
    if (append(buf, cap, &off, "\n", 1)) {
        snprintf(err, errlen, "request longer than %zu bytes", cap - 1);
        return -1;
    }
    buf[off] = '\0';
    *len = off;
    return 0;
}

/* The first len bytes must agree with "action=" (a prefix of it when
 * fewer arrived). */
static int prefix_ok(const char *buf, size_t len)
{
    size_t n = len < PREFIX_LEN ? len : PREFIX_LEN;
    return memcmp(buf, action_prefix, n) == 0;
}

int ppolicy_decode_reply(const char *buf, size_t len, ppolicy_reply_t *out,
                         char *err, size_t errlen)
{
    if (!prefix_ok(buf, len)) {
        snprintf(err, errlen, "reply does not start with \"action=\"");
        return -1;
    }
    size_t scan = len < PPOLICY_MAX_REPLY ? len : PPOLICY_MAX_REPLY;
    size_t nl = PREFIX_LEN;
    for (; nl < scan && buf[nl] != '\n'; nl++)
        if (buf[nl] == '\0' || buf[nl] == '\r') {
            snprintf(err, errlen, "%s byte in the action",
                     buf[nl] ? "CR" : "NUL");
            return -1;
        }
    if (nl + 1 >= PPOLICY_MAX_REPLY) {
        snprintf(err, errlen, "reply longer than %d bytes", PPOLICY_MAX_REPLY);
        return -1;
    }
    if (nl >= scan || nl + 1 >= len)
        return 0;               /* the line or the empty line is to come */
    if (nl == PREFIX_LEN) {
        snprintf(err, errlen, "empty action");
        return -1;
    }
    if (buf[nl + 1] != '\n') {
        snprintf(err, errlen, "more than one attribute in the reply");
        return -1;
    }
    out->action = buf + PREFIX_LEN;
    out->action_len = nl - PREFIX_LEN;
    out->consumed = nl + 2;
    return 1;
}

static int word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-';
}

void ppolicy_action_word(const char *action, size_t len, char *word,
                         size_t wordlen)
{
    size_t n = 0;
    while (n < len && n + 1 < wordlen && word_char(action[n])) {
        char c = action[n];
        word[n++] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
    }
    if (n == 0 && wordlen > 1)
        word[n++] = '?';
    word[n] = '\0';
}
