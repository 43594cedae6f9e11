/*
 * milterd.c - main() of a postern milter: options, config, logging,
 * audit log, the state the callbacks share (rebuilt on SIGHUP, freed
 * when the last message using it is done), and the runtime.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "milterd.h"
#include "mmetrics.h"
#include "runtime.h"

#define DEFAULT_CONF "/etc/postern/postern.conf"
#define MAX_SECTIONS 16

/* One built state and the callbacks holding it. */
typedef struct gen {
    void *state;
    unsigned refs;
    bool retired;
    struct gen *next;
} gen_t;

static struct {
    const milterd_spec_t *spec;
    const conf_section_t *sections[MAX_SECTIONS + 2];
    const char *conf_path;
    bool debug;
    audit_t *audit;
    config_t *cfg;              /* the config the current state came from */
    config_t *boot_cfg;         /* the first one: the runtime borrows its
                                   socket and user strings until the end */
    pthread_mutex_t lock;
    gen_t *gens;                /* current first, then retired ones */
} d = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* ---- callbacks, timed for the metrics ---- */

static struct smfiDesc orig, timed;

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

#define TIMED(stage, call) do { \
        double t0_ = now_ms(); \
        sfsistat rc_ = (call); \
        mmetrics_callback(stage, rc_, now_ms() - t0_); \
        return rc_; \
    } while (0)

static sfsistat t_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
    mmetrics_connection();
    if (orig.xxfi_connect == NULL)
        return SMFIS_CONTINUE;
    TIMED(MM_CONNECT, orig.xxfi_connect(ctx, host, sa));
}

static sfsistat t_helo(SMFICTX *ctx, char *helo)
{
    TIMED(MM_HELO, orig.xxfi_helo(ctx, helo));
}

static sfsistat t_envfrom(SMFICTX *ctx, char **argv)
{
    TIMED(MM_ENVFROM, orig.xxfi_envfrom(ctx, argv));
}

static sfsistat t_envrcpt(SMFICTX *ctx, char **argv)
{
    TIMED(MM_ENVRCPT, orig.xxfi_envrcpt(ctx, argv));
}

static sfsistat t_data(SMFICTX *ctx)
{
    TIMED(MM_DATA, orig.xxfi_data(ctx));
}

static sfsistat t_header(SMFICTX *ctx, char *name, char *value)
{
    TIMED(MM_HEADER, orig.xxfi_header(ctx, name, value));
}

static sfsistat t_eoh(SMFICTX *ctx)
{
    TIMED(MM_EOH, orig.xxfi_eoh(ctx));
}

static sfsistat t_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
    TIMED(MM_BODY, orig.xxfi_body(ctx, chunk, len));
}

static sfsistat t_eom(SMFICTX *ctx)
{
    TIMED(MM_EOM, orig.xxfi_eom(ctx));
}

static sfsistat t_abort(SMFICTX *ctx)
{
    TIMED(MM_ABORT, orig.xxfi_abort(ctx));
}

/* The component's callbacks, each wrapped; stages it does not handle stay
 * NULL, so libmilter still tells the MTA to skip them. */
static struct smfiDesc *timed_desc(const struct smfiDesc *desc)
{
    orig = *desc;
    timed = *desc;
    timed.xxfi_connect = t_connect;
#define WRAP(f, w) timed.f = orig.f != NULL ? w : NULL
    WRAP(xxfi_helo, t_helo);
    WRAP(xxfi_envfrom, t_envfrom);
    WRAP(xxfi_envrcpt, t_envrcpt);
    WRAP(xxfi_data, t_data);
    WRAP(xxfi_header, t_header);
    WRAP(xxfi_eoh, t_eoh);
    WRAP(xxfi_body, t_body);
    WRAP(xxfi_eom, t_eom);
    WRAP(xxfi_abort, t_abort);
#undef WRAP
    return &timed;
}

/* ---- config and state ---- */

static void build_sections(const milterd_spec_t *spec)
{
    size_t n = 0;

    d.sections[n++] = &conf_global_section;
    for (size_t i = 0; spec->sections != NULL && spec->sections[i] && n < MAX_SECTIONS; i++)
        d.sections[n++] = spec->sections[i];
    d.sections[n] = NULL;
}

static void apply_log_level(const config_t *cfg)
{
    log_level_t level = LOG_LVL_INFO;

    if (d.debug)
        level = LOG_LVL_DEBUG;
    else
        log_level_parse(config_str(cfg, "global", "log_level"), &level);
    log_set_level(level);
}

/* Frees G's state; called with the lock released. */
static void gen_free(gen_t *g)
{
    d.spec->state_free(g->state);
    free(g);
}

/* Unlinks G when it is retired and idle; returns it for freeing. */
static gen_t *unlink_idle(gen_t *g)
{
    if (!g->retired || g->refs > 0)
        return NULL;
    for (gen_t **p = &d.gens; *p != NULL; p = &(*p)->next)
        if (*p == g) {
            *p = g->next;
            return g;
        }
    return NULL;
}

static int install_state(void *state)
{
    gen_t *g = calloc(1, sizeof(*g)), *old, *idle = NULL;

    if (g == NULL)
        return -1;
    g->state = state;
    pthread_mutex_lock(&d.lock);
    old = d.gens;
    g->next = old;
    d.gens = g;
    if (old != NULL) {
        old->retired = true;
        idle = unlink_idle(old);
    }
    pthread_mutex_unlock(&d.lock);
    if (idle != NULL)
        gen_free(idle);
    return 0;
}

void *milterd_acquire(void)
{
    void *state = NULL;

    pthread_mutex_lock(&d.lock);
    if (d.gens != NULL) {
        d.gens->refs++;
        state = d.gens->state;
    }
    pthread_mutex_unlock(&d.lock);
    return state;
}

void milterd_release(void *state)
{
    gen_t *idle = NULL;

    if (state == NULL)
        return;
    pthread_mutex_lock(&d.lock);
    for (gen_t *g = d.gens; g != NULL; g = g->next)
        if (g->state == state && g->refs > 0) {
            g->refs--;
            idle = unlink_idle(g);
            break;
        }
    pthread_mutex_unlock(&d.lock);
    if (idle != NULL)
        gen_free(idle);
}

const char *milterd_authserv_id(const config_t *cfg, char *buf, size_t buflen)
{
    const char *id = config_str(cfg, "global", "authserv_id");

    if (buflen == 0)
        return buf;
    if (id != NULL && *id != '\0')
        snprintf(buf, buflen, "%s", id);
    else if (gethostname(buf, buflen) < 0 || *buf == '\0')
        snprintf(buf, buflen, "localhost");
    buf[buflen - 1] = '\0';
    return buf;
}

/* SIGHUP: a new config and state, or the old ones and a log line. */
static int reload(void *arg, char *err, size_t errlen)
{
    config_t *cfg = config_load_shared(d.conf_path, d.sections, err, errlen);
    void *state;

    (void) arg;
    if (cfg == NULL)
        return -1;
    if ((state = d.spec->state_new(cfg, d.audit, err, errlen)) == NULL
        || install_state(state) < 0) {
        if (state != NULL)
            d.spec->state_free(state);
        config_unref(cfg);
        return -1;
    }
    apply_log_level(cfg);
    config_unref(d.cfg);
    d.cfg = cfg;
    return 0;
}

static void usage(const char *daemon)
{
    fprintf(stderr, "usage: %s [-c FILE] [-f] [-n] [-d]\n", daemon);
}

/* Config and state; with CHECK_ONLY nothing is opened for writing. */
static int prepare(bool check_only, bool foreground, char *err, size_t errlen)
{
    void *state;

    if ((d.cfg = config_load_shared(d.conf_path, d.sections, err, errlen)) == NULL)
        return EX_CONFIG;
    d.boot_cfg = config_ref(d.cfg);
    if (!check_only)
        log_open(d.spec->daemon, foreground ? LOG_TO_STDERR : LOG_TO_SYSLOG, LOG_LVL_INFO);
    apply_log_level(d.cfg);
    d.audit = audit_open(check_only ? NULL : config_str(d.cfg, "global", "audit_log"),
                         d.spec->component, err, errlen);
    if (d.audit == NULL)
        return EX_CANTCREAT;
    if ((state = d.spec->state_new(d.cfg, d.audit, err, errlen)) == NULL)
        return EX_CONFIG;
    if (install_state(state) < 0) {
        d.spec->state_free(state);
        snprintf(err, errlen, "out of memory");
        return EX_OSERR;
    }
    return 0;
}

static int serve(bool foreground, char *err, size_t errlen)
{
    runtime_opts_t o = { .name = d.spec->daemon };
    const char *metrics = config_str(d.boot_cfg, d.spec->component, "metrics_listen");
    int rc;

    if (runtime_opts_from_config(&o, d.boot_cfg, d.spec->component, err, errlen) < 0)
        return EX_CONFIG;
    o.name = d.spec->daemon;
    o.foreground = foreground;
    o.proto = d.spec->proto;
    o.reload = reload;
    mmetrics_init(d.spec->component);
    if (d.spec->metrics_init != NULL)
        d.spec->metrics_init(d.boot_cfg);
    if (metrics != NULL && *metrics != '\0' && metrics_serve(metrics, err, errlen) < 0)
        return EX_UNAVAILABLE;
    rc = runtime_main(timed_desc(d.spec->desc), &o, err, errlen) < 0 ? EX_UNAVAILABLE : 0;
    metrics_stop();
    return rc;
}

static void shut_down(void)
{
    gen_t *g;

    pthread_mutex_lock(&d.lock);
    g = d.gens;
    d.gens = NULL;
    pthread_mutex_unlock(&d.lock);
    /* runtime_main has drained the callbacks: nothing holds a state. */
    while (g != NULL) {
        gen_t *next = g->next;
        gen_free(g);
        g = next;
    }
    audit_close(d.audit);
    config_unref(d.cfg);
    config_unref(d.boot_cfg);
}

int milterd_main(const milterd_spec_t *spec, int argc, char **argv)
{
    bool foreground = false, check_only = false;
    char err[1024];
    int c, rc;

    d.spec = spec;
    d.conf_path = DEFAULT_CONF;
    build_sections(spec);
    while ((c = getopt(argc, argv, "c:fndh")) != -1) {
        switch (c) {
        case 'c': d.conf_path = optarg; break;
        case 'f': foreground = true; break;
        case 'n': check_only = true; break;
        case 'd': d.debug = true; break;
        default:
            usage(spec->daemon);
            return c == 'h' ? 0 : EX_USAGE;
        }
    }
    if (optind != argc) {
        usage(spec->daemon);
        return EX_USAGE;
    }
    err[0] = '\0';
    rc = prepare(check_only, foreground, err, sizeof(err));
    if (rc == 0 && !check_only)
        rc = serve(foreground, err, sizeof(err));
    /* Start-up errors reach the admin's terminal and, for a daemon, syslog. */
    if (rc != 0 && !foreground && !check_only)
        log_err("%s: %s", spec->daemon, err);
    if (rc != 0)
        fprintf(stderr, "%s: %s\n", spec->daemon, err);
    else if (check_only)
        printf("%s: %s: ok\n", spec->daemon, d.conf_path);
    shut_down();
    return rc;
}
