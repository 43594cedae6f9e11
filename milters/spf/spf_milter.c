/*
 * spf_milter.c - the libmilter callbacks of postern-spf: collect the
 * envelope, call the SPF core at MAIL FROM, carry out its verdict, and
 * write the log line, the audit record and the header fields.
 *
 * Stages: both identities are checked at MAIL FROM (HELO is known by
 * then, and checking once per message rather than per recipient saves
 * lookups). A reject or tempfail is answered at RCPT TO, so Postfix
 * logs it with the recipient and queue-less "NOQUEUE: milter-reject"
 * line admins search for; everything else is carried out at the end of
 * the message, where the queue id is known and header fields may be
 * added. So the HELO, MAIL FROM and header callbacks only ever continue,
 * and over unix: the MTA does not wait for their answers (spf_proto.quiet);
 * one that could refuse would have to leave that list.
 *
 * The header fields are read only to remove forged Authentication-Results
 * (RFC 8601 section 5), which is the duty of a milter that adds them: with
 * headers = received-spf or none the MTA is asked not to send them at all
 * (about half the milter commands of a message). See take_headers().
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <libmilter/mfapi.h>

#include "audit.h"
#include "authres.h"
#include "config.h"
#include "dns.h"
#include "log.h"
#include "mact.h"
#include "menv.h"
#include "mglue.h"
#include "milterd.h"

#include "spf_conf.h"
#include "spf_dnsr.h"
#include "spf_eval.h"
#include "spf_header.h"
#include "spf_metrics.h"
#include "spf_milter.h"
#include "spf_policy.h"

#define FIELD_MAX 2048

typedef struct state {
    dnsr_t *dns;
    spf_eval_t *ev;
    spf_policy_t *policy;
    bool check_helo, monitor, received_spf, authres;
    char authserv_id[256];
    audit_t *audit;
} state_t;

/* One SMTP session; the message part is reset at each MAIL FROM. */
typedef struct conn {
    menv_t *env;                /* first: see mglue.h */
    mact_authres_t ar;
    bool helo_done;             /* helo verdict is for the current HELO */
    spf_verdict_t helo;
    spf_verdict_t mf;           /* MAIL FROM identity (HELO for <>) */
    spf_skip_t skip;
    spf_decision_t d;
    mact_reply_t reply;
    bool reported;              /* logged and audited */
} conn_t;

static const char *const own_methods[] = { "spf", NULL };

/* Whether this process reads the header fields: fixed by the first
 * state (the start-up config), as every MTA connection negotiates its
 * stages once and the runtime's list is read by other threads. -1 until
 * then. */
static int header_stage = -1;

static conn_t *conn_of(SMFICTX *ctx)
{
    return smfi_getpriv(ctx);
}

/* ---- state ---- */

/* An Authentication-Results field may be added only where the forged
 * ones are removed, so only a process that reads the header fields may
 * add one: the first state decides whether it does; a later one (SIGHUP)
 * that asks for the field in a process that does not is refused. */
static int take_headers(bool authres, const char *headers, char *err, size_t errlen)
{
    if (header_stage < 0) {
        header_stage = authres;
        if (!authres)
            spf_proto.skip |= SMFIP_NOHDRS;
    }
    if (authres && !header_stage) {
        snprintf(err, errlen, "[spf] headers = %s adds Authentication-Results, which needs "
                 "the header fields this process did not ask the MTA for at start "
                 "(restart postern-spf)", headers);
        return -1;
    }
    return 0;
}

void *spf_state_new(config_t *cfg, audit_t *audit, char *err, size_t errlen)
{
    state_t *st = calloc(1, sizeof(*st));
    spf_dns_source_t src;
    const char *headers = config_str(cfg, "spf", "headers");
    spf_eval_opts_t o;

    if (st == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    st->audit = audit;
    st->check_helo = config_bool(cfg, "spf", "check_helo");
    st->monitor = strcmp(config_str(cfg, "spf", "mode"), "monitor") == 0;
    st->received_spf = strcmp(headers, "both") == 0 || strcmp(headers, "received-spf") == 0;
    st->authres = strcmp(headers, "both") == 0 || strcmp(headers, "authres") == 0;
    milterd_authserv_id(cfg, st->authserv_id, sizeof(st->authserv_id));
    if (take_headers(st->authres, headers, err, errlen) < 0) {
        spf_state_free(st);
        return NULL;
    }
    memset(&o, 0, sizeof(o));
    o.max_dns_terms = (unsigned) config_int(cfg, "spf", "max_dns_lookups");
    o.max_void = (unsigned) config_int(cfg, "spf", "max_void_lookups");
    o.time_limit_ms = (int) config_duration_ms(cfg, "spf", "time_limit");
    o.query_timeout_ms = (int) config_duration_ms(cfg, "global", "dns_timeout");
    o.receiver = st->authserv_id;
    if ((st->policy = spf_policy_new(cfg, "spf", err, errlen)) == NULL
        || (st->dns = dnsr_new_from_config(cfg, err, errlen)) == NULL) {
        spf_state_free(st);
        return NULL;
    }
    spf_dnsr_source(&src, st->dns);
    if ((st->ev = spf_eval_new(&o, &src, err, errlen)) == NULL) {
        spf_state_free(st);
        return NULL;
    }
    return st;
}

void spf_state_free(void *p)
{
    state_t *st = p;

    if (st == NULL)
        return;
    spf_eval_free(st->ev);
    spf_policy_free(st->policy);
    dnsr_free(st->dns);
    free(st);
}

/* ---- reporting ---- */

static json_t *audit_extra(const conn_t *c, bool monitor)
{
    json_t *x = json_object();

    json_object_set_new(x, "monitor", json_boolean(monitor));
    if (c->skip != SPF_SKIP_NONE) {
        json_object_set_new(x, "skip", json_string(spf_skip_name(c->skip)));
        return x;
    }
    json_object_set_new(x, "identity", json_string(c->mf.identity == SPF_ID_HELO ? "helo"
                                                                                 : "mailfrom"));
    json_object_set_new(x, "domain", json_string(c->mf.domain));
    json_object_set_new(x, "mechanism", json_string(c->mf.mechanism));
    json_object_set_new(x, "explanation", json_string(c->mf.explanation));
    json_object_set_new(x, "rule", json_string(c->d.rule ? c->d.rule : ""));
    json_object_set_new(x, "dns_terms", json_integer(c->mf.dns_terms));
    json_object_set_new(x, "void_lookups", json_integer(c->mf.void_lookups));
    if (c->helo_done)
        json_object_set_new(x, "helo_result", json_string(spf_result_name(c->helo.result)));
    return x;
}

/* The metrics: each identity checked, once per message. */
static void count(const conn_t *c)
{
    if (c->skip != SPF_SKIP_NONE) {
        spf_metrics_skipped(c->skip);
        return;
    }
    spf_metrics_result(c->mf.identity, c->mf.result);
    if (c->helo_done && c->mf.identity != SPF_ID_HELO)
        spf_metrics_result(SPF_ID_HELO, c->helo.result);
}

/* One log line, one audit record and the metrics, once per message. */
static void report(conn_t *c, const state_t *st)
{
    const char *qid = menv_qid(c->env);
    const char *result = c->skip ? "skipped" : spf_result_name(c->mf.result);
    const char *reason = c->skip ? spf_skip_name(c->skip)
                         : c->mf.reason[0] ? c->mf.reason : c->mf.mechanism;
    json_t *extra = audit_extra(c, st->monitor);
    audit_record_t a = { .step = "spf", .result = result, .reason = reason,
                         .action = mact_audit_name(c->reply.action, st->monitor),
                         .ms = c->mf.ms,
                         .extra = extra };
    char err[256];

    if (c->reported)
        return;
    c->reported = true;
    count(c);
    menv_audit_fill(c->env, &a);
    if (audit_write(st->audit, &a, err, sizeof(err)) < 0)
        log_warn("%s: spf: audit: %s", qid ? qid : "NOQUEUE", err);
    json_decref(extra);
    if (c->skip != SPF_SKIP_NONE)
        log_info("%s: spf: not checked (%s) client=%s from=<%s>", qid ? qid : "NOQUEUE",
                 spf_skip_name(c->skip), menv_client_ip(c->env), menv_from(c->env));
    else
        log_info("%s: spf: %s %s %s (%s) client=%s action=%s%s", qid ? qid : "NOQUEUE",
                 c->mf.identity == SPF_ID_HELO ? "helo" : "mailfrom", c->mf.domain,
                 result, reason, menv_client_ip(c->env), mact_name(c->reply.action),
                 st->monitor ? " (monitor)" : "");
}

/* ---- checking ---- */

static void check_message(conn_t *c, const state_t *st)
{
    const char *ip = menv_client_ip(c->env);

    c->skip = spf_policy_skip(st->policy, ip, menv_auth(c->env));
    if (c->skip != SPF_SKIP_NONE) {
        mact_reply_init(&c->reply, MACT_ACCEPT, NULL, "not checked");
        return;
    }
    if (st->check_helo && !c->helo_done && menv_helo(c->env)[0] != '\0') {
        spf_eval_helo(st->ev, ip, menv_helo(c->env), &c->helo);
        c->helo_done = true;
    }
    if (menv_from(c->env)[0] == '\0' && c->helo_done)
        c->mf = c->helo;        /* the null sender's identity is the HELO's */
    else
        spf_eval_mailfrom(st->ev, ip, menv_helo(c->env), menv_from(c->env), &c->mf);
    spf_policy_decide(st->policy, &c->mf, ip, &c->d);
    mact_reply_init(&c->reply, c->d.action, c->d.xcode, "%s", c->d.text);
}

/* ---- header fields ---- */

static void add_fields(SMFICTX *ctx, conn_t *c, const state_t *st)
{
    char value[FIELD_MAX];
    authres_builder_t *b;

    if (st->received_spf
        && spf_header_received(&c->mf, st->authserv_id, menv_client_ip(c->env),
                               menv_helo(c->env), menv_from(c->env), value, sizeof(value)) > 0
        && smfi_insheader(ctx, 0, "Received-SPF", value) != MI_SUCCESS)
        log_warn("%s: spf: could not add Received-SPF", menv_qid(c->env));
    if (!st->authres || (b = authres_builder_new(st->authserv_id)) == NULL)
        return;
    if (spf_header_authres(b, &c->mf) == 0
        && (!c->helo_done || c->mf.identity == SPF_ID_HELO
            || spf_header_authres(b, &c->helo) == 0)
        && authres_format(b, value, sizeof(value)) > 0
        && mglue_authres_add(ctx, value) < 0)
        log_warn("%s: spf: could not add Authentication-Results", menv_qid(c->env));
    authres_builder_free(b);
}

/* ---- callbacks ---- */

static sfsistat s_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
    if (mglue_conn_new(ctx, host, sa, sizeof(conn_t)) == NULL)
        return SMFIS_TEMPFAIL;
    return SMFIS_CONTINUE;
}

static sfsistat s_helo(SMFICTX *ctx, char *helo)
{
    conn_t *c = conn_of(ctx);

    menv_set_helo(c->env, helo);
    c->helo_done = false;
    return SMFIS_CONTINUE;
}

static sfsistat s_envfrom(SMFICTX *ctx, char **argv)
{
    conn_t *c = conn_of(ctx);
    state_t *st = milterd_acquire();

    mglue_mail(ctx, c->env, argv);
    mact_authres_reset(&c->ar);
    memset(&c->d, 0, sizeof(c->d));
    c->reported = false;
    check_message(c, st);
    milterd_release(st);
    return SMFIS_CONTINUE;
}

static sfsistat s_envrcpt(SMFICTX *ctx, char **argv)
{
    conn_t *c = conn_of(ctx);
    state_t *st;
    sfsistat rc = SMFIS_CONTINUE;

    mglue_rcpt(ctx, c->env, argv);
    if (c->reply.action != MACT_REJECT && c->reply.action != MACT_TEMPFAIL)
        return SMFIS_CONTINUE;
    st = milterd_acquire();
    /* In monitor mode the message goes on: it is reported at its end,
     * with its queue id. */
    if (!st->monitor) {
        report(c, st);
        rc = mglue_apply(ctx, &c->reply, false);
    }
    milterd_release(st);
    return rc;
}

static sfsistat s_header(SMFICTX *ctx, char *name, char *value)
{
    conn_t *c = conn_of(ctx);
    state_t *st;

    /* The audit record carries the Message-ID ("postern why"). */
    menv_header(c->env, name, value);
    if (strcasecmp(name, "Authentication-Results") != 0)
        return SMFIS_CONTINUE;
    st = milterd_acquire();
    mact_authres_seen(&c->ar, value, strlen(value), st->authserv_id, own_methods);
    milterd_release(st);
    return SMFIS_CONTINUE;
}

static sfsistat s_eom(SMFICTX *ctx)
{
    conn_t *c = conn_of(ctx);
    state_t *st = milterd_acquire();
    sfsistat rc;

    mglue_qid(ctx, c->env);
    /* In every mode: removing a field that lies about our own check
     * decides nothing about the message; monitor holds back actions. */
    if (mglue_authres_strip(ctx, &c->ar) < 0)
        mact_reply_init(&c->reply, MACT_REJECT, "5.7.1", "too many forged header fields");
    if (!st->monitor && c->skip == SPF_SKIP_NONE
        && (c->reply.action == MACT_TAG || c->reply.action == MACT_QUARANTINE))
        add_fields(ctx, c, st);
    report(c, st);
    rc = mglue_apply(ctx, &c->reply, st->monitor);
    milterd_release(st);
    return rc;
}

struct smfiDesc spf_desc = {
    .xxfi_name = "postern-spf",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
    .xxfi_connect = s_connect,
    .xxfi_helo = s_helo,
    .xxfi_envfrom = s_envfrom,
    .xxfi_envrcpt = s_envrcpt,
    .xxfi_header = s_header,
    .xxfi_eom = s_eom,
    .xxfi_close = mglue_close,
};

/* Not const: take_headers() adds SMFIP_NOHDRS before the runtime starts. */
runtime_proto_t spf_proto = {
    .actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
    .skip = SMFIP_NOBODY | SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_NOEOH,
    /* HELO, MAIL FROM and the header callbacks only collect (a verdict
     * is answered at RCPT TO or at the end), so the MTA need not wait
     * for them: two round trips a message instead of ten or more. */
    .quiet = SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_DATA | SMFIP_NR_HDR,
    .macros = {
        [SMFIM_CONNECT] = MGLUE_CONNECT_MACROS,
        [SMFIM_ENVFROM] = MGLUE_MAIL_MACROS,
        [SMFIM_ENVRCPT] = MGLUE_QID_MACROS,
        [SMFIM_EOM] = MGLUE_QID_MACROS,
    },
};
