/*
 * avscan_clamd.c - the clamd back end: one connection per message to a
 * clamd the site already runs, the message sent with INSTREAM
 * (avclamd.c). Nothing is loaded here, so a reload costs nothing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sockspec.h"

#include "avclamd.h"
#include "avscan.h"

typedef struct clamd {
    avscan_t base;
    sockspec_t spec;
    long long timeout_ms;
    size_t chunk;
} clamd_t;

static int fill_addr(const sockspec_t *sp, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof(*ss));
    if (sp->family == SOCKSPEC_UNIX) {
        struct sockaddr_un *un = (struct sockaddr_un *) ss;
        un->sun_family = AF_UNIX;
        memcpy(un->sun_path, sp->path, sizeof(un->sun_path));
        *len = sizeof(*un);
    } else if (sp->family == SOCKSPEC_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *) ss;
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t) sp->port);
        if (inet_pton(AF_INET, sp->host, &in->sin_addr) != 1)
            return -1;
        *len = sizeof(*in);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t) sp->port);
        if (inet_pton(AF_INET6, sp->host, &in6->sin6_addr) != 1)
            return -1;
        *len = sizeof(*in6);
    }
    return 0;
}

/* Waits for a TCP connect in progress; 0 connected, else an errno. */
static int connect_wait(int fd, long long deadline_ms)
{
    int err = 0;
    socklen_t elen = sizeof(err);
    int w = avclamd_wait(fd, POLLOUT, deadline_ms);

    if (w <= 0)
        return w == 0 ? ETIMEDOUT : errno;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
        return errno;
    return err;
}

/* A non-blocking connection to clamd, within the deadline; -1 with R set. */
static int connect_clamd(const clamd_t *c, long long deadline_ms, avscan_result_t *r)
{
    struct sockaddr_storage ss;
    socklen_t len;
    char why[AVSCAN_MAX_REASON];
    int fd, err = 0;

    if (fill_addr(&c->spec, &ss, &len) < 0) {
        avscan_fail(r, AVSCAN_ERROR, "clamd: bad address");
        return -1;
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        err = errno;
    else if (connect(fd, (struct sockaddr *) &ss, len) < 0)
        err = errno == EINPROGRESS ? connect_wait(fd, deadline_ms) : errno;
    if (err != 0) {
        snprintf(why, sizeof(why), "clamd: connect %s: %s", c->spec.milter, strerror(err));
        avscan_fail(r, AVSCAN_ERROR, why);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static void clamd_scan(avscan_t *s, const avspool_t *msg, avscan_result_t *r)
{
    const clamd_t *c = (const clamd_t *) s;
    long long deadline = avclamd_now_ms() + c->timeout_ms;
    int fd = connect_clamd(c, deadline, r);

    if (fd < 0)
        return;
    avclamd_instream(fd, msg, c->chunk, deadline, r);
    close(fd);
}

static void clamd_describe(avscan_t *s, char *buf, size_t buflen)
{
    snprintf(buf, buflen, "clamd at %s", ((clamd_t *) s)->spec.milter);
}

static void clamd_free(avscan_t *s)
{
    free(s);
}

static const avscan_ops_t clamd_ops = {
    .name = "clamd", .scan = clamd_scan, .describe = clamd_describe, .free = clamd_free,
};

avscan_t *avscan_clamd_new(const char *socket, long long timeout_ms, size_t chunk,
                           char *err, size_t errlen)
{
    clamd_t *c = calloc(1, sizeof(*c));
    char why[256];

    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (sockspec_parse(socket, &c->spec, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "clamd_socket: %s", why);
        free(c);
        return NULL;
    }
    if (c->spec.family != SOCKSPEC_UNIX && c->spec.host[0] == '\0') {
        snprintf(err, errlen, "clamd_socket: %s: needs a host", socket);
        free(c);
        return NULL;
    }
    c->base.ops = &clamd_ops;
    c->timeout_ms = timeout_ms;
    c->chunk = chunk;
    return &c->base;
}
