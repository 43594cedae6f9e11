/*
 * testmilter.c - the smallest milter on common/runtime, for tests only.
 *
 *   postern-testmilter -p SOCKET [-f] [-P PIDFILE] [-N] [-d] [-q] [-s MS] [-u USER]
 *
 * RCPT reject@... gets 550 5.7.1, tempfail@... gets 451 4.7.1. At end
 * of message it adds "X-Postern-Test: queue-id=..; client=..; helo=..;
 * from=..; rcpts=N". -N runs naive: no TCP_NODELAY and libmilter's
 * default negotiation, to show the stall the runtime avoids. -s sleeps
 * at end of message, to test the drain on SIGTERM.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "log.h"
#include "runtime.h"

struct conn {
    char client[64];
    char helo[128];
    char from[256];
    int rcpts;
};

static unsigned eom_sleep_ms;

static struct conn *conn_of(SMFICTX *ctx)
{
    return smfi_getpriv(ctx);
}

/* The local part of "<user@domain>", for the reply decision. */
static int local_part_is(const char *addr, const char *want)
{
    size_t n = strlen(want);

    if (*addr == '<')
        addr++;
    return strncasecmp(addr, want, n) == 0 && addr[n] == '@';
}

static sfsistat t_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
    struct conn *c = calloc(1, sizeof(*c));

    (void) host;
    if (c == NULL)
        return SMFIS_TEMPFAIL;
    snprintf(c->client, sizeof(c->client), "unknown");
    if (sa != NULL && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *) sa)->sin_addr, c->client,
                  sizeof(c->client));
    else if (sa != NULL && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *) sa)->sin6_addr, c->client,
                  sizeof(c->client));
    smfi_setpriv(ctx, c);
    return SMFIS_CONTINUE;
}

static sfsistat t_helo(SMFICTX *ctx, char *helo)
{
    snprintf(conn_of(ctx)->helo, sizeof(conn_of(ctx)->helo), "%s", helo);
    return SMFIS_CONTINUE;
}

static sfsistat t_envfrom(SMFICTX *ctx, char **argv)
{
    struct conn *c = conn_of(ctx);
    const char *f = argv[0];
    size_t n;

    if (*f == '<')
        f++;
    snprintf(c->from, sizeof(c->from), "%s", f);
    n = strlen(c->from);
    if (n > 0 && c->from[n - 1] == '>')
        c->from[n - 1] = '\0';
    c->rcpts = 0;
    return SMFIS_CONTINUE;
}

static sfsistat t_envrcpt(SMFICTX *ctx, char **argv)
{
    if (local_part_is(argv[0], "reject")) {
        smfi_setreply(ctx, "550", "5.7.1", "rejected by test milter");
        return SMFIS_REJECT;
    }
    if (local_part_is(argv[0], "tempfail")) {
        smfi_setreply(ctx, "451", "4.7.1", "temporary failure from test milter");
        return SMFIS_TEMPFAIL;
    }
    conn_of(ctx)->rcpts++;
    return SMFIS_CONTINUE;
}

static sfsistat t_eom(SMFICTX *ctx)
{
    struct conn *c = conn_of(ctx);
    const char *qid = smfi_getsymval(ctx, "i");
    char value[768];

    if (eom_sleep_ms > 0) {
        struct timespec ts = { eom_sleep_ms / 1000, (eom_sleep_ms % 1000) * 1000000L };

        /* Tests wait for this line to know the callback is under way. */
        log_info("testmilter: end of message, pausing %u ms", eom_sleep_ms);
        nanosleep(&ts, NULL);
    }
    snprintf(value, sizeof(value), "queue-id=%s; client=%s; helo=%s; from=%s; rcpts=%d",
             qid ? qid : "unknown", c->client, c->helo, c->from, c->rcpts);
    smfi_addheader(ctx, "X-Postern-Test", value);
    log_info("%s: testmilter: from=<%s> rcpts=%d action=accept", qid ? qid : "NOQUEUE",
             c->from, c->rcpts);
    return SMFIS_CONTINUE;
}

static sfsistat t_close(SMFICTX *ctx)
{
    free(conn_of(ctx));
    smfi_setpriv(ctx, NULL);
    return SMFIS_CONTINUE;
}

static int t_reload(void *arg, char *err, size_t errlen)
{
    (void) arg;
    (void) err;
    (void) errlen;
    log_info("testmilter: reload");
    return 0;
}

static struct smfiDesc desc = {
    .xxfi_name = "postern-testmilter",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_ADDHDRS,
    .xxfi_connect = t_connect,
    .xxfi_helo = t_helo,
    .xxfi_envfrom = t_envfrom,
    .xxfi_envrcpt = t_envrcpt,
    .xxfi_eom = t_eom,
    .xxfi_close = t_close,
};

/* -q: take the header fields and the body too, and leave every stage
 * before the end of the message but RCPT TO (which may refuse)
 * unanswered, as the collecting milters do. */
static const runtime_proto_t quiet_proto = {
    .actions = SMFIF_ADDHDRS,
    .skip = SMFIP_NOUNKNOWN | SMFIP_NODATA,
    .quiet = SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_DATA | SMFIP_NR_HDR | SMFIP_NR_EOH
             | SMFIP_NR_BODY,
    .macros = {
        [SMFIM_CONNECT] = "j",
        [SMFIM_ENVFROM] = "i",
        [SMFIM_ENVRCPT] = "i",
        [SMFIM_EOM] = "i",
    },
};

static const runtime_proto_t proto = {
    .actions = SMFIF_ADDHDRS,
    .skip = SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOBODY | SMFIP_NOUNKNOWN | SMFIP_NODATA,
    .macros = {
        [SMFIM_CONNECT] = "j",
        [SMFIM_ENVFROM] = "i",
        [SMFIM_ENVRCPT] = "i",
        [SMFIM_EOM] = "i",
    },
};

int main(int argc, char **argv)
{
    runtime_opts_t o = { .name = "postern-testmilter", .tcp_nodelay = true,
                         .reply_every_stage = true, .proto = &proto,
                         .reload = t_reload, .drain_ms = 10000 };
    log_level_t level = LOG_LVL_INFO;
    char err[512];
    int c;

    while ((c = getopt(argc, argv, "p:fP:Ndqs:u:")) != -1) {
        switch (c) {
        case 'p': o.socket = optarg; break;
        case 'f': o.foreground = true; break;
        case 'P': o.pidfile = optarg; break;
        case 'N': o.tcp_nodelay = false; o.reply_every_stage = false; break;
        case 'd': level = LOG_LVL_DEBUG; break;
        case 'q': o.proto = &quiet_proto; break;
        case 's': eom_sleep_ms = (unsigned) atoi(optarg); break;
        case 'u': o.user = optarg; break;
        default:
            fprintf(stderr, "usage: postern-testmilter -p SOCKET [-f] [-P PIDFILE] "
                            "[-N] [-d] [-q] [-s MS] [-u USER]\n");
            return 64;
        }
    }
    if (o.socket == NULL) {
        fprintf(stderr, "postern-testmilter: -p SOCKET is required\n");
        return 64;
    }
    log_open("postern-testmilter", o.foreground ? LOG_TO_STDERR : LOG_TO_SYSLOG, level);
    if (runtime_main(&desc, &o, err, sizeof(err)) < 0) {
        log_err("%s", err);
        return 1;
    }
    return 0;
}
