/*
 * mglue.c - the libmilter calls every postern milter makes the same
 * way: envelope capture, carrying out a reply, our A-R fields.
 */
#include <stdio.h>
#include <stdlib.h>

#include <libmilter/mfapi.h>

#include "log.h"
#include "mglue.h"
#include "mmetrics.h"

#define AR_NAME "Authentication-Results"

/* The block's first member is its menv_t pointer (see mglue.h). */
void *mglue_conn_new(SMFICTX *ctx, const char *host, const struct sockaddr *sa,
                     size_t size)
{
    menv_t **c;

    if (size < sizeof(menv_t *) || (c = calloc(1, size)) == NULL)
        return NULL;
    if ((*c = menv_new(host, sa)) == NULL) {
        free(c);
        return NULL;
    }
    menv_set_daemon_name(*c, smfi_getsymval(ctx, "{daemon_name}"));
    smfi_setpriv(ctx, c);
    return c;
}

void mglue_conn_free(SMFICTX *ctx, void *conn)
{
    menv_t **c = conn;

    if (c == NULL)
        return;
    menv_free(*c);
    free(c);
    smfi_setpriv(ctx, NULL);
}

sfsistat mglue_close(SMFICTX *ctx)
{
    mglue_conn_free(ctx, smfi_getpriv(ctx));
    return SMFIS_CONTINUE;
}

menv_t *mglue_env(SMFICTX *ctx)
{
    menv_t **c = smfi_getpriv(ctx);

    return c == NULL ? NULL : *c;
}

sfsistat mglue_helo(SMFICTX *ctx, char *helo)
{
    menv_t *e = mglue_env(ctx);

    if (e != NULL)
        menv_set_helo(e, helo);
    return SMFIS_CONTINUE;
}

sfsistat mglue_envrcpt(SMFICTX *ctx, char **argv)
{
    menv_t *e = mglue_env(ctx);

    if (e != NULL)
        mglue_rcpt(ctx, e, argv);
    return SMFIS_CONTINUE;
}

void mglue_mail(SMFICTX *ctx, menv_t *e, char **argv)
{
    menv_mail(e, argv != NULL ? argv[0] : NULL, smfi_getsymval(ctx, "i"),
              smfi_getsymval(ctx, "{auth_authen}"), smfi_getsymval(ctx, "{daemon_name}"));
}

void mglue_rcpt(SMFICTX *ctx, menv_t *e, char **argv)
{
    menv_rcpt(e, argv != NULL ? argv[0] : NULL);
    menv_set_qid(e, smfi_getsymval(ctx, "i"));
}

void mglue_qid(SMFICTX *ctx, menv_t *e)
{
    menv_set_qid(e, smfi_getsymval(ctx, "i"));
}

sfsistat mglue_apply(SMFICTX *ctx, const mact_reply_t *r, bool monitor)
{
    mmetrics_action(r->action, !monitor);
    if (monitor)
        return SMFIS_CONTINUE;
    switch (r->action) {
    case MACT_REJECT:
    case MACT_TEMPFAIL:
        /* A refused reply only loses our text; the MTA's default code
         * still carries the verdict. */
        if (smfi_setreply(ctx, (char *) r->rcode, (char *) r->xcode,
                          (char *) r->text) != MI_SUCCESS)
            log_warn("could not set reply \"%s %s %s\"", r->rcode, r->xcode, r->text);
        return r->action == MACT_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
    case MACT_DISCARD:
        return SMFIS_DISCARD;
    case MACT_QUARANTINE:
        if (smfi_quarantine(ctx, (char *) (r->text[0] ? r->text : "held by postern"))
            != MI_SUCCESS) {
            /* Delivering what policy says to hold is the wrong way to fail. */
            log_warn("quarantine refused by the MTA; deferring the message");
            return SMFIS_TEMPFAIL;
        }
        return SMFIS_CONTINUE;
    case MACT_ACCEPT:
    case MACT_TAG:
        break;
    }
    return SMFIS_CONTINUE;
}

int mglue_authres_strip(SMFICTX *ctx, const mact_authres_t *t)
{
    int rc = t->overflow ? -1 : 0;

    for (unsigned i = t->nforged; i > 0; i--)
        if (smfi_chgheader(ctx, AR_NAME, (int) t->forged[i - 1], NULL) != MI_SUCCESS)
            rc = -1;
    return rc;
}

int mglue_authres_add(SMFICTX *ctx, const char *value)
{
    return smfi_insheader(ctx, 0, AR_NAME, (char *) value) == MI_SUCCESS ? 0 : -1;
}
