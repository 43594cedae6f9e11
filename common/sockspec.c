/*
 * sockspec.c - check a milter socket spec before libmilter sees it, so
 * that a typo is a config error with a message, not a daemon that
 * fails to start with "Unable to create listening socket".
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sockspec.h"

static int parse_unix(const char *path, sockspec_t *out, char *err, size_t errlen)
{
    if (path[0] != '/') {
        snprintf(err, errlen, "unix socket path must be absolute: '%.100s'", path);
        return -1;
    }
    if (strlen(path) >= sizeof(out->path)) {
        snprintf(err, errlen, "unix socket path longer than %zu characters",
                 sizeof(out->path) - 1);
        return -1;
    }
    out->family = SOCKSPEC_UNIX;
    strcpy(out->path, path);
    snprintf(out->milter, sizeof(out->milter), "unix:%s", path);
    return 0;
}

static int parse_port(const char *s, size_t n, unsigned *port)
{
    unsigned long v = 0;

    if (n == 0 || n > 5)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned long) (s[i] - '0');
    }
    if (v < 1 || v > 65535)
        return -1;
    *port = (unsigned) v;
    return 0;
}

static int parse_inet(const char *rest, int v6, sockspec_t *out, char *err,
                      size_t errlen)
{
    const char *at = strchr(rest, '@');
    size_t plen = at ? (size_t) (at - rest) : strlen(rest);
    const char *host = at ? at + 1 : "";
    size_t hlen = strlen(host);
    unsigned char addr[16];

    if (parse_port(rest, plen, &out->port) < 0) {
        snprintf(err, errlen, "bad port '%.*s' (want 1-65535)", (int) (plen > 20 ? 20 : plen),
                 rest);
        return -1;
    }
    if (v6 && hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
        host++;
        hlen -= 2;
    }
    if (hlen >= sizeof(out->host)) {
        snprintf(err, errlen, "host address too long");
        return -1;
    }
    memcpy(out->host, host, hlen);
    out->host[hlen] = '\0';
    if (at != NULL && inet_pton(v6 ? AF_INET6 : AF_INET, out->host, addr) != 1) {
        snprintf(err, errlen, "'%s' is not a numeric IPv%c address", out->host,
                 v6 ? '6' : '4');
        return -1;
    }
    out->family = v6 ? SOCKSPEC_INET6 : SOCKSPEC_INET;
    if (at != NULL)
        snprintf(out->milter, sizeof(out->milter), "%s:%u@%s", v6 ? "inet6" : "inet",
                 out->port, out->host);
    else
        snprintf(out->milter, sizeof(out->milter), "%s:%u", v6 ? "inet6" : "inet",
                 out->port);
    return 0;
}

int sockspec_parse(const char *spec, sockspec_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (spec == NULL || *spec == '\0') {
        snprintf(err, errlen, "empty socket spec");
        return -1;
    }
    if (strncmp(spec, "unix:", 5) == 0)
        return parse_unix(spec + 5, out, err, errlen);
    if (strncmp(spec, "local:", 6) == 0)
        return parse_unix(spec + 6, out, err, errlen);
    if (strncmp(spec, "inet:", 5) == 0)
        return parse_inet(spec + 5, 0, out, err, errlen);
    if (strncmp(spec, "inet6:", 6) == 0)
        return parse_inet(spec + 6, 1, out, err, errlen);
    snprintf(err, errlen, "unknown socket type in '%.80s' (want unix:PATH, "
             "inet:PORT@HOST or inet6:PORT@HOST)", spec);
    return -1;
}
