/*
 * av_milter.c - libmilter callbacks of postern-av: collect the message
 * (header lines, blank line, body) into a spool, scan it at end of
 * message with the configured back end, and carry out the verdict of
 * avpolicy. No decisions here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <libmilter/mfapi.h>

#include "audit.h"
#include "config.h"
#include "log.h"
#include "mact.h"
#include "menv.h"
#include "mglue.h"
#include "milterd.h"

#include "av_conf.h"
#include "av_metrics.h"
#include "av_milter.h"
#include "avpolicy.h"
#include "avscan.h"
#include "avspool.h"

#define MAX_HEADER_NAME 128
/* Incoming fields named like ours that are removed; past this the rest
 * stay (a message with thousands of them is not worth the round trips). */
#define MAX_OWN_FIELDS 64

typedef struct state {
    avscan_t *scan;
    avpolicy_t policy;
    bool monitor;
    size_t spool_mem, spool_max;
    char spool_dir[1024];
    char header[MAX_HEADER_NAME];
    audit_t *audit;
} state_t;

typedef struct conn {
    menv_t *env;                /* first: see mglue.h */
    avspool_t *spool;
    unsigned own_fields;        /* incoming fields with our header's name */
    char spool_err[128];
} conn_t;

static void note_to_log(void *arg, int level, const char *msg)
{
    (void) arg;
    log_msg((log_level_t) level, "av: %s", msg);
}

static avscan_t *scanner_new(const config_t *cfg, char *err, size_t errlen)
{
    const char *backend = config_str(cfg, "av", "backend");

    if (strcmp(backend, "clamd") == 0)
        return avscan_clamd_new(config_str(cfg, "av", "clamd_socket"),
                                config_duration_ms(cfg, "av", "clamd_timeout"), 64 * 1024,
                                err, errlen);
    avscan_clamav_opts_t o = {
        .dbdir = config_str(cfg, "av", "database_dir"),
        .tmpdir = config_str(cfg, "av", "spool_dir"),
        .allow_no_db = strcmp(config_str(cfg, "av", "on_no_database"), "pass") == 0,
        .check_ms = config_duration_ms(cfg, "av", "database_check"),
        .max_scansize = config_size(cfg, "av", "max_scan_size"),
        .max_filesize = config_size(cfg, "av", "max_file_size"),
        .max_recursion = (unsigned) config_int(cfg, "av", "max_recursion"),
        .max_files = (unsigned) config_int(cfg, "av", "max_files"),
        .no_cache = !config_bool(cfg, "av", "scan_cache"),
        .max_scans = (unsigned) config_int(cfg, "av", "max_scans"),
        .note = note_to_log,
        .reloaded = av_metrics_reload,
    };
    if (o.dbdir == NULL || o.dbdir[0] == '\0') {
        snprintf(err, errlen, "[av] database_dir: required by the clamav back end");
        return NULL;
    }
    return avscan_clamav_new(&o, err, errlen);
}

/* A field name as RFC 5322 section 3.6.8 allows: printable, no colon. */
static bool field_name_ok(const char *name)
{
    if (name == NULL || strlen(name) >= MAX_HEADER_NAME)
        return false;
    for (const char *p = name; *p; p++)
        if (*p < 33 || *p > 126 || *p == ':')
            return false;
    return true;
}

/* What the key table cannot say: values that must not be empty. */
static int check_values(const config_t *cfg, char *err, size_t errlen)
{
    const char *dir = config_str(cfg, "av", "spool_dir");

    if (dir == NULL || dir[0] == '\0') {
        snprintf(err, errlen, "[av] spool_dir: required");
        return -1;
    }
    if (!field_name_ok(config_str(cfg, "av", "header"))) {
        snprintf(err, errlen, "[av] header: \"%s\" is not a header field name",
                 config_str(cfg, "av", "header"));
        return -1;
    }
    return 0;
}

static void *state_new(config_t *cfg, audit_t *audit, char *err, size_t errlen)
{
    state_t *st = calloc(1, sizeof(*st));
    char desc[512];

    if (st == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (check_values(cfg, err, errlen) < 0
        || avpolicy_init(&st->policy, config_str(cfg, "av", "on_infected"),
                      config_str(cfg, "av", "on_error"), config_str(cfg, "av", "on_limit"),
                      config_bool(cfg, "av", "add_header"), err, errlen) < 0
        || (st->scan = scanner_new(cfg, err, errlen)) == NULL) {
        free(st);
        return NULL;
    }
    st->monitor = strcmp(config_str(cfg, "av", "mode"), "monitor") == 0;
    st->spool_mem = (size_t) config_size(cfg, "av", "spool_memory");
    st->spool_max = (size_t) config_size(cfg, "av", "max_message_size");
    snprintf(st->spool_dir, sizeof(st->spool_dir), "%s", config_str(cfg, "av", "spool_dir"));
    snprintf(st->header, sizeof(st->header), "%s", config_str(cfg, "av", "header"));
    st->audit = audit;
    st->scan->ops->describe(st->scan, desc, sizeof(desc));
    log_info("av: scanning with %s", desc);
    return st;
}

static void state_free(void *p)
{
    state_t *st = p;

    if (st != NULL)
        st->scan->ops->free(st->scan);
    free(st);
}

static conn_t *conn_of(SMFICTX *ctx)
{
    return smfi_getpriv(ctx);
}

static const char *qid_of(const menv_t *e)
{
    return menv_qid(e) != NULL ? menv_qid(e) : "NOQUEUE";
}

static void spool_add(conn_t *c, const void *data, size_t len)
{
    if (c->spool != NULL && avspool_append(c->spool, data, len, c->spool_err,
                                           sizeof(c->spool_err)) < 0
        && avspool_failed(c->spool) && c->spool_err[0] != '\0')
        log_warn("%s: av: spool: %s", qid_of(c->env), c->spool_err);
}

static sfsistat a_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
    if (mglue_conn_new(ctx, host, sa, sizeof(conn_t)) == NULL)
        return SMFIS_TEMPFAIL;
    return SMFIS_CONTINUE;
}

/* A new spool per message, sized by the config of the moment. */
static sfsistat a_envfrom(SMFICTX *ctx, char **argv)
{
    conn_t *c = conn_of(ctx);
    state_t *st = milterd_acquire();
    char err[256];

    mglue_mail(ctx, c->env, argv);
    avspool_free(c->spool);
    c->own_fields = 0;
    c->spool_err[0] = '\0';
    c->spool = avspool_new(st->spool_mem, st->spool_max, st->spool_dir, err, sizeof(err));
    if (c->spool == NULL)
        log_warn("%s: av: %s", qid_of(c->env), err);
    milterd_release(st);
    return SMFIS_CONTINUE;
}

/* Rebuilds "Name: value\r\n" as the message carried it. */
static sfsistat a_header(SMFICTX *ctx, char *name, char *value)
{
    conn_t *c = conn_of(ctx);
    state_t *st = milterd_acquire();

    if (st->header[0] != '\0' && strcasecmp(name, st->header) == 0)
        c->own_fields++;
    milterd_release(st);
    spool_add(c, name, strlen(name));
    spool_add(c, ": ", 2);
    spool_add(c, value, strlen(value));
    spool_add(c, "\r\n", 2);
    return SMFIS_CONTINUE;
}

static sfsistat a_eoh(SMFICTX *ctx)
{
    spool_add(conn_of(ctx), "\r\n", 2);
    return SMFIS_CONTINUE;
}

static sfsistat a_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
    spool_add(conn_of(ctx), chunk, len);
    return SMFIS_CONTINUE;
}

static double ms_since(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double) (t1.tv_sec - t0->tv_sec) * 1e3 + (double) (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* The spool's own failures come first: nothing to scan, or too much. */
static void scan_message(const state_t *st, conn_t *c, avscan_result_t *r)
{
    if (c->spool == NULL || avspool_failed(c->spool))
        avscan_fail(r, AVSCAN_ERROR, "message could not be spooled");
    else if (avspool_over(c->spool))
        avscan_fail(r, AVSCAN_LIMIT, "message larger than max_message_size");
    else
        st->scan->ops->scan(st->scan, c->spool, r);
}

/* Our field replaces any incoming one of that name, highest index first. */
static void put_header(SMFICTX *ctx, const state_t *st, const conn_t *c,
                       const avpolicy_verdict_t *v)
{
    unsigned n = c->own_fields < MAX_OWN_FIELDS ? c->own_fields : MAX_OWN_FIELDS;

    for (unsigned i = n; i >= 1; i--)
        smfi_chgheader(ctx, (char *) st->header, (int) i, NULL);
    if (smfi_addheader(ctx, (char *) st->header, (char *) v->value) != MI_SUCCESS)
        log_warn("%s: av: cannot add the %s field", qid_of(c->env), st->header);
}

static void record(const state_t *st, const conn_t *c, const avscan_result_t *r,
                   const avpolicy_verdict_t *v, double scan_ms)
{
    json_t *extra = json_pack("{s:s, s:s?, s:I, s:f}", "backend", st->scan->ops->name,
                              "signature", r->name[0] ? r->name : NULL, "size",
                              (json_int_t) (c->spool ? avspool_total(c->spool) : 0),
                              "scan_ms", scan_ms);
    audit_record_t a = {
        .step = "scan", .result = avscan_status_name(r->status),
        .reason = r->status == AVSCAN_INFECTED ? r->name : r->reason,
        .action = mact_name(v->reply.action), .ms = menv_elapsed_ms(c->env), .extra = extra,
    };
    char err[256];

    menv_audit_fill(c->env, &a);
    if (audit_write(st->audit, &a, err, sizeof(err)) < 0)
        log_warn("audit: %s", err);
    json_decref(extra);
}

static void log_verdict(const state_t *st, const conn_t *c, const avscan_result_t *r,
                        const avpolicy_verdict_t *v, double scan_ms)
{
    /* A failed scan or mail let through unscanned needs the admin's eye. */
    log_msg(v->unscanned || r->status == AVSCAN_ERROR ? LOG_LVL_WARN : LOG_LVL_INFO,
            "%s: av: %s%s%s%s%s size=%llu scan=%.1fms action=%s%s%s",
            qid_of(c->env), avscan_status_name(r->status), r->name[0] ? " " : "", r->name,
            r->reason[0] ? " " : "", r->reason,
            c->spool ? avspool_total(c->spool) : 0ULL, scan_ms, mact_name(v->reply.action),
            v->unscanned ? " (passed unscanned)" : "", st->monitor ? " (monitor)" : "");
}

/* The message is done with: its spool goes (a file is closed). */
static sfsistat a_abort(SMFICTX *ctx)
{
    conn_t *c = conn_of(ctx);

    if (c != NULL) {
        avspool_free(c->spool);
        c->spool = NULL;
    }
    return SMFIS_CONTINUE;
}

static sfsistat a_eom(SMFICTX *ctx)
{
    conn_t *c = conn_of(ctx);
    state_t *st = milterd_acquire();
    avscan_result_t r;
    avpolicy_verdict_t v;
    struct timespec t0;
    double scan_ms;
    sfsistat rc;

    mglue_qid(ctx, c->env);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    scan_message(st, c, &r);
    scan_ms = ms_since(&t0);
    av_metrics_scan(r.status, scan_ms);
    avpolicy_decide(&st->policy, &r, &v);
    if (!st->monitor && v.header && !mact_stops(v.reply.action))
        put_header(ctx, st, c, &v);
    record(st, c, &r, &v, scan_ms);
    log_verdict(st, c, &r, &v, scan_ms);
    rc = mglue_apply(ctx, &v.reply, st->monitor);
    milterd_release(st);
    a_abort(ctx);
    return rc;
}

static sfsistat a_close(SMFICTX *ctx)
{
    conn_t *c = conn_of(ctx);

    a_abort(ctx);
    if (c != NULL) {
        mglue_conn_free(ctx, c);
    }
    return SMFIS_CONTINUE;
}

static struct smfiDesc av_desc = {
    .xxfi_name = "postern-av",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
    .xxfi_connect = a_connect,
    .xxfi_helo = mglue_helo,
    .xxfi_envfrom = a_envfrom,
    .xxfi_envrcpt = mglue_envrcpt,
    .xxfi_header = a_header,
    .xxfi_eoh = a_eoh,
    .xxfi_body = a_body,
    .xxfi_eom = a_eom,
    .xxfi_abort = a_abort,
    .xxfi_close = a_close,
};

static const runtime_proto_t av_proto = {
    .actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
    .skip = SMFIP_NOUNKNOWN | SMFIP_NODATA,
    .macros = {
        [SMFIM_CONNECT] = MGLUE_CONNECT_MACROS,
        [SMFIM_ENVFROM] = MGLUE_MAIL_MACROS,
        [SMFIM_ENVRCPT] = MGLUE_QID_MACROS,
        [SMFIM_EOM] = MGLUE_QID_MACROS,
    },
};

static const conf_section_t *const own[] = { &av_conf_section, NULL };

const milterd_spec_t av_milter_spec = {
    .component = "av", .daemon = "postern-av", .sections = own, .desc = &av_desc,
    .proto = &av_proto, .state_new = state_new, .state_free = state_free,
    .metrics_init = av_metrics_init,
};
