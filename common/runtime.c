/*
 * runtime.c - run a libmilter filter as a postern daemon. See runtime.h
 * for the why of the negotiation and the signal handling; this file
 * wraps the callbacks (to count the busy ones for the drain), opens the
 * socket, and waits for signals in the main thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "config.h"
#include "log.h"
#include "runtime.h"
#include "sockspec.h"

/* libmilter runs one filter per process, so the runtime is a singleton. */
static struct smfiDesc user_desc;
static const runtime_opts_t *ropts;
static atomic_uint busy;
static atomic_int milter_done;
static int milter_result;

unsigned runtime_busy(void)
{
    return atomic_load(&busy);
}

/* ---- callback wrappers: count what is running ---- */

/* SMFIP_NR_* stages the MTA was told not to wait for (see runtime.h):
 * their callbacks' "continue" becomes libmilter's "no reply". */
static unsigned long quiet_stages;
/* unix: socket: no Nagle, so DATA may be skipped (see negotiate()). */
static bool over_unix;

#define NR_STAGES (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT \
                   | SMFIP_NR_DATA | SMFIP_NR_UNKN | SMFIP_NR_HDR | SMFIP_NR_EOH \
                   | SMFIP_NR_BODY)

static sfsistat answer(unsigned long nr_bit, sfsistat r)
{
    return (quiet_stages & nr_bit) != 0 && r == SMFIS_CONTINUE ? SMFIS_NOREPLY : r;
}

#define WRAP(cb, nr, params, args)                               \
    static sfsistat w_##cb params                                \
    {                                                            \
        atomic_fetch_add(&busy, 1);                              \
        sfsistat r = user_desc.xxfi_##cb args;                   \
        atomic_fetch_sub(&busy, 1);                              \
        return answer(nr, r);                                    \
    }

WRAP(connect, SMFIP_NR_CONN, (SMFICTX *c, char *h, _SOCK_ADDR *a), (c, h, a))
WRAP(helo, SMFIP_NR_HELO, (SMFICTX *c, char *h), (c, h))
WRAP(envfrom, SMFIP_NR_MAIL, (SMFICTX *c, char **v), (c, v))
WRAP(envrcpt, SMFIP_NR_RCPT, (SMFICTX *c, char **v), (c, v))
WRAP(header, SMFIP_NR_HDR, (SMFICTX *c, char *n, char *v), (c, n, v))
WRAP(eoh, SMFIP_NR_EOH, (SMFICTX *c), (c))
WRAP(body, SMFIP_NR_BODY, (SMFICTX *c, unsigned char *b, size_t l), (c, b, l))
WRAP(eom, 0, (SMFICTX *c), (c))
WRAP(abort, 0, (SMFICTX *c), (c))
WRAP(close, 0, (SMFICTX *c), (c))
WRAP(unknown, SMFIP_NR_UNKN, (SMFICTX *c, const char *cmd), (c, cmd))

/* DATA is always taken (see negotiate()); a milter without a data
 * callback still has to stay silent there when DATA is a quiet stage. */
static sfsistat w_data(SMFICTX *c)
{
    sfsistat r = SMFIS_CONTINUE;

    if (user_desc.xxfi_data != NULL) {
        atomic_fetch_add(&busy, 1);
        r = user_desc.xxfi_data(c);
        atomic_fetch_sub(&busy, 1);
    }
    return answer(SMFIP_NR_DATA, r);
}

/* Ask for the milter's actions and stages only, a reply at every stage
 * but the quiet ones, and only the macros it reads. libmilter offers every
 * SMFIP_NR_* flag (it answers "continue" itself to an MTA that lacks
 * one), so the quiet stages are asked for as they are. */
static sfsistat negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
                          unsigned long f2, unsigned long f3, unsigned long *pf0,
                          unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
    const runtime_proto_t *p = ropts->proto;

    (void) f2;
    (void) f3;
    if ((f0 & p->actions) != p->actions)
        log_warn("%s: the MTA does not offer every action we need "
                 "(offered 0x%lx, need 0x%lx)", ropts->name, f0, p->actions);
    *pf0 = f0 & p->actions;
    /* Postfix sends the DATA stage's macros even when DATA is skipped;
     * with nothing to answer, the milter's ACK for them is delayed and
     * the next packet (end of message) waits 40 ms behind Nagle. So DATA
     * is always taken over TCP, and answered there (libmilter answers it
     * by itself when the milter has no data callback). Over unix: there
     * is no Nagle to wait behind, so a milter that skips DATA is spared
     * the command. */
    *pf1 = (f1 & p->skip & ~(over_unix ? 0UL : (unsigned long) SMFIP_NODATA))
           | (f1 & quiet_stages);
    *pf2 = 0;
    *pf3 = 0;
    for (int stage = 0; stage <= SMFIM_LAST; stage++)
        if (p->macros[stage] != NULL
            && smfi_setsymlist(ctx, stage, (char *) p->macros[stage]) != MI_SUCCESS)
            log_warn("%s: cannot request macros for stage %d", ropts->name, stage);
    return SMFIS_CONTINUE;
}

static void wrap_desc(struct smfiDesc *w, const struct smfiDesc *u,
                      const runtime_opts_t *o)
{
    *w = *u;
#define SET(cb) w->xxfi_##cb = u->xxfi_##cb ? w_##cb : NULL
    SET(connect); SET(helo); SET(envfrom); SET(envrcpt); SET(header);
    SET(eoh); SET(body); SET(eom); SET(abort); SET(close); SET(unknown);
    SET(data);
#undef SET
    if (quiet_stages & SMFIP_NR_DATA)
        w->xxfi_data = w_data;
    if (u->xxfi_negotiate == NULL)
        w->xxfi_negotiate = o->reply_every_stage && o->proto ? negotiate : NULL;
}

/* ---- the socket ---- */

static int open_socket(const sockspec_t *ss, const runtime_opts_t *o, char *err,
                       size_t errlen)
{
    if (smfi_opensocket(true) != MI_SUCCESS) {
        snprintf(err, errlen, "cannot listen on %s: %s", o->socket,
                 ss->family == SOCKSPEC_UNIX ? "check that the directory exists"
                 : "address in use or not available");
        return -1;
    }
    if (ss->family == SOCKSPEC_UNIX) {
        struct passwd *pw = o->user && *o->user ? getpwnam(o->user) : NULL;
        if (chmod(ss->path, o->socket_mode ? o->socket_mode : 0660) < 0
            || (pw && geteuid() == 0 && chown(ss->path, pw->pw_uid, pw->pw_gid) < 0)) {
            snprintf(err, errlen, "%s: %s", ss->path, strerror(errno));
            return -1;
        }
    } else if (o->tcp_nodelay && runtime_nodelay_listeners() < 1) {
        log_warn("%s: could not set TCP_NODELAY on %s", o->name, o->socket);
    }
    return 0;
}

static int setup(struct smfiDesc *desc, const runtime_opts_t *o, char *err,
                 size_t errlen)
{
    static struct smfiDesc wrapped;
    sockspec_t ss;

    if (sockspec_parse(o->socket, &ss, err, errlen) < 0)
        return -1;
    user_desc = *desc;
    ropts = o;
    /* Over TCP, DATA must be answered: smtpd flushes what it holds for
     * the milter when it hands over to cleanup, so an unanswered DATA
     * leaves a segment our side ACKs late, and cleanup's first write
     * waits 40 ms behind Nagle for that ACK. The other quiet stages go
     * out with the next command Postfix waits on and cost no stall
     * (tests/integration/test_milter_latency.py measures both). */
    over_unix = ss.family == SOCKSPEC_UNIX;
    quiet_stages = o->reply_every_stage && o->proto
                   ? o->proto->quiet & NR_STAGES
                     & ~(over_unix ? 0UL : (unsigned long) SMFIP_NR_DATA)
                   : 0;
    wrap_desc(&wrapped, desc, o);
    if (smfi_setconn(ss.milter) != MI_SUCCESS
        || (o->backlog > 0 && smfi_setbacklog(o->backlog) != MI_SUCCESS)
        || (o->timeout_s > 0 && smfi_settimeout(o->timeout_s) != MI_SUCCESS)
        || smfi_register(wrapped) != MI_SUCCESS) {
        snprintf(err, errlen, "libmilter refused the filter settings");
        return -1;
    }
    if (open_socket(&ss, o, err, errlen) < 0)
        return -1;
    if (!o->foreground && daemon(0, 0) < 0) {
        snprintf(err, errlen, "cannot detach: %s", strerror(errno));
        return -1;
    }
    if (o->pidfile && *o->pidfile
        && runtime_pidfile_write(o->pidfile, (long) getpid(), err, errlen) < 0)
        return -1;
    return runtime_drop_user(o->user, err, errlen);
}

/* ---- running and stopping ---- */

static void *milter_thread(void *arg)
{
    (void) arg;
    milter_result = smfi_main();
    atomic_store(&milter_done, 1);
    return NULL;
}

static void drain(const runtime_opts_t *o)
{
    unsigned limit = o->drain_ms ? o->drain_ms : 30000;
    struct timespec tick = { 0, 20 * 1000 * 1000 };

    for (unsigned waited = 0; runtime_busy() > 0 && waited < limit; waited += 20)
        nanosleep(&tick, NULL);
    if (runtime_busy() > 0)
        log_warn("%s: stopping with %u callbacks still running after %u ms",
                 o->name, runtime_busy(), limit);
}

static void reload(const runtime_opts_t *o)
{
    char why[512] = "";

    if (o->reload == NULL) {
        log_info("%s: SIGHUP: nothing to reload", o->name);
        return;
    }
    if (o->reload(o->reload_arg, why, sizeof(why)) == 0)
        log_info("%s: configuration reloaded", o->name);
    else
        log_err("%s: reload failed, keeping the old configuration: %s", o->name, why);
}

static void *stop_thread(void *arg)
{
    (void) arg;
    smfi_stop();
    return NULL;
}

/* smfi_stop() sets libmilter's stop flag at once, but then blocks until
 * the listener's poll() times out (up to 5 s, MI_CHK_TIME) to close the
 * socket: let a thread of its own wait for that. */
static void request_stop(void)
{
    pthread_t t;

    if (pthread_create(&t, NULL, stop_thread, NULL) == 0)
        pthread_detach(t);
    else
        smfi_stop();
}

/* Signals arrive through a pipe written by a handler that only the main
 * thread runs (every other thread blocks the signals). */
static int sig_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
    unsigned char b = (unsigned char) sig;
    int saved = errno;

    if (write(sig_pipe[1], &b, 1) < 0) {
        /* the pipe is full of unread signals: this one is one more */
    }
    errno = saved;
}

/* The main thread takes SIGHUP, SIGTERM and SIGINT with a handler and
 * never blocks them, not even while the handler runs (SA_NODEFER): the
 * kernel gives a signal sent to the process to its main thread when
 * that thread does not block it, so libmilter's own signal thread,
 * which would treat SIGHUP as "stop", never gets one. */
static int catch_signals(const sigset_t *set, char *err, size_t errlen)
{
    struct sigaction sa;

    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        return -1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    /* Signals held since start are delivered here, to the handler. */
    pthread_sigmask(SIG_UNBLOCK, set, NULL);
    return 0;
}

/* The milter thread starts with the signals blocked, and so does every
 * thread libmilter creates from it; we keep them unblocked, so the kernel
 * hands a signal to us. libmilter's own signal thread sigwait()s for
 * SIGHUP and takes one as "stop": a signal still pending when that thread
 * first enters sigwait() (in the moment after start, before our handler
 * ran on a loaded machine) can reach it. Nothing outside libmilter closes
 * that window; it is only as wide as the thread's start. */
static int start_milter_thread(pthread_t *tid, const sigset_t *set)
{
    pthread_attr_t attr;
    int rc;

    if ((rc = pthread_attr_init(&attr)) != 0)
        return rc;
    rc = pthread_attr_setsigmask_np(&attr, set);
    if (rc == 0)
        rc = pthread_create(tid, &attr, milter_thread, NULL);
    pthread_attr_destroy(&attr);
    return rc;
}

static int next_signal(int timeout_ms)
{
    struct pollfd p = { .fd = sig_pipe[0], .events = POLLIN };
    unsigned char b;

    if (poll(&p, 1, timeout_ms) <= 0 || read(sig_pipe[0], &b, 1) != 1)
        return 0;
    return b;
}

/* Waits for signals until asked to stop or libmilter gives up. */
static void wait_signals(const runtime_opts_t *o)
{
    while (!atomic_load(&milter_done)) {
        int sig = next_signal(200);
        if (sig == SIGHUP) {
            reload(o);
        } else if (sig == SIGTERM || sig == SIGINT) {
            log_info("%s: %s, finishing messages in progress", o->name,
                     sig == SIGTERM ? "SIGTERM" : "SIGINT");
            request_stop();
            return;
        }
    }
    log_err("%s: the milter listener stopped on its own", o->name);
}

/* libmilter's listener notices a stop only every 5 seconds (MI_CHK_TIME);
 * once no callback runs there is nothing left to wait for, so give it a
 * moment and then clean up its socket ourselves. */
static void finish(pthread_t tid, const runtime_opts_t *o)
{
    struct timespec deadline;
    sockspec_t ss;
    char err[128];

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += 200 * 1000 * 1000;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    if (pthread_timedjoin_np(tid, NULL, &deadline) != 0)
        milter_result = MI_SUCCESS;     /* stopping, as asked */
    if (sockspec_parse(o->socket, &ss, err, sizeof(err)) == 0
        && ss.family == SOCKSPEC_UNIX)
        unlink(ss.path);
    if (o->pidfile && *o->pidfile)
        unlink(o->pidfile);
}

int runtime_main(struct smfiDesc *desc, const runtime_opts_t *o, char *err,
                 size_t errlen)
{
    sigset_t set;
    pthread_t tid;
    int rc;

    /* Blocked before the socket exists (a signal sent as soon as it
     * accepts must wait for our handler, not kill the process); caught
     * in this thread only, before libmilter's threads exist. */
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (setup(desc, o, err, errlen) < 0
        || (o->serving != NULL && o->serving(o->serving_arg, err, errlen) < 0))
        return -1;
    if (catch_signals(&set, err, errlen) < 0)
        return -1;
    if ((rc = start_milter_thread(&tid, &set)) != 0) {
        snprintf(err, errlen, "cannot start the milter thread: %s", strerror(rc));
        return -1;
    }
    log_info("%s: listening on %s", o->name, o->socket);
    wait_signals(o);
    drain(o);
    finish(tid, o);
    log_info("%s: stopped", o->name);
    return milter_result == MI_SUCCESS ? 0 : -1;
}

int runtime_opts_from_config(runtime_opts_t *o, const config_t *cfg,
                             const char *section, char *err, size_t errlen)
{
    const char *user = config_str(cfg, section, "user");
    sockspec_t ss;

    o->socket = config_str(cfg, section, "socket");
    if (o->socket == NULL) {
        snprintf(err, errlen, "%s: [%s] socket: required", config_path(cfg), section);
        return -1;
    }
    if (sockspec_parse(o->socket, &ss, err, errlen) < 0) {
        char why[256];
        snprintf(why, sizeof(why), "%s", err);
        snprintf(err, errlen, "%s:%d: [%s] socket: %s", config_path(cfg),
                 config_line(cfg, section, "socket"), section, why);
        return -1;
    }
    o->user = user && *user ? user : config_str(cfg, "global", "user");
    o->pidfile = config_str(cfg, section, "pidfile");
    o->socket_mode = config_mode(cfg, section, "socket_mode");
    o->backlog = (int) config_int(cfg, section, "backlog");
    o->timeout_s = (int) (config_duration_ms(cfg, section, "timeout") / 1000);
    o->tcp_nodelay = config_bool(cfg, section, "tcp_nodelay");
    o->reply_every_stage = config_bool(cfg, section, "reply_every_stage");
    return 0;
}
