/*
 * milter_noop.c - milter-noop: a libmilter milter that accepts every
 * message and changes nothing; the floor of the benchmark table, i.e.
 * what libmilter itself costs per message.
 *
 * Default: only an end-of-message callback, and the milter tells the MTA
 * to skip every other stage, so the floor is libmilter's own cost. -q
 * asks for a reply at every stage (what a real filter does) and sets
 * TCP_NODELAY on its inet listener; -H adds one header at end of message.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "log.h"

static int full_protocol;
static int add_header;

static sfsistat noop_continue(SMFICTX *ctx)
{
    (void)ctx;
    return SMFIS_CONTINUE;
}

static sfsistat noop_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
    (void)host;
    (void)sa;
    return noop_continue(ctx);
}

static sfsistat noop_helo(SMFICTX *ctx, char *name)
{
    (void)name;
    return noop_continue(ctx);
}

static sfsistat noop_args(SMFICTX *ctx, char **argv)
{
    (void)argv;
    return noop_continue(ctx);
}

static sfsistat noop_header(SMFICTX *ctx, char *name, char *value)
{
    (void)name;
    (void)value;
    return noop_continue(ctx);
}

static sfsistat noop_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
    (void)chunk;
    (void)len;
    return noop_continue(ctx);
}

static sfsistat noop_eom(SMFICTX *ctx)
{
    if (add_header &&
        smfi_addheader(ctx, "X-Milter-Noop", "seen") != MI_SUCCESS)
        return SMFIS_TEMPFAIL;
    return SMFIS_ACCEPT;
}

/* Without -q: take no stage but end of message, and no replies before
 * it, so the MTA sends the least it can. */
static sfsistat noop_negotiate(SMFICTX *ctx, unsigned long f0,
                               unsigned long f1, unsigned long f2,
                               unsigned long f3, unsigned long *pf0,
                               unsigned long *pf1, unsigned long *pf2,
                               unsigned long *pf3)
{
    (void)ctx;
    (void)f2;
    (void)f3;
    *pf0 = f0 & (add_header ? SMFIF_ADDHDRS : 0);
    *pf2 = 0;
    *pf3 = 0;
    if (full_protocol) {
        *pf1 = 0;
        return SMFIS_CONTINUE;
    }
    unsigned long want = SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL |
        SMFIP_NORCPT | SMFIP_NOBODY | SMFIP_NOHDRS | SMFIP_NOEOH |
        SMFIP_NOUNKNOWN | SMFIP_NODATA;
    *pf1 = f1 & want;
    return SMFIS_CONTINUE;
}

/* libmilter keeps its listening socket private; accepted sockets inherit
 * TCP_NODELAY from the listener on Linux, so set it there. */
static void nodelay_listeners(void)
{
    for (int fd = 3; fd < 1024; fd++) {
        int v = 0;
        socklen_t len = sizeof v;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) < 0 || !v)
            continue;
        len = sizeof v;
        if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &len) < 0 ||
            (v != AF_INET && v != AF_INET6))
            continue;
        int one = 1;
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
            log_warn("TCP_NODELAY on fd %d: %s", fd, strerror(errno));
    }
}

static void usage(void)
{
    fputs("usage: milter-noop -p SOCKETSPEC [-q] [-H]\n"
          "  -p SPEC  unix:/path | inet:PORT@HOST | inet6:PORT@HOST\n"
          "  -q       reply at every stage and set TCP_NODELAY\n"
          "  -H       add the header X-Milter-Noop at end of message\n",
          stderr);
    exit(64);
}

int main(int argc, char **argv)
{
    const char *spec = NULL;
    int ch;
    while ((ch = getopt(argc, argv, "p:qH")) != -1) {
        switch (ch) {
        case 'p': spec = optarg; break;
        case 'q': full_protocol = 1; break;
        case 'H': add_header = 1; break;
        default: usage();
        }
    }
    if (spec == NULL || optind != argc)
        usage();
    log_open("milter-noop", LOG_TO_STDERR, LOG_LVL_INFO);

    struct smfiDesc desc = {
        .xxfi_name = "milter-noop",
        .xxfi_version = SMFI_VERSION,
        .xxfi_flags = add_header ? SMFIF_ADDHDRS : 0,
        .xxfi_eom = noop_eom,
        .xxfi_negotiate = noop_negotiate,
    };
    if (full_protocol) {
        desc.xxfi_connect = noop_connect;
        desc.xxfi_helo = noop_helo;
        desc.xxfi_envfrom = noop_args;
        desc.xxfi_envrcpt = noop_args;
        desc.xxfi_data = noop_continue;
        desc.xxfi_header = noop_header;
        desc.xxfi_eoh = noop_continue;
        desc.xxfi_body = noop_body;
    }
    if (strncmp(spec, "unix:", 5) == 0)
        unlink(spec + 5);       /* a stale socket from a killed run */
    if (smfi_setconn((char *)spec) == MI_FAILURE ||
        smfi_register(desc) == MI_FAILURE ||
        smfi_opensocket(true) == MI_FAILURE) {
        log_err("cannot listen on %s", spec);
        return 69;
    }
    if (full_protocol)
        nodelay_listeners();
    log_info("listening on %s (%s%s)", spec,
             full_protocol ? "every stage, TCP_NODELAY" : "end of message only",
             add_header ? ", adds a header" : "");
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}
