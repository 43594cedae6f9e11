/*
 * attach_milter.c - libmilter callbacks of postern-attach: collect the
 * message (acollect), and at end of message walk it (awalk), apply the
 * rules (arule, adecide) and carry out the decision: reply, quarantine,
 * tag header, or the body with parts replaced (strip). No policy here.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmilter/mfapi.h>

#include "audit.h"
#include "config.h"
#include "log.h"
#include "mact.h"
#include "menv.h"
#include "mglue.h"
#include "milterd.h"

#include "acollect.h"
#include "adecide.h"
#include "areport.h"
#include "arule.h"
#include "attach_metrics.h"
#include "attach_conf.h"
#include "attach_milter.h"
#include "awalk.h"

#define SECTION "attach"
#define BODY_CHUNK 65535        /* largest milter packet Debian's libmilter sends */

typedef struct astate {
    config_t *cfg;
    audit_t *audit;
    awalk_t *walk;
    arule_set_t *rules;
    bool monitor;
    size_t spill, max_msg;
    const char *tmpdir, *tag_header, *notice;
    adecide_conf_t dc;
    mact_t on_error;
} astate_t;

typedef struct conn {
    menv_t *env;                /* first: see mglue.h */
    astate_t *st;
    acollect_t *col;
    bool failed;
    char why[256];
} conn_t;

static void state_free(void *p)
{
    astate_t *st = p;

    if (st == NULL)
        return;
    arule_set_free(st->rules);
    awalk_free(st->walk);
    config_unref(st->cfg);
    free(st);
}

static void *state_new(config_t *cfg, audit_t *audit, char *err, size_t errlen)
{
    astate_t *st = calloc(1, sizeof(*st));
    awalk_limits_t lim;

    if (st == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    st->cfg = config_ref(cfg);
    st->audit = audit;
    lim.max_items = (unsigned) config_int(cfg, SECTION, "max_items");
    lim.max_depth = (unsigned) config_int(cfg, SECTION, "max_depth");
    lim.max_archive_depth = (unsigned) config_int(cfg, SECTION, "max_archive_depth");
    lim.max_archive_read = (size_t) config_size(cfg, SECTION, "max_archive_read");
    lim.max_ms = (unsigned) config_duration_ms(cfg, SECTION, "max_time");
    st->monitor = strcmp(config_str(cfg, SECTION, "mode"), "monitor") == 0;
    st->spill = (size_t) config_size(cfg, SECTION, "spill_size");
    st->max_msg = (size_t) config_size(cfg, SECTION, "max_message_size");
    st->tmpdir = config_str(cfg, SECTION, "tmp_dir");
    st->tag_header = config_str(cfg, SECTION, "tag_header");
    st->notice = config_str(cfg, SECTION, "strip_notice");
    /* The schema allows only names mact_parse knows. */
    mact_parse(config_str(cfg, SECTION, "on_limit"), &st->dc.on_limit);
    mact_parse(config_str(cfg, SECTION, "on_suspect"), &st->dc.on_suspect);
    mact_parse(config_str(cfg, SECTION, "on_error"), &st->on_error);
    st->walk = awalk_new(&lim, err, errlen);
    if (st->walk == NULL || (st->rules = arule_set_new(cfg, err, errlen)) == NULL) {
        state_free(st);
        return NULL;
    }
    return st;
}

static conn_t *conn_of(SMFICTX *ctx)
{
    return smfi_getpriv(ctx);
}

static void conn_fail(conn_t *c, const char *why)
{
    if (!c->failed)
        snprintf(c->why, sizeof(c->why), "%s", why);
    c->failed = true;
}

static sfsistat a_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
    conn_t *c = mglue_conn_new(ctx, host, sa, sizeof(conn_t));

    if (c == NULL)
        return SMFIS_TEMPFAIL;
    c->st = milterd_acquire();
    c->col = acollect_new(c->st->spill, c->st->max_msg, c->st->tmpdir);
    if (c->col == NULL) {
        milterd_release(c->st);
        mglue_conn_free(ctx, c);
        return SMFIS_TEMPFAIL;
    }
    return SMFIS_CONTINUE;
}

static sfsistat a_envfrom(SMFICTX *ctx, char **argv)
{
    conn_t *c = conn_of(ctx);

    mglue_mail(ctx, c->env, argv);
    acollect_reset(c->col);
    c->failed = false;
    return SMFIS_CONTINUE;
}

static sfsistat a_header(SMFICTX *ctx, char *name, char *value)
{
    conn_t *c = conn_of(ctx);
    char err[200];

    menv_header(c->env, name, value);
    if (!c->failed && acollect_header(c->col, name, value, err, sizeof(err)) < 0)
        conn_fail(c, err);
    return SMFIS_CONTINUE;
}

static sfsistat a_eoh(SMFICTX *ctx)
{
    conn_t *c = conn_of(ctx);
    char err[200];

    if (!c->failed && acollect_add(c->col, "\r\n", 2, err, sizeof(err)) < 0)
        conn_fail(c, err);
    return SMFIS_CONTINUE;
}

static sfsistat a_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
    conn_t *c = conn_of(ctx);
    char err[200];

    if (!c->failed && acollect_add(c->col, data, len, err, sizeof(err)) < 0)
        conn_fail(c, err);
    return SMFIS_CONTINUE;
}

static double ms_since(const struct timespec *t0)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double) (now.tv_sec - t0->tv_sec) * 1e3 + (double) (now.tv_nsec - t0->tv_nsec) / 1e6;
}

static void audit(conn_t *c, const char *result, const char *reason, const char *action,
                  double ms, json_t *extra)
{
    audit_record_t r = { .step = "attach", .result = result, .reason = reason,
                         .action = action, .ms = ms, .extra = extra };
    char err[256];

    menv_audit_fill(c->env, &r);
    if (audit_write(c->st->audit, &r, err, sizeof(err)) < 0)
        log_warn("%s: attach: audit: %s", menv_qid(c->env) ? menv_qid(c->env) : "NOQUEUE",
                 err);
}

/* The message could not be examined: the admin's on_error action. */
static sfsistat fail(SMFICTX *ctx, conn_t *c, const char *qid, const struct timespec *t0)
{
    mact_reply_t r;
    mact_t a = c->st->on_error;

    mact_reply_init(&r, a, "4.3.0", "Message could not be examined for attachments");
    log_err("%s: attach: %saction=%s cause=error reason=\"%s\"", qid,
            c->st->monitor ? "monitor " : "", mact_name(a), c->why);
    audit(c, "error", c->why, mact_audit_name(a, c->st->monitor), ms_since(t0), NULL);
    attach_metrics_decision("error", a, NULL);
    if (a == MACT_TAG && !c->st->monitor)
        smfi_addheader(ctx, (char *) c->st->tag_header, "action=tag; cause=error");
    return mglue_apply(ctx, &r, c->st->monitor);
}

/* smfi_replacebody with the rewritten body; the top-level Content-*
 * fields change too when the message was one single attachment. */
static int replace_body(SMFICTX *ctx, const char *body, size_t len, bool root)
{
    for (size_t off = 0; off < len; off += BODY_CHUNK) {
        size_t n = len - off < BODY_CHUNK ? len - off : BODY_CHUNK;
        if (smfi_replacebody(ctx, (unsigned char *) body + off, (int) n) != MI_SUCCESS)
            return -1;
    }
    if (len == 0 && smfi_replacebody(ctx, (unsigned char *) "", 0) != MI_SUCCESS)
        return -1;
    if (root && (smfi_chgheader(ctx, "Content-Type", 1, AWALK_NOTICE_TYPE) != MI_SUCCESS
                 || smfi_chgheader(ctx, "Content-Transfer-Encoding", 1, "7bit") != MI_SUCCESS
                 || smfi_chgheader(ctx, "Content-Disposition", 1, NULL) != MI_SUCCESS))
        return -1;
    return 0;
}

static int strip(SMFICTX *ctx, conn_t *c, awalk_result_t *w, const areport_t *rp,
                 char *err, size_t errlen)
{
    const arule_verdict_t *v = rp->verdict;
    size_t *idx = calloc(v->nhits + 1, sizeof(*idx)), n = 0;
    char (*text)[512] = calloc(v->nhits + 1, sizeof(*text));
    const char **notices = calloc(v->nhits + 1, sizeof(*notices));
    char *body = NULL;
    size_t bodylen = 0;
    bool root = false;
    int rc = -1;

    if (idx == NULL || text == NULL || notices == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < v->nhits; i++) {
        if (v->hits[i].action != ARULE_STRIP || v->hits[i].item == ARULE_MESSAGE)
            continue;
        areport_notice(rp, &v->hits[i], c->st->notice, text[n], sizeof(text[n]));
        notices[n] = text[n];
        idx[n++] = v->hits[i].item;
    }
    if (awalk_strip(w, idx, notices, n, &body, &bodylen, &root, err, errlen) < 0)
        goto out;
    rc = replace_body(ctx, body, bodylen, root);
    if (rc < 0)
        snprintf(err, errlen, "the MTA refused the new body");
out:
    free(body);
    free(notices);
    free(text);
    free(idx);
    return rc;
}

static sfsistat carry_out(SMFICTX *ctx, conn_t *c, awalk_result_t *w, const areport_t *rp,
                          const char *qid)
{
    const adecision_t *d = rp->decision;
    mact_reply_t r;
    char text[MACT_MAX_TEXT + 1], err[256];

    if (!c->st->monitor && d->strip && strip(ctx, c, w, rp, err, sizeof(err)) < 0) {
        snprintf(c->why, sizeof(c->why), "strip: %.200s", err);
        log_err("%s: attach: strip failed: %s", qid, err);
        mact_reply_init(&r, c->st->on_error == MACT_REJECT ? MACT_REJECT : MACT_TEMPFAIL,
                        "4.3.0", "Message could not be rewritten");
        return mglue_apply(ctx, &r, false);
    }
    if (!c->st->monitor && d->action == MACT_TAG) {
        areport_tag(rp, text, sizeof(text));
        if (smfi_addheader(ctx, (char *) c->st->tag_header, text) != MI_SUCCESS)
            log_warn("%s: attach: the MTA refused the %s field", qid, c->st->tag_header);
    }
    areport_reply(rp, text, sizeof(text));
    mact_reply_init(&r, d->action, "5.7.1", "%s", text);
    return mglue_apply(ctx, &r, c->st->monitor);
}

static void report(conn_t *c, const areport_t *rp, const char *qid, double ms)
{
    const arule_verdict_t *v = rp->verdict;
    char line[1024], reason[MACT_MAX_TEXT + 1];
    const char *rule = NULL;
    json_t *extra = areport_json(rp);

    areport_line(rp, line, sizeof(line));
    if (rp->decision->action == MACT_ACCEPT)
        log_info("%s: attach: %s", qid, line);
    else
        log_notice("%s: attach: %s", qid, line);
    if (v->decisive >= 0 && strcmp(rp->decision->cause, "rule") == 0) {
        snprintf(reason, sizeof(reason), "%s", v->hits[v->decisive].reason);
        rule = arule_set_name(rp->rules, v->hits[v->decisive].rule);
    } else {
        areport_reply(rp, reason, sizeof(reason));
    }
    attach_metrics_decision(rp->decision->cause, rp->decision->action, rule);
    audit(c, rp->decision->cause, reason, mact_audit_name(rp->decision->action, rp->monitor),
          ms, extra);
    json_decref(extra);
}

static sfsistat a_eom(SMFICTX *ctx)
{
    conn_t *c = conn_of(ctx);
    astate_t *st = c->st;
    struct timespec t0;
    awalk_result_t *w = NULL;
    bool too_big = acollect_over(c->col);
    const char *qid;
    const void *data;
    size_t len;
    char err[200];

    clock_gettime(CLOCK_MONOTONIC, &t0);
    mglue_qid(ctx, c->env);
    qid = menv_qid(c->env) ? menv_qid(c->env) : "NOQUEUE";
    if (!c->failed && !too_big) {
        if (acollect_map(c->col, &data, &len, err, sizeof(err)) < 0)
            conn_fail(c, err);
        else if ((w = awalk_run(st->walk, data, len)) == NULL)
            conn_fail(c, "out of memory while walking the message");
        attach_metrics_parse(ms_since(&t0));
    }
    if (c->failed)
        return fail(ctx, c, qid, &t0);

    const char *const *rcpt;
    size_t nrcpt = menv_rcpts(c->env, &rcpt);
    arule_env_t env = { menv_from_domain(c->env), rcpt, nrcpt, acollect_size(c->col) };
    const awalk_item_t *items = w && awalk_count(w) ? awalk_item(w, 0) : NULL;
    size_t nitems = w ? awalk_count(w) : 0;
    arule_verdict_t v;
    if (arule_eval(st->rules, &env, items, nitems, &v) < 0) {
        awalk_result_free(w);
        conn_fail(c, "out of memory while applying the rules");
        return fail(ctx, c, qid, &t0);
    }
    adecision_t d;
    unsigned flags = w ? awalk_flags(w) : 0;
    adecide(&st->dc, flags, too_big, &v, &d);
    areport_t rp = { items, nitems, flags, w ? awalk_warning(w) : "", st->rules, &v, &d,
                     acollect_size(c->col), st->monitor, too_big };
    sfsistat rc = carry_out(ctx, c, w, &rp, qid);
    report(c, &rp, qid, ms_since(&t0));
    arule_verdict_free(&v);
    awalk_result_free(w);
    acollect_reset(c->col);
    return rc;
}

static sfsistat a_abort(SMFICTX *ctx)
{
    conn_t *c = conn_of(ctx);

    if (c != NULL)
        acollect_reset(c->col);
    return SMFIS_CONTINUE;
}

static sfsistat a_close(SMFICTX *ctx)
{
    conn_t *c = conn_of(ctx);

    if (c == NULL)
        return SMFIS_CONTINUE;
    acollect_free(c->col);
    milterd_release(c->st);
    mglue_conn_free(ctx, c);
    return SMFIS_CONTINUE;
}

#define ATTACH_ACTIONS (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_QUARANTINE)

static struct smfiDesc attach_desc = {
    .xxfi_name = "postern-attach",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = ATTACH_ACTIONS,
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

static const runtime_proto_t attach_proto = {
    .actions = ATTACH_ACTIONS,
    .skip = SMFIP_NOUNKNOWN | SMFIP_NODATA,
    .macros = {
        [SMFIM_CONNECT] = MGLUE_CONNECT_MACROS,
        [SMFIM_ENVFROM] = MGLUE_MAIL_MACROS,
        [SMFIM_ENVRCPT] = MGLUE_QID_MACROS,
        [SMFIM_EOM] = MGLUE_QID_MACROS,
    },
};

static const conf_section_t *const attach_own[] = {
    &attach_conf_section, &attach_rule_conf_section, NULL
};

const milterd_spec_t attach_milterd_spec = {
    .component = "attach",
    .daemon = "postern-attach",
    .sections = attach_own,
    .desc = &attach_desc,
    .proto = &attach_proto,
    .state_new = state_new,
    .state_free = state_free,
    .metrics_init = attach_metrics_init,
};
