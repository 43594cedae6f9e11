/*
 * cmd_stats.c - "postern stats": the metrics of every running component
 * that has a metrics listener, read over HTTP from loopback.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"

#include "cmdconf.h"
#include "commands.h"
#include "components.h"

/* GET /metrics from HOST:PORT; prints the body. 0, or -1 (said why). */
static int fetch(const char *name, const char *hostport)
{
    const char *colon = strrchr(hostport, ':');
    struct sockaddr_in sa = { .sin_family = AF_INET };
    struct timeval tv = { 5, 0 };
    char host[64], buf[65536];
    static const char req[] = "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n";
    size_t got = 0;
    ssize_t n;
    int fd;

    if (colon == NULL || (size_t) (colon - hostport) >= sizeof(host))
        return -1;
    memcpy(host, hostport, (size_t) (colon - hostport));
    host[colon - hostport] = '\0';
    sa.sin_port = htons((uint16_t) atoi(colon + 1));
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1
        || (fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0
        || write(fd, req, sizeof(req) - 1) != (ssize_t) sizeof(req) - 1) {
        fprintf(stderr, "postern: %s: cannot reach %s: %s (is it running?)\n", name,
                hostport, strerror(errno));
        close(fd);
        return -1;
    }
    while (got < sizeof(buf) - 1 && (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
        got += (size_t) n;
    close(fd);
    buf[got] = '\0';
    char *body = strstr(buf, "\r\n\r\n");
    if (strncmp(buf, "HTTP/1.", 7) != 0 || strstr(buf, " 200 ") == NULL || body == NULL) {
        fprintf(stderr, "postern: %s: no metrics from %s\n", name, hostport);
        return -1;
    }
    fputs(body + 4, stdout);
    return 0;
}

int cmd_stats(int argc, char **argv)
{
    const char *path = cmdconf_default_path();
    int c, rc = 0, any = 0;

    optind = 1;
    while ((c = getopt(argc, argv, "c:")) != -1) {
        if (c != 'c') {
            fprintf(stderr, "usage: postern stats [-c FILE]\n");
            return EX_USAGE;
        }
        path = optarg;
    }
    config_t *cfg = cmdconf_load(path);
    if (cfg == NULL)
        return EX_CONFIG;
    for (size_t i = 0; i < components_count(); i++) {
        const component_t *comp = components_get(i);
        const char *listen = config_str(cfg, comp->name, "metrics_listen");
        if (!config_bool(cfg, comp->name, "enable") || listen == NULL || *listen == '\0')
            continue;
        any = 1;
        printf("# %s (%s)\n", comp->binary, listen);
        if (fetch(comp->binary, listen) < 0)
            rc = EX_UNAVAILABLE;
    }
    if (!any)
        fprintf(stderr, "postern: no enabled component has metrics_listen set\n");
    config_unref(cfg);
    return any ? rc : 1;
}
