/*
 * cmd_policyd.c - "postern policyd status": ask the running policy daemon
 * over its status socket for its counters, one key's state, or the most
 * used keys of a limit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "sockspec.h"

#include "cmdconf.h"
#include "commands.h"

static int policyd_usage(void)
{
    fprintf(stderr, "usage: postern policyd status [-c FILE] [-l LIMIT -k KEY | -l LIMIT -t N]\n"
                    "  (no -l)      counters of the daemon\n"
                    "  -l L -k KEY  state of KEY under limit L (KEY as the limit builds it,\n"
                    "               e.g. alice@example.net or example.net|192.0.2.0/24)\n"
                    "  -l L -t N    the N most used keys of limit L\n");
    return EX_USAGE;
}

static int ask(const char *spec, const char *command)
{
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    sockspec_t ss;
    char err[256], buf[65536];
    size_t got = 0;
    ssize_t n;
    int fd, rc = 0;

    if (sockspec_parse(spec, &ss, err, sizeof(err)) < 0 || ss.family != SOCKSPEC_UNIX) {
        fprintf(stderr, "postern: [policyd] status_socket: %s\n",
                ss.family != SOCKSPEC_UNIX ? "must be unix:PATH" : err);
        return EX_CONFIG;
    }
    snprintf(un.sun_path, sizeof(un.sun_path), "%s", ss.path);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0
        || connect(fd, (struct sockaddr *) &un, sizeof(un)) < 0) {
        fprintf(stderr, "postern: cannot reach postern-policyd at %s: %s (is it running?)\n",
                ss.path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return EX_UNAVAILABLE;
    }
    if (write(fd, command, strlen(command)) != (ssize_t) strlen(command))
        rc = EX_IOERR;
    while (rc == 0 && got < sizeof(buf) - 1 && (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
        got += (size_t) n;
    close(fd);
    buf[got] = '\0';
    if (got >= 2 && buf[got - 1] == '\n' && buf[got - 2] == '\n')
        buf[got - 1] = '\0';
    fputs(buf, stdout);
    return rc ? rc : strncmp(buf, "error=", 6) == 0 ? 1 : 0;
}

int cmd_policyd(int argc, char **argv)
{
    const char *path = cmdconf_default_path(), *limit = NULL, *key = NULL, *top = NULL;
    char command[1024];
    int c, rc;

    if (argc < 2 || strcmp(argv[1], "status") != 0)
        return policyd_usage();
    optind = 2;
    while ((c = getopt(argc, argv, "c:l:k:t:")) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'l': limit = optarg; break;
        case 'k': key = optarg; break;
        case 't': top = optarg; break;
        default: return policyd_usage();
        }
    }
    if (optind != argc || (limit == NULL) != (key == NULL && top == NULL) || (key && top)
        || strchr(limit ? limit : "", '\n') || strchr(key ? key : "", '\n'))
        return policyd_usage();
    config_t *cfg = cmdconf_load(path);
    if (cfg == NULL)
        return EX_CONFIG;
    if (limit == NULL)
        snprintf(command, sizeof(command), "command=stats\n\n");
    else if (key != NULL)
        snprintf(command, sizeof(command), "command=key\nlimit=%s\nkey=%s\n\n", limit, key);
    else
        snprintf(command, sizeof(command), "command=top\nlimit=%s\ncount=%s\n\n", limit, top);
    rc = ask(config_str(cfg, "policyd", "status_socket"), command);
    config_unref(cfg);
    return rc;
}
