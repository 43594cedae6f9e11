/*
 * dkim_milter.c - libmilter callbacks of postern-dkim: copy what the MTA
 * sends into the session, hand it to the core at end of header and body,
 * and turn the outcome into header edits and a reply. Decisions live in
 * dkim_select.c (sign or verify) and dkim_result.c (results, action).
 *
 * Only the connect callback (out of memory) and the end of message may
 * answer anything but "continue"; the others must stay that way, as the
 * MTA does not wait for their answers over unix: (proto.quiet).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <libmilter/mfapi.h>

#include "audit.h"
#include "log.h"
#include "mact.h"
#include "menv.h"
#include "mglue.h"
#include "milterd.h"

#include "dkim_conf.h"
#include "dkim_metrics.h"
#include "dkim_milter.h"
#include "dkim_state.h"

/* Header bytes kept until end of header (Postfix's header_size_limit
 * is 100 KB; a message past this is not signed and reported neutral). */
#define MAX_HEADER_BYTES (4 * 1024 * 1024)

typedef struct hfield {
    char *name, *value;
} hfield_t;

typedef struct conn {
    menv_t *env;                /* first: see mglue.h */
    dkim_state_t *st;           /* held from MAIL to end of message */
    mact_authres_t ar;
    bool forged_overflow;       /* more forged A-R fields than we remove */
    dkim_role_t role;
    const char *why;            /* which rule chose the role */
    hfield_t *hdrs;
    size_t nhdrs, caphdrs, hbytes;
    bool overflow;
    dkim_msg_t *msg;
    const dkim_key_t *keys[DKIM_KEYS_MAX_PER_DOMAIN];
    size_t nkeys;
    char from_domain[254];
    const char *skip;           /* why nothing is done to this message */
} conn_t;

static const char *const own_methods[] = { "dkim", NULL };

static conn_t *conn_of(SMFICTX *ctx)
{
    return smfi_getpriv(ctx);
}

static const char *qid_of(const conn_t *c)
{
    return menv_qid(c->env) ? menv_qid(c->env) : "NOQUEUE";
}

static void hdrs_clear(conn_t *c)
{
    for (size_t i = 0; i < c->nhdrs; i++) {
        free(c->hdrs[i].name);
        free(c->hdrs[i].value);
    }
    c->nhdrs = 0;
    c->hbytes = 0;
    c->overflow = false;
}

/* Ends the message: frees its data and gives the state back. */
static void message_end(conn_t *c)
{
    hdrs_clear(c);
    dkim_msg_free(c->msg);
    c->msg = NULL;
    c->nkeys = 0;
    c->skip = NULL;
    c->forged_overflow = false;
    c->from_domain[0] = '\0';
    if (c->st != NULL) {
        milterd_release(c->st);
        c->st = NULL;
    }
}

static sfsistat k_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
    if (mglue_conn_new(ctx, host, sa, sizeof(conn_t)) == NULL)
        return SMFIS_TEMPFAIL;
    return SMFIS_CONTINUE;
}

static sfsistat k_envfrom(SMFICTX *ctx, char **argv)
{
    conn_t *c = conn_of(ctx);
    dkim_select_in_t in;

    message_end(c);
    mglue_mail(ctx, c->env, argv);
    mact_authres_reset(&c->ar);
    c->st = milterd_acquire();
    in.internal = menv_client_in(c->env, c->st->internal);
    in.auth = menv_auth(c->env);
    in.daemon_name = menv_daemon_name(c->env);
    c->role = dkim_select_role(&in, &c->st->select, &c->why);
    return SMFIS_CONTINUE;
}

static int keep_header(conn_t *c, const char *name, const char *value)
{
    size_t bytes = strlen(name) + strlen(value);

    if (c->overflow || c->nhdrs >= c->st->max_headers
        || c->hbytes + bytes > MAX_HEADER_BYTES) {
        c->overflow = true;
        return -1;
    }
    if (c->nhdrs == c->caphdrs) {
        size_t cap = c->caphdrs ? c->caphdrs * 2 : 32;
        hfield_t *h = realloc(c->hdrs, cap * sizeof(*h));

        if (h == NULL)
            return -1;
        c->hdrs = h;
        c->caphdrs = cap;
    }
    c->hdrs[c->nhdrs].name = strdup(name);
    c->hdrs[c->nhdrs].value = strdup(value);
    if (c->hdrs[c->nhdrs].name == NULL || c->hdrs[c->nhdrs].value == NULL) {
        free(c->hdrs[c->nhdrs].name);
        free(c->hdrs[c->nhdrs].value);
        c->overflow = true;
        return -1;
    }
    c->nhdrs++;
    c->hbytes += bytes;
    return 0;
}

static sfsistat k_header(SMFICTX *ctx, char *name, char *value)
{
    conn_t *c = conn_of(ctx);

    menv_header(c->env, name, value);
    if (strcasecmp(name, "Authentication-Results") == 0)
        mact_authres_seen(&c->ar, value, strlen(value), c->st->authserv_id, own_methods);
    (void) keep_header(c, name, value);
    return SMFIS_CONTINUE;
}

/* The From domain and the keys for it; sets c->skip when there are none. */
static void pick_keys(conn_t *c)
{
    const char *from = NULL;
    int nfrom = 0;

    for (size_t i = 0; i < c->nhdrs; i++)
        if (strcasecmp(c->hdrs[i].name, "From") == 0) {
            from = c->hdrs[i].value;
            nfrom++;
        }
    if (nfrom != 1 || dkim_from_domain(from, strlen(from), c->from_domain,
                                       sizeof(c->from_domain)) < 0) {
        c->skip = nfrom == 0 ? "no From field" : "no single usable From address";
        return;
    }
    c->nkeys = dkim_keys_find(c->st->keys, c->from_domain, c->keys, DKIM_KEYS_MAX_PER_DOMAIN);
    if (c->nkeys == 0)
        c->skip = "no key for the From domain";
}

static sfsistat k_eoh(SMFICTX *ctx)
{
    conn_t *c = conn_of(ctx);
    char err[256];

    mglue_qid(ctx, c->env);
    if (c->role == DKIM_ROLE_SIGN) {
        pick_keys(c);
        if (c->skip != NULL)
            goto done;
        if (c->overflow) {
            c->skip = "header too large to sign";
            goto done;
        }
        c->msg = dkim_msg_sign(c->st->eng, qid_of(c), c->keys, c->nkeys, err, sizeof(err));
    } else {
        c->msg = dkim_msg_verify(c->st->eng, qid_of(c), err, sizeof(err));
    }
    if (c->msg == NULL) {
        log_err("%s: dkim: %s", qid_of(c), err);
        goto done;
    }
    for (size_t i = 0; i < c->nhdrs; i++)
        if (dkim_msg_header(c->msg, c->hdrs[i].name, c->hdrs[i].value) < 0)
            break;
    if (c->overflow)
        dkim_msg_fail(c->msg, "too many or too large header fields");
    (void) dkim_msg_eoh(c->msg);
done:
    hdrs_clear(c);
    return SMFIS_CONTINUE;
}

static sfsistat k_body(SMFICTX *ctx, unsigned char *buf, size_t len)
{
    conn_t *c = conn_of(ctx);

    if (c->msg != NULL)
        (void) dkim_msg_body(c->msg, buf, len);
    return SMFIS_CONTINUE;
}

static void audit_one(conn_t *c, const char *step, const char *result, const char *reason,
                      mact_t action, json_t *extra)
{
    audit_record_t r = { .step = step, .result = result, .reason = reason,
                         .action = mact_audit_name(action, c->st->monitor),
                         .ms = menv_elapsed_ms(c->env), .extra = extra };
    char err[256];

    menv_audit_fill(c->env, &r);
    if (audit_write(c->st->audit, &r, err, sizeof(err)) < 0)
        log_warn("%s: dkim: audit: %s", qid_of(c), err);
}

static json_t *extra_of(const char *domain, const char *selector, const char *alg,
                        unsigned bits)
{
    json_t *x = json_object();

    if (x != NULL) {
        json_object_set_new(x, "domain", json_string(domain));
        json_object_set_new(x, "selector", json_string(selector));
        json_object_set_new(x, "algorithm", json_string(alg));
        if (bits > 0)
            json_object_set_new(x, "bits", json_integer(bits));
    }
    return x;
}

static sfsistat sign_eom(SMFICTX *ctx, conn_t *c)
{
    const dkim_state_t *st = c->st;
    mact_reply_t r;
    bool ok = dkim_msg_eom(c->msg) == 0;

    mact_reply_init(&r, ok ? MACT_ACCEPT : st->on_sign_error, "4.7.0",
                    "DKIM signing failed, try again later");
    if (c->forged_overflow)
        mact_reply_init(&r, MACT_REJECT, "5.7.1", "too many forged header fields");
    for (size_t i = 0; i < c->nkeys; i++) {
        const dkim_key_t *k = c->keys[i];
        const char *alg = dkim_keys_alg_name(k->alg);
        json_t *x = extra_of(k->sdid, k->selector, alg, k->bits);

        if (ok && !st->monitor
            && smfi_insheader(ctx, 0, "DKIM-Signature",
                              (char *) dkim_msg_signature(c->msg, i)) != MI_SUCCESS) {
            ok = false;
            mact_reply_init(&r, st->on_sign_error, "4.7.0", "DKIM signing failed, try again later");
        }
        dkim_metrics_signed(k->alg, ok);
        audit_one(c, "sign", ok ? "signed" : "error", ok ? c->why : dkim_msg_error(c->msg),
                  r.action, x);
        log_info("%s: dkim: sign %s %s %s %s%s", qid_of(c), k->sdid, k->selector, alg,
                 ok ? "signed" : dkim_msg_error(c->msg), st->monitor ? " (monitor)" : "");
        json_decref(x);
    }
    return mglue_apply(ctx, &r, st->monitor);
}

static sfsistat verify_eom(SMFICTX *ctx, conn_t *c)
{
    const dkim_state_t *st = c->st;
    const dkim_sigres_t *res = NULL;
    size_t n = 0;
    char value[4096];
    const char *why;
    mact_reply_t r;
    mact_t a;

    if (dkim_msg_eom(c->msg) < 0)
        log_warn("%s: dkim: verify: %s", qid_of(c), dkim_msg_error(c->msg));
    n = dkim_msg_results(c->msg, &res);
    a = dkim_result_action(res, n, &st->policy, &why);
    mact_reply_init(&r, a, "5.7.20", "No passing DKIM signature found (%s)", why);
    if (c->forged_overflow)
        mact_reply_init(&r, MACT_REJECT, "5.7.1", "too many forged header fields");
    if (!st->monitor && dkim_result_authres(st->authserv_id, res, n, value, sizeof(value)) > 0)
        mglue_authres_add(ctx, value);
    for (size_t i = 0; i < n; i++) {
        json_t *x = extra_of(res[i].domain, res[i].selector, res[i].alg, res[i].bits);

        dkim_metrics_verified(res[i].res);
        audit_one(c, "verify", dkim_result_name(res[i].res), res[i].reason, r.action, x);
        log_info("%s: dkim: verify %s %s %s %s%s%s%s action=%s%s", qid_of(c), res[i].domain,
                 res[i].selector, res[i].alg, dkim_result_name(res[i].res),
                 res[i].reason[0] ? " (" : "", res[i].reason, res[i].reason[0] ? ")" : "",
                 mact_name(r.action), st->monitor ? " (monitor)" : "");
        json_decref(x);
    }
    if (n == 0) {
        dkim_metrics_verified(DKIM_RES_NONE);
        audit_one(c, "verify", "none", "no signature", r.action, NULL);
        log_info("%s: dkim: verify none (no signature) action=%s", qid_of(c),
                 mact_name(r.action));
    }
    return mglue_apply(ctx, &r, st->monitor);
}

static sfsistat k_eom(SMFICTX *ctx)
{
    conn_t *c = conn_of(ctx);
    sfsistat rc = SMFIS_CONTINUE;

    mglue_qid(ctx, c->env);
    /* Forged fields go in every mode and role: removing a field that lies
     * about our own checks decides nothing about the message (monitor
     * holds back actions), and a later DMARC milter must not trust it. */
    c->forged_overflow = mglue_authres_strip(ctx, &c->ar) < 0;
    if (c->msg != NULL && c->role == DKIM_ROLE_SIGN) {
        rc = sign_eom(ctx, c);
    } else if (c->msg != NULL) {
        rc = verify_eom(ctx, c);
    } else if (c->role == DKIM_ROLE_SIGN) {
        audit_one(c, "sign", "skipped", c->skip ? c->skip : "internal error", MACT_ACCEPT, NULL);
        log_info("%s: dkim: not signed (%s: %s)", qid_of(c), c->why,
                 c->skip ? c->skip : "internal error");
    } else {
        mact_reply_t r;

        mact_reply_init(&r, c->st->policy.on_temperror, "4.7.0",
                        "DKIM verification failed, try again");
        dkim_metrics_unverifiable();
        audit_one(c, "verify", "error", "internal error", r.action, NULL);
        rc = mglue_apply(ctx, &r, c->st->monitor);
    }
    message_end(c);
    return rc;
}

static sfsistat k_abort(SMFICTX *ctx)
{
    conn_t *c = conn_of(ctx);

    if (c != NULL)
        message_end(c);
    return SMFIS_CONTINUE;
}

static sfsistat k_close(SMFICTX *ctx)
{
    conn_t *c = conn_of(ctx);

    if (c != NULL) {
        message_end(c);
        free(c->hdrs);
        mglue_conn_free(ctx, c);
    }
    return SMFIS_CONTINUE;
}

static void *state_new(config_t *cfg, audit_t *audit, char *err, size_t errlen)
{
    return dkim_state_new(cfg, audit, err, errlen);
}

static void state_free(void *st)
{
    dkim_state_free(st);
}

#define DKIM_ACTIONS (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE)

static struct smfiDesc desc = {
    .xxfi_name = "postern-dkim",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = DKIM_ACTIONS,
    .xxfi_connect = k_connect,
    .xxfi_helo = mglue_helo,
    .xxfi_envfrom = k_envfrom,
    .xxfi_envrcpt = mglue_envrcpt,
    .xxfi_header = k_header,
    .xxfi_eoh = k_eoh,
    .xxfi_body = k_body,
    .xxfi_eom = k_eom,
    .xxfi_abort = k_abort,
    .xxfi_close = k_close,
};

static const runtime_proto_t proto = {
    .actions = DKIM_ACTIONS,
    .skip = SMFIP_NOUNKNOWN | SMFIP_NODATA,
    /* Every stage before the end of the message only collects and always
     * continues (signing and verifying are answered at the end), so over
     * unix: the MTA need not wait: one answer a message (end of it) instead of a
     * dozen. CONNECT stays answered: it refuses when memory runs out. */
    .quiet = MGLUE_QUIET_COLLECT,
    .macros = {
        [SMFIM_CONNECT] = MGLUE_CONNECT_MACROS,
        [SMFIM_ENVFROM] = MGLUE_MAIL_MACROS,
        [SMFIM_ENVRCPT] = MGLUE_QID_MACROS,
        [SMFIM_EOH] = MGLUE_QID_MACROS,
        [SMFIM_EOM] = MGLUE_QID_MACROS,
    },
};

static const conf_section_t *const own[] = { &dkim_conf_section, NULL };

const milterd_spec_t dkim_milter_spec = {
    .component = "dkim", .daemon = "postern-dkim", .sections = own,
    .desc = &desc, .proto = &proto, .state_new = state_new, .state_free = state_free,
    .metrics_init = dkim_metrics_init,
};
