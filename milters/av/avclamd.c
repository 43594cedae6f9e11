/*
 * avclamd.c - INSTREAM framing, reply parsing and the exchange with
 * clamd under one deadline. The connection itself is made by the clamd
 * back end (avscan_clamd.c); this file only speaks on it.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "avclamd.h"

long long avclamd_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void avclamd_chunk_header(uint32_t len, unsigned char out[4])
{
    out[0] = (unsigned char) (len >> 24);
    out[1] = (unsigned char) (len >> 16);
    out[2] = (unsigned char) (len >> 8);
    out[3] = (unsigned char) len;
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);

    return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

int avclamd_parse_reply(const char *line, size_t len, avscan_result_t *r)
{
    char why[AVSCAN_MAX_REASON];
    const char *prefix = "stream: ";
    size_t plen = strlen(prefix);

    while (len > 0 && (line[len - 1] == '\0' || line[len - 1] == '\n'))
        len--;
    if (len >= plen && memcmp(line, prefix, plen) == 0) {
        line += plen;
        len -= plen;
        if (len == 2 && memcmp(line, "OK", 2) == 0) {
            avscan_fail(r, AVSCAN_CLEAN, "");
            return 0;
        }
        if (ends_with(line, len, " FOUND") && len > 6) {
            avscan_found(r, line, len - 6);
            return 0;
        }
    }
    if (len > 0 && memmem(line, len, "size limit exceeded", 19) != NULL) {
        avscan_fail(r, AVSCAN_LIMIT, "clamd: stream size limit exceeded");
        return 0;
    }
    snprintf(why, sizeof(why), "clamd: %.*s", (int) (len > 200 ? 200 : len), line);
    for (char *p = why; *p; p++)
        if ((unsigned char) *p < 0x20 || (unsigned char) *p > 0x7e)
            *p = '?';
    avscan_fail(r, AVSCAN_ERROR, len == 0 ? "clamd: empty reply" : why);
    return ends_with(line, len, " ERROR") ? 0 : -1;
}

int avclamd_wait(int fd, short events, long long deadline_ms)
{
    for (;;) {
        long long left = deadline_ms - avclamd_now_ms();
        struct pollfd p = { .fd = fd, .events = events };
        int n;

        if (left <= 0)
            return 0;
        n = poll(&p, 1, left > 60000 ? 60000 : (int) left);
        if (n > 0)
            return 1;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

/* 0 sent, -1 failed (ERRNO_OUT), -2 deadline. */
static int send_all(int fd, const void *data, size_t len, long long deadline_ms)
{
    const unsigned char *p = data;

    while (len > 0) {
        int w = avclamd_wait(fd, POLLOUT, deadline_ms);
        ssize_t n;

        if (w == 0)
            return -2;
        if (w < 0)
            return -1;
        n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t) n;
    }
    return 0;
}

/* Sends the command, the chunks and the end marker. */
static int send_stream(int fd, const avspool_t *msg, size_t chunk, long long deadline_ms)
{
    static const char cmd[] = "zINSTREAM";
    unsigned char *buf = malloc(chunk + 4);
    size_t off = 0;
    int rc = send_all(fd, cmd, sizeof(cmd), deadline_ms);

    if (buf == NULL)
        return -1;
    while (rc == 0) {
        ssize_t n = avspool_read(msg, off, buf + 4, chunk);
        if (n < 0) {
            rc = -3;
            break;
        }
        avclamd_chunk_header((uint32_t) n, buf);
        rc = send_all(fd, buf, (size_t) n + 4, deadline_ms);
        if (n == 0)
            break;
        off += (size_t) n;
    }
    free(buf);
    return rc;
}

/* Reads the NUL-terminated reply; its length, or -1 / -2 (deadline). */
static ssize_t read_reply(int fd, char *buf, size_t cap, long long deadline_ms)
{
    size_t len = 0;

    while (len < cap) {
        int w = avclamd_wait(fd, POLLIN, deadline_ms);
        ssize_t n;

        if (w == 0)
            return -2;
        if (w < 0)
            return -1;
        n = recv(fd, buf + len, cap - len, MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        len += (size_t) n;
        if (memchr(buf + len - (size_t) n, '\0', (size_t) n) != NULL)
            break;
    }
    return (ssize_t) len;
}

void avclamd_instream(int fd, const avspool_t *msg, size_t chunk, long long deadline_ms,
                      avscan_result_t *r)
{
    char reply[AVCLAMD_MAX_REPLY];
    int sent;
    ssize_t n;

    if (chunk == 0 || chunk > AVCLAMD_MAX_CHUNK)
        chunk = 64 * 1024;
    sent = send_stream(fd, msg, chunk, deadline_ms);
    if (sent == -2 || sent == -3) {
        avscan_fail(r, AVSCAN_ERROR, sent == -2 ? "clamd: timed out sending the message"
                                                : "clamd: cannot read the spooled message");
        return;
    }
    /* After a failed write clamd may still have said why (size limit). */
    n = read_reply(fd, reply, sizeof(reply), deadline_ms);
    if (n == -2)
        avscan_fail(r, AVSCAN_ERROR, "clamd: timed out waiting for the verdict");
    else if (n <= 0)
        avscan_fail(r, AVSCAN_ERROR, sent < 0 ? "clamd: connection lost while sending"
                                              : "clamd: no reply");
    else
        avclamd_parse_reply(reply, (size_t) n, r);
}
