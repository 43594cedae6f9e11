/*
 * dtestmilter.c - a milter built the way every postern milter is, on
 * milterd, menv, mglue and mact, for the tests of those modules only.
 *
 *   postern-dtestmilter [-c FILE] [-f] [-n] [-d]
 *
 * Config section [dtest]: the milter keys plus "action" and "text". At
 * end of message it removes forged "spf" Authentication-Results fields
 * (our authserv-id), adds "ID; spf=pass smtp.mailfrom=FROM", carries out
 * the configured action and writes one audit record. SIGHUP rereads
 * the file, so a test can change the action while mail flows.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libmilter/mfapi.h>

#include "audit.h"
#include "authres.h"
#include "config.h"
#include "log.h"
#include "mact.h"
#include "menv.h"
#include "mglue.h"
#include "milterd.h"

static const conf_key_t dtest_keys[] = {
    { "action", CONF_ENUM, "accept", MACT_CHOICES, 0, 0, "What to do with every message." },
    { "text", CONF_STRING, "refused by the test milter", NULL, 0, 0, "Reply text." },
    { NULL, CONF_STRING, NULL, NULL, 0, 0, NULL }
};
static const conf_key_t *const dtest_keysets[] = { conf_milter_keys, dtest_keys, NULL };
static const conf_section_t dtest_section = { "dtest", "Test milter.", dtest_keysets, false };
static const conf_section_t *const own[] = { &dtest_section, NULL };

typedef struct state {
    mact_t action;
    bool monitor;
    char text[MACT_MAX_TEXT];
    char authserv_id[256];
    audit_t *audit;
} state_t;

typedef struct conn {
    menv_t *env;                /* first: see mglue.h */
    mact_authres_t ar;
} conn_t;

static const char *const own_methods[] = { "spf", NULL };

static void *state_new(config_t *cfg, audit_t *audit, char *err, size_t errlen)
{
    state_t *st = calloc(1, sizeof(*st));

    if (st == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    mact_parse(config_str(cfg, "dtest", "action"), &st->action);
    st->monitor = strcmp(config_str(cfg, "dtest", "mode"), "monitor") == 0;
    snprintf(st->text, sizeof(st->text), "%s", config_str(cfg, "dtest", "text"));
    milterd_authserv_id(cfg, st->authserv_id, sizeof(st->authserv_id));
    st->audit = audit;
    return st;
}

static void state_free(void *st)
{
    free(st);
}

static conn_t *conn_of(SMFICTX *ctx)
{
    return smfi_getpriv(ctx);
}

static sfsistat d_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
    if (mglue_conn_new(ctx, host, sa, sizeof(conn_t)) == NULL)
        return SMFIS_TEMPFAIL;
    return SMFIS_CONTINUE;
}

static sfsistat d_envfrom(SMFICTX *ctx, char **argv)
{
    conn_t *c = conn_of(ctx);

    mglue_mail(ctx, c->env, argv);
    mact_authres_reset(&c->ar);
    return SMFIS_CONTINUE;
}

static sfsistat d_header(SMFICTX *ctx, char *name, char *value)
{
    state_t *st;

    menv_header(conn_of(ctx)->env, name, value);
    if (strcasecmp(name, "Authentication-Results") != 0)
        return SMFIS_CONTINUE;
    st = milterd_acquire();
    mact_authres_seen(&conn_of(ctx)->ar, value, strlen(value), st->authserv_id, own_methods);
    milterd_release(st);
    return SMFIS_CONTINUE;
}

static void add_our_field(SMFICTX *ctx, const state_t *st, const menv_t *e)
{
    authres_builder_t *b = authres_builder_new(st->authserv_id);
    char value[1024];

    if (b != NULL && authres_add(b, "spf", "pass", NULL) == 0
        && authres_add_prop(b, "smtp", "mailfrom", *menv_from(e) ? menv_from(e) : "postmaster")
               == 0
        && authres_format(b, value, sizeof(value)) > 0)
        mglue_authres_add(ctx, value);
    authres_builder_free(b);
}

static sfsistat d_eom(SMFICTX *ctx)
{
    conn_t *c = conn_of(ctx);
    state_t *st = milterd_acquire();
    mact_reply_t r;
    char err[256];
    sfsistat rc;

    mglue_qid(ctx, c->env);
    mact_reply_init(&r, st->action, NULL, "%s", st->text);
    if (!st->monitor) {
        if (mglue_authres_strip(ctx, &c->ar) < 0)
            mact_reply_init(&r, MACT_REJECT, "5.7.1", "too many forged header fields");
        add_our_field(ctx, st, c->env);
    }
    audit_record_t a = { .step = "eom", .result = "pass", .reason = "test",
                         .action = mact_audit_name(r.action, st->monitor),
                         .ms = menv_elapsed_ms(c->env) };
    menv_audit_fill(c->env, &a);
    if (audit_write(st->audit, &a, err, sizeof(err)) < 0)
        log_warn("audit: %s", err);
    log_info("%s: dtest: from=<%s> forged=%u action=%s%s",
             menv_qid(c->env) ? menv_qid(c->env) : "NOQUEUE", menv_from(c->env),
             c->ar.nforged, mact_name(r.action), st->monitor ? " (monitor)" : "");
    rc = mglue_apply(ctx, &r, st->monitor);
    milterd_release(st);
    return rc;
}

static struct smfiDesc desc = {
    .xxfi_name = "postern-dtestmilter",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
    .xxfi_connect = d_connect,
    .xxfi_helo = mglue_helo,
    .xxfi_envfrom = d_envfrom,
    .xxfi_envrcpt = mglue_envrcpt,
    .xxfi_header = d_header,
    .xxfi_eom = d_eom,
    .xxfi_close = mglue_close,
};

static const runtime_proto_t proto = {
    .actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
    .skip = SMFIP_NOBODY | SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_NOEOH,
    .macros = {
        [SMFIM_CONNECT] = MGLUE_CONNECT_MACROS,
        [SMFIM_ENVFROM] = MGLUE_MAIL_MACROS,
        [SMFIM_ENVRCPT] = MGLUE_QID_MACROS,
        [SMFIM_EOM] = MGLUE_QID_MACROS,
    },
};

static const milterd_spec_t spec = {
    .component = "dtest", .daemon = "postern-dtestmilter", .sections = own,
    .desc = &desc, .proto = &proto, .state_new = state_new, .state_free = state_free,
};

int main(int argc, char **argv)
{
    return milterd_main(&spec, argc, argv);
}
