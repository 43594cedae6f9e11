/*
 * smtpreply.c - finds one complete SMTP reply in received bytes, with
 * limits on line length and line count because the server is untrusted.
 */
#include <stdio.h>
#include <string.h>

#include "smtpreply.h"

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Checks one line of n bytes (LF excluded, CR kept if sent): 1 when it is
 * the last line of the reply, 0 when a continuation, -1 when malformed. */
static int check_line(const char *line, size_t n, int *code, char *err,
                      size_t errlen)
{
    if (n > 0 && line[n - 1] == '\r')
        n--;
    if (n < 3 || !is_digit(line[0]) || !is_digit(line[1]) ||
        !is_digit(line[2]) || line[0] < '2' || line[0] > '5') {
        snprintf(err, errlen, "reply line does not start with a code 2xx-5xx");
        return -1;
    }
    int c = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (*code != 0 && c != *code) {
        snprintf(err, errlen, "reply mixes codes %d and %d", *code, c);
        return -1;
    }
    *code = c;
    if (n == 3 || line[3] == ' ')
        return 1;
    if (line[3] == '-')
        return 0;
    snprintf(err, errlen, "reply code %d followed by 0x%02x, not space or "
             "hyphen", c, (unsigned char)line[3]);
    return -1;
}

int smtpreply_parse(const char *buf, size_t len, int *code, size_t *used,
                    char *err, size_t errlen)
{
    size_t off = 0;
    int c = 0;

    for (unsigned lines = 0; lines < SMTPREPLY_MAX_LINES; lines++) {
        size_t room = len - off;
        const char *lf = memchr(buf + off, '\n', room);
        size_t n = lf ? (size_t)(lf - (buf + off)) : room;
        if (n > SMTPREPLY_MAX_LINE) {
            snprintf(err, errlen, "reply line longer than %d bytes",
                     SMTPREPLY_MAX_LINE);
            return -1;
        }
        if (lf == NULL)
            return 0;
        int last = check_line(buf + off, n, &c, err, errlen);
        if (last < 0)
            return -1;
        off += n + 1;
        if (last) {
            *code = c;
            *used = off;
            return 1;
        }
    }
    snprintf(err, errlen, "reply of more than %d lines", SMTPREPLY_MAX_LINES);
    return -1;
}

int smtpreply_class(int code)
{
    if (code < 200 || code > 599)
        return 0;
    return code / 100;
}
