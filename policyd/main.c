/*
 * main.c - postern-policyd: read the config, bind the socket, drop
 * privileges, and run the event loop until SIGTERM. SIGHUP rereads the
 * limits (the listening socket and the back end stay as they are).
 *
 *   postern-policyd [-c FILE] [-f] [-n]
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "audit.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "runtime.h"

#include "backend.h"
#include "backend_redis.h"
#include "limit.h"
#include "policy.h"
#include "pmetrics.h"
#include "policyd_conf.h"
#include "server.h"
#include "status.h"

#define DEFAULT_CONF "/etc/postern/postern.conf"

typedef struct daemon {
    const char *conf_path;
    struct event_base *base;
    config_t *cfg;
    limits_t *limits;
    policy_t *policy;
    backend_t *backend;
    audit_t *audit;
    server_t *server;
    status_t *status;
} daemon_t;

static int64_t wall_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static policy_t *make_policy(daemon_t *d, const config_t *cfg, const limits_t *ls)
{
    policy_opts_t o = {
        .monitor = strcmp(config_str(cfg, "policyd", "mode"), "monitor") == 0,
        .fail_closed = strcmp(config_str(cfg, "policyd", "on_backend_error"), "defer") == 0,
    };

    return policy_new(ls, d->backend, d->audit, &o);
}

static int open_backend(daemon_t *d, char *err, size_t errlen)
{
    if (strcmp(config_str(d->cfg, "policyd", "backend"), "redis") == 0) {
        d->backend = backend_redis_new(d->base, config_str(d->cfg, "policyd", "redis"),
                                       (int) config_duration_ms(d->cfg, "policyd",
                                                                "redis_timeout"),
                                       err, errlen);
        return d->backend ? 0 : -1;
    }
    d->backend = backend_memory_new((size_t) config_int(d->cfg, "policyd", "max_keys"),
                                    config_str(d->cfg, "policyd", "state_file"), wall_us(),
                                    err, errlen);
    return d->backend ? 0 : -1;
}

/* Every smtpd process keeps a connection open: allow many. */
static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max > 65536 ? 65536 : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void show_status(daemon_t *d)
{
    status_view_t v = { d->limits, d->backend, d->policy, d->server };

    if (d->status != NULL)
        status_set_view(d->status, &v);
}

static int start(daemon_t *d, bool foreground, char *err, size_t errlen)
{
    server_opts_t so = {
        .listen = config_str(d->cfg, "policyd", "listen"),
        .socket_mode = 0666,
        .idle_timeout_ms = (int) config_duration_ms(d->cfg, "policyd", "idle_timeout"),
        .max_connections = (unsigned) config_int(d->cfg, "policyd", "max_connections"),
    };
    const char *user = config_str(d->cfg, "policyd", "user");
    const char *pidfile = config_str(d->cfg, "policyd", "pidfile");

    if (*user == '\0')
        user = config_str(d->cfg, "global", "user");
    if ((d->audit = audit_open(config_str(d->cfg, "global", "audit_log"), "policyd", err,
                               errlen)) == NULL)
        return EX_CANTCREAT;
    if (!foreground && daemon(0, 0) < 0) {
        snprintf(err, errlen, "cannot detach: %s", strerror(errno));
        return EX_OSERR;
    }
    raise_fd_limit();
    if ((d->base = event_base_new()) == NULL
        || (d->server = server_new(d->base, &so, err, errlen)) == NULL)
        return EX_UNAVAILABLE;
    const char *metrics = config_str(d->cfg, "policyd", "metrics_listen");
    if (*metrics != '\0') {
        pmetrics_init(d->limits);
        if (metrics_serve(metrics, err, errlen) < 0)
            return EX_UNAVAILABLE;
    }
    /* Status is for the admin: without it the daemon still does its job. */
    const char *status = config_str(d->cfg, "policyd", "status_socket");
    if (*status != '\0' && (d->status = status_new(d->base, status, err, errlen)) == NULL)
        log_warn("postern-policyd: no status socket: %s", err);
    if (pidfile && *pidfile && runtime_pidfile_write(pidfile, (long) getpid(), err, errlen) < 0)
        return EX_CANTCREAT;
    if (runtime_drop_user(user, err, errlen) < 0)
        return EX_NOPERM;
    /* The state file is read and written as the run user. */
    if (open_backend(d, err, errlen) < 0)
        return EX_CONFIG;
    if ((d->policy = make_policy(d, d->cfg, d->limits)) == NULL)
        return EX_OSERR;
    server_set_policy(d->server, d->policy);
    show_status(d);
    log_info("postern-policyd: listening on %s, %zu limit%s, %s back end", so.listen,
             limits_count(d->limits), limits_count(d->limits) == 1 ? "" : "s",
             d->backend->ops->name);
    return 0;
}

typedef struct retired {
    policy_t *policy;
    limits_t *limits;
    config_t *cfg;
} retired_t;

static void free_retired(evutil_socket_t fd, short what, void *arg)
{
    retired_t *r = arg;

    (void) fd;
    (void) what;
    policy_free(r->policy);
    limits_free(r->limits);
    config_unref(r->cfg);
    free(r);
}

/* Reload: new config and limits, same socket and back end. Decisions
 * waiting for Redis still use the old limits, so those are freed only
 * after every such wait has timed out. */
static void reload(daemon_t *d)
{
    char err[512];
    config_t *cfg = config_load_shared(d->conf_path, policyd_sections, err, sizeof(err));
    limits_t *ls = cfg ? limits_from_config(cfg, err, sizeof(err)) : NULL;
    policy_t *p = ls ? make_policy(d, cfg, ls) : NULL;

    if (p == NULL) {
        log_err("postern-policyd: reload failed, keeping the old configuration: %s", err);
        limits_free(ls);
        config_unref(cfg);
        return;
    }
    retired_t *old = malloc(sizeof(*old));
    struct timeval later = { 15, 0 };

    server_set_policy(d->server, p);
    if (old != NULL) {
        *old = (retired_t) { d->policy, d->limits, d->cfg };
        event_base_once(d->base, -1, EV_TIMEOUT, free_retired, old, &later);
    }
    d->policy = p;
    d->limits = ls;
    d->cfg = cfg;
    show_status(d);
    log_info("postern-policyd: configuration reloaded, %zu limits", limits_count(ls));
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    daemon_t *d = arg;

    (void) what;
    if (sig == SIGHUP) {
        reload(d);
        return;
    }
    log_info("postern-policyd: %s, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    event_base_loopexit(d->base, NULL);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    daemon_t *d = arg;

    (void) fd;
    (void) what;
    d->backend->ops->tick(d->backend, wall_us());
    metric_set(pmetrics.connections, (int64_t) server_connections(d->server));
}

static sigset_t held_signals;

static void run(daemon_t *d)
{
    struct event *sigs[3], *tick;
    const int signals[3] = { SIGTERM, SIGINT, SIGHUP };
    struct timeval second = { 1, 0 };

    for (int i = 0; i < 3; i++) {
        sigs[i] = evsignal_new(d->base, signals[i], on_signal, d);
        event_add(sigs[i], NULL);
    }
    tick = event_new(d->base, -1, EV_PERSIST, on_tick, d);
    event_add(tick, &second);
    /* Signals that came while starting were held (see main); libevent
     * handles them from here. */
    sigprocmask(SIG_UNBLOCK, &held_signals, NULL);
    event_base_dispatch(d->base);
    for (int i = 0; i < 3; i++)
        event_free(sigs[i]);
    event_free(tick);
}

/* Order matters: clients stop being read, then the back end answers
 * what is pending (Redis: with failures), then connections and the
 * policy go. */
static void cleanup(daemon_t *d)
{
    const char *pidfile = d->cfg ? config_str(d->cfg, "policyd", "pidfile") : NULL;

    metrics_stop();
    status_free(d->status);
    if (d->server != NULL)
        server_shutdown(d->server);
    if (d->backend != NULL)
        d->backend->ops->free(d->backend);      /* saves the state file */
    server_free(d->server);
    policy_free(d->policy);
    limits_free(d->limits);
    audit_close(d->audit);
    if (pidfile && *pidfile)
        unlink(pidfile);
    config_unref(d->cfg);
    if (d->base != NULL)
        event_base_free(d->base);
}

static int usage(void)
{
    fprintf(stderr, "usage: postern-policyd [-c FILE] [-f] [-n]\n");
    return EX_USAGE;
}

int main(int argc, char **argv)
{
    daemon_t d = { .conf_path = getenv("POSTERN_CONF") ? getenv("POSTERN_CONF") : DEFAULT_CONF };
    bool foreground = false, check = false;
    log_level_t level = LOG_LVL_INFO;
    char err[512];
    int c, rc;

    while ((c = getopt(argc, argv, "c:fn")) != -1) {
        switch (c) {
        case 'c': d.conf_path = optarg; break;
        case 'f': foreground = true; break;
        case 'n': check = true; break;
        default: return usage();
        }
    }
    if (optind != argc)
        return usage();
    if ((d.cfg = config_load_shared(d.conf_path, policyd_sections, err, sizeof(err))) == NULL
        || (d.limits = limits_from_config(d.cfg, err, sizeof(err))) == NULL) {
        fprintf(stderr, "postern-policyd: %s\n", err);
        config_unref(d.cfg);
        return EX_CONFIG;
    }
    if (check) {
        printf("%s: configuration OK, %zu limits\n", d.conf_path, limits_count(d.limits));
        limits_free(d.limits);
        config_unref(d.cfg);
        return 0;
    }
    log_level_parse(config_str(d.cfg, "global", "log_level"), &level);
    log_open("postern-policyd", foreground ? LOG_TO_STDERR : LOG_TO_SYSLOG, level);
    signal(SIGPIPE, SIG_IGN);
    /* The port accepts before the signal events exist: hold SIGHUP and
     * SIGTERM until then instead of dying of them. */
    sigemptyset(&held_signals);
    sigaddset(&held_signals, SIGHUP);
    sigaddset(&held_signals, SIGTERM);
    sigaddset(&held_signals, SIGINT);
    sigprocmask(SIG_BLOCK, &held_signals, NULL);
    if ((rc = start(&d, foreground, err, sizeof(err))) != 0)
        log_err("postern-policyd: %s", err);
    else
        run(&d);
    cleanup(&d);
    return rc;
}
