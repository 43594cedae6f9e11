/*
 * dmarc_milter.c - libmilter callbacks of postern-dmarc: SPF through
 * spf_core and DKIM through dkim_core on the message as it arrives,
 * then DMARC (dmarc_policy) at end of message. Decisions live in the
 * core; this file copies MTA data in and applies the outcome.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <libmilter/mfapi.h>

#include "audit.h"
#include "dns.h"
#include "log.h"
#include "mact.h"
#include "menv.h"
#include "mglue.h"
#include "milterd.h"

#include "dkim_dnskey.h"
#include "dkim_engine.h"
#include "dkim_result.h"
#include "spf_dnsr.h"
#include "spf_eval.h"

#include "dmarc_arin.h"
#include "dmarc_audit.h"
#include "dmarc_metrics.h"
#include "dmarc_conf.h"
#include "dmarc_dkim.h"
#include "dmarc_eval.h"
#include "dmarc_hist.h"
#include "dmarc_lib.h"
#include "dmarc_milter.h"
#include "dmarc_policy.h"
#include "dmarc_psl.h"
#include "dmarc_record.h"
#include "dmarc_spf.h"

#define S "dmarc"

typedef struct state {
    audit_t *audit;
    bool monitor;
    bool chained;               /* trust our earlier milters' A-R */
    char authserv_id[256];
    dnsr_t *dns;
    spf_eval_t *spf;
    dkim_engine_t *dkim;
    dmarc_psl_t *psl;
    dmarc_source_t src;
    dmarc_eval_t *ev;
    dmarc_policy_t *pol;
    dmarc_hist_t *hist;         /* NULL: history = none */
    pthread_mutex_t hist_lock;  /* one SQLite connection, many threads */
} state_t;

typedef struct conn {
    menv_t *env;                /* first: see mglue.h */
    state_t *st;                /* held from MAIL to end of message */
    mact_authres_t ar;
    dmarc_arin_t arin;          /* chained: their SPF and DKIM results */
    dkim_msg_t *msg;
    char *from[DMARC_MAX_FROM_FIELDS];
    size_t fromlen[DMARC_MAX_FROM_FIELDS];
    size_t nfrom;
    bool from_overflow;
} conn_t;

/* Evaluating SPF and DKIM here, a field of ours with those results is
 * forged; chained, only dmarc= is ours (the rest came from postern-spf
 * and postern-dkim, which already removed forged fields). */
static const char *const own_methods[] = { "dmarc", "spf", "dkim", NULL };
static const char *const own_methods_chained[] = { "dmarc", NULL };

static conn_t *conn_of(SMFICTX *ctx)
{
    return smfi_getpriv(ctx);
}

static const char *qid_of(const conn_t *c)
{
    return menv_qid(c->env) ? menv_qid(c->env) : "NOQUEUE";
}

/* ---- state ---- */

static void state_free(void *p)
{
    state_t *st = p;

    if (st == NULL)
        return;
    dmarc_hist_close(st->hist);
    dmarc_policy_free(st->pol);
    dmarc_eval_free(st->ev);
    dmarc_psl_free(st->psl);
    dkim_engine_free(st->dkim);
    spf_eval_free(st->spf);
    dnsr_free(st->dns);
    pthread_mutex_destroy(&st->hist_lock);
    free(st);
}

static int state_engines(state_t *st, config_t *cfg, char *err, size_t errlen)
{
    spf_dns_source_t ssrc;
    spf_eval_opts_t so;
    dkim_engine_opts_t ko;

    memset(&so, 0, sizeof so);
    so.query_timeout_ms = (int) config_duration_ms(cfg, "global", "dns_timeout");
    so.receiver = st->authserv_id;
    spf_dnsr_source(&ssrc, st->dns);
    if ((st->spf = spf_eval_new(&so, &ssrc, err, errlen)) == NULL)
        return -1;
    memset(&ko, 0, sizeof ko);
    ko.keysrc = dkim_dnskey_lookup;
    ko.keysrc_arg = st->dns;
    if ((st->dkim = dkim_engine_new(&ko, err, errlen)) == NULL)
        return -1;
    st->src = dmarc_source_dns(st->dns);
    if ((st->psl = dmarc_psl_load(config_str(cfg, S, "psl_file"), err, errlen)) == NULL
        || (st->ev = dmarc_eval_new(st->psl, &st->src)) == NULL
        || (st->pol = dmarc_policy_new(cfg, err, errlen)) == NULL)
        return -1;
    if (strcmp(config_str(cfg, S, "history"), "none") != 0
        && (st->hist = dmarc_hist_open(config_str(cfg, S, "history"),
                                       config_str(cfg, S, "history_db"), err, errlen)) == NULL)
        return -1;
    return 0;
}

static void *state_new(config_t *cfg, audit_t *audit, char *err, size_t errlen)
{
    state_t *st = calloc(1, sizeof(*st));

    if (st == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&st->hist_lock, NULL);
    st->audit = audit;
    st->monitor = strcmp(config_str(cfg, S, "mode"), "monitor") == 0;
    st->chained = strcmp(config_str(cfg, S, "spf_dkim_source"), "authres") == 0;
    milterd_authserv_id(cfg, st->authserv_id, sizeof(st->authserv_id));
    if (dmarc_lib_init(err, errlen) < 0
        || (st->dns = dnsr_new_from_config(cfg, err, errlen)) == NULL
        || state_engines(st, cfg, err, errlen) < 0) {
        state_free(st);
        return NULL;
    }
    return st;
}

/* ---- message ---- */

static void message_end(conn_t *c)
{
    for (size_t i = 0; i < c->nfrom; i++)
        free(c->from[i]);
    c->nfrom = 0;
    c->from_overflow = false;
    dkim_msg_free(c->msg);
    c->msg = NULL;
    if (c->st != NULL) {
        milterd_release(c->st);
        c->st = NULL;
    }
}

static sfsistat m_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
    if (mglue_conn_new(ctx, host, sa, sizeof(conn_t)) == NULL)
        return SMFIS_TEMPFAIL;
    return SMFIS_CONTINUE;
}

static sfsistat m_envfrom(SMFICTX *ctx, char **argv)
{
    conn_t *c = conn_of(ctx);
    char err[256];

    message_end(c);
    mglue_mail(ctx, c->env, argv);
    mact_authres_reset(&c->ar);
    c->st = milterd_acquire();
    dmarc_arin_reset(&c->arin);
    if (c->st->chained)
        return SMFIS_CONTINUE;
    c->msg = dkim_msg_verify(c->st->dkim, "dmarc", err, sizeof(err));
    if (c->msg == NULL)
        log_err("%s: dmarc: dkim: %s", qid_of(c), err);
    return SMFIS_CONTINUE;
}

static void keep_from(conn_t *c, const char *value)
{
    if (c->nfrom >= DMARC_MAX_FROM_FIELDS) {
        c->from_overflow = true;
        return;
    }
    if ((c->from[c->nfrom] = strdup(value)) == NULL) {
        c->from_overflow = true;
        return;
    }
    c->fromlen[c->nfrom++] = strlen(value);
}

static void authres_header(conn_t *c, const char *value)
{
    size_t len = strlen(value);

    if (!c->st->chained) {
        mact_authres_seen(&c->ar, value, len, c->st->authserv_id, own_methods);
        return;
    }
    /* A forged dmarc= field is removed, not read. */
    if (!mact_authres_seen(&c->ar, value, len, c->st->authserv_id, own_methods_chained))
        (void) dmarc_arin_add(&c->arin, value, len, c->st->authserv_id);
}

static sfsistat m_header(SMFICTX *ctx, char *name, char *value)
{
    conn_t *c = conn_of(ctx);

    menv_header(c->env, name, value);
    if (strcasecmp(name, "From") == 0)
        keep_from(c, value);
    else if (strcasecmp(name, "Authentication-Results") == 0)
        authres_header(c, value);
    if (c->msg != NULL && dkim_msg_header(c->msg, name, value) < 0)
        dkim_msg_fail(c->msg, "too many or too large header fields");
    return SMFIS_CONTINUE;
}

static sfsistat m_eoh(SMFICTX *ctx)
{
    conn_t *c = conn_of(ctx);

    mglue_qid(ctx, c->env);
    if (c->msg != NULL)
        (void) dkim_msg_eoh(c->msg);
    return SMFIS_CONTINUE;
}

static sfsistat m_body(SMFICTX *ctx, unsigned char *buf, size_t len)
{
    conn_t *c = conn_of(ctx);

    if (c->msg != NULL)
        (void) dkim_msg_body(c->msg, buf, len);
    return SMFIS_CONTINUE;
}

/* Appends "; " and the results of FULL (an A-R value of ours) after its
 * authserv-id to BUF of LEN bytes holding N bytes. */
static size_t append_results(char *buf, size_t len, size_t n, const char *full)
{
    const char *semi = strchr(full, ';');
    int k;

    if (semi == NULL || n >= len)
        return n;
    k = snprintf(buf + n, len - n, ";%s", semi + 1);
    return k > 0 && (size_t) k < len - n ? n + (size_t) k : n;
}

/* Our one A-R value: dmarc=, then the spf= and dkim= results we made. */
static int authres_value(const conn_t *c, const dmarc_outcome_t *o, const spf_verdict_t *v,
                         const dkim_sigres_t *res, size_t nres, char *buf, size_t len)
{
    char part[4096];
    int n = dmarc_policy_authres(o, c->st->authserv_id, buf, len);
    size_t at;

    if (n < 0)
        return -1;
    at = (size_t) n;
    if (v->domain[0] != '\0' && strpbrk(v->domain, " ;()\"\\") == NULL) {
        snprintf(part, sizeof(part), "x; spf=%s smtp.%s=%s", spf_result_name(v->result),
                 v->identity == SPF_ID_HELO ? "helo" : "mailfrom", v->domain);
        at = append_results(buf, len, at, part);
    }
    if (c->st->chained)
        return (int) at;        /* spf= and dkim= are in their own fields */
    if (dkim_result_authres(c->st->authserv_id, res, nres, part, sizeof(part)) > 0)
        at = append_results(buf, len, at, part);
    return (int) at;
}

static void audit_one(const conn_t *c, const dmarc_outcome_t *o, const dmarc_input_t *in)
{
    json_t *extra = dmarc_audit_extra(o, in);
    audit_record_t r = { .step = "dmarc", .result = dmarc_audit_result(o), .reason = o->reason,
                         .action = mact_audit_name(o->action.action, c->st->monitor),
                         .ms = menv_elapsed_ms(c->env), .extra = extra };
    char err[256];

    menv_audit_fill(c->env, &r);
    if (audit_write(c->st->audit, &r, err, sizeof(err)) < 0)
        log_warn("%s: dmarc: audit: %s", qid_of(c), err);
    json_decref(extra);
}

static void history_one(const conn_t *c, const dmarc_outcome_t *o, const dmarc_input_t *in)
{
    dmarc_hist_row_t row;
    char err[256];
    int rc;

    if (c->st->hist == NULL || !o->evaluated)
        return;
    dmarc_hist_row_fill(&row, o, in, menv_client_ip(c->env), menv_from(c->env), NULL,
                        (int64_t) time(NULL));
    pthread_mutex_lock(&c->st->hist_lock);
    rc = dmarc_hist_add(c->st->hist, &row, err, sizeof(err));
    pthread_mutex_unlock(&c->st->hist_lock);
    if (rc < 0)
        log_warn("%s: dmarc: history: %s", qid_of(c), err);
}

static sfsistat m_eom(SMFICTX *ctx)
{
    conn_t *c = conn_of(ctx);
    state_t *st = c->st;
    spf_verdict_t v;
    dmarc_spf_t s;
    const dkim_sigres_t *res = NULL;
    size_t nres = 0;
    dmarc_dkim_in_t d[DMARC_MAX_DKIM];
    dmarc_input_t in;
    dmarc_authors_t au;
    dmarc_outcome_t o;
    mact_reply_t reply;
    char value[8192], line[1024];
    sfsistat rc;

    mglue_qid(ctx, c->env);
    memset(&v, 0, sizeof v);
    memset(&in, 0, sizeof in);
    if (st->chained) {
        dmarc_arin_input(&c->arin, &in);
    } else {
        spf_eval_mailfrom(st->spf, menv_client_ip(c->env), menv_helo(c->env),
                          menv_from(c->env), &v);
        dmarc_spf_from_verdict(&v, &s);
        dmarc_spf_input(&s, &in);
    }
    if (c->msg != NULL) {
        if (dkim_msg_eom(c->msg) < 0)
            log_warn("%s: dmarc: dkim: %s", qid_of(c), dkim_msg_error(c->msg));
        nres = dkim_msg_results(c->msg, &res);
    }
    if (!st->chained) {
        in.dkim = d;
        in.ndkim = dmarc_dkim_from_results(res, nres, d, DMARC_MAX_DKIM);
    }
    in.sample = arc4random_uniform(100);   /* pct sampling, unpredictable */
    dmarc_authors_collect((const char *const *) c->from, c->fromlen, c->nfrom, &au);
    if (c->from_overflow)
        au.kind = DMARC_AUTHORS_MULTI;
    dmarc_policy_check(st->pol, st->ev, &au, &in, menv_client_ip(c->env), &o);
    reply = o.action.reply;
    if (!st->monitor) {
        if (mglue_authres_strip(ctx, &c->ar) < 0)
            mact_reply_init(&reply, MACT_REJECT, "5.7.1", "too many forged header fields");
        if (authres_value(c, &o, &v, res, nres, value, sizeof(value)) > 0)
            mglue_authres_add(ctx, value);
    }
    audit_one(c, &o, &in);
    dmarc_metrics_outcome(&o);
    history_one(c, &o, &in);
    if (dmarc_audit_line(&o, line, sizeof(line)) < 0)
        snprintf(line, sizeof(line), "dmarc: %s action=%s", dmarc_audit_result(&o),
                 mact_name(o.action.action));
    log_info("%s: %s%s", qid_of(c), line, st->monitor ? " (monitor)" : "");
    rc = mglue_apply(ctx, &reply, st->monitor);
    message_end(c);
    return rc;
}

static sfsistat m_abort(SMFICTX *ctx)
{
    conn_t *c = conn_of(ctx);

    if (c != NULL)
        message_end(c);
    return SMFIS_CONTINUE;
}

static sfsistat m_close(SMFICTX *ctx)
{
    conn_t *c = conn_of(ctx);

    if (c != NULL) {
        message_end(c);
        mglue_conn_free(ctx, c);
    }
    return SMFIS_CONTINUE;
}

#define DMARC_ACTIONS (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE)

static struct smfiDesc desc = {
    .xxfi_name = "postern-dmarc",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = DMARC_ACTIONS,
    .xxfi_connect = m_connect,
    .xxfi_helo = mglue_helo,
    .xxfi_envfrom = m_envfrom,
    .xxfi_envrcpt = mglue_envrcpt,
    .xxfi_header = m_header,
    .xxfi_eoh = m_eoh,
    .xxfi_body = m_body,
    .xxfi_eom = m_eom,
    .xxfi_abort = m_abort,
    .xxfi_close = m_close,
};

static const runtime_proto_t proto = {
    .actions = DMARC_ACTIONS,
    .skip = SMFIP_NOUNKNOWN | SMFIP_NODATA,
    .macros = {
        [SMFIM_CONNECT] = MGLUE_CONNECT_MACROS,
        [SMFIM_ENVFROM] = MGLUE_MAIL_MACROS,
        [SMFIM_ENVRCPT] = MGLUE_QID_MACROS,
        [SMFIM_EOH] = MGLUE_QID_MACROS,
        [SMFIM_EOM] = MGLUE_QID_MACROS,
    },
};

static const conf_section_t *const own[] = { &dmarc_conf_section, NULL };

const milterd_spec_t dmarc_milter_spec = {
    .component = "dmarc", .daemon = "postern-dmarc", .sections = own,
    .desc = &desc, .proto = &proto, .state_new = state_new, .state_free = state_free,
    .metrics_init = dmarc_metrics_init,
};
