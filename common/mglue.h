/*
 * mglue.h - the few libmilter calls every postern milter makes the same
 * way: filling its menv_t from the callbacks' arguments and macros,
 * carrying out an action with its reply, and writing or removing
 * Authentication-Results fields.
 *
 * NAME
 *	mglue - shared libmilter glue
 *
 * SYNOPSIS
 *	typedef struct conn { menv_t *env; ...the milter's own... } conn_t;
 *	xxfi_connect:  c = mglue_conn_new(ctx, host, sa, sizeof(conn_t));
 *	xxfi_helo:     mglue_helo (as the callback itself)
 *	xxfi_envfrom:  mglue_mail(ctx, c->env, argv);
 *	xxfi_envrcpt:  mglue_envrcpt (as the callback itself), or
 *	               mglue_rcpt(ctx, c->env, argv);
 *	xxfi_close:    ...free the milter's own...; mglue_conn_free(ctx, c);
 *	               or mglue_close (as the callback itself)
 *	xxfi_eom:      mglue_qid(ctx, e);
 *	               mglue_authres_strip(ctx, &tracker);
 *	               mglue_authres_add(ctx, value);
 *	               return mglue_apply(ctx, &reply, monitor);
 *
 * DESCRIPTION
 *	A milter's per-connection block starts with its menv_t pointer, so
 *	the ready-made callbacks (mglue_helo, mglue_envrcpt) can reach the
 *	envelope without knowing the rest of the block. mglue_conn_new
 *	allocates the block zeroed, fills the envelope from the connect
 *	arguments and "{daemon_name}", and hands the block to
 *	smfi_setpriv; NULL when out of memory (the caller tempfails).
 *	mglue_conn_free frees the envelope and the block and clears the
 *	private pointer; NULL does nothing.
 *
 *	mglue_mail reads the macros "{i}", "{auth_authen}" and
 *	"{daemon_name}"; a milter that needs them must list them in its
 *	runtime_proto_t (MGLUE_MAIL_MACROS, MGLUE_CONNECT_MACROS, ...).
 *
 *	mglue_apply turns an action into libmilter's terms: REJECT and
 *	TEMPFAIL set the reply and return SMFIS_REJECT / SMFIS_TEMPFAIL;
 *	DISCARD returns SMFIS_DISCARD; QUARANTINE calls smfi_quarantine
 *	(end of message only) and continues; ACCEPT and TAG continue. With
 *	MONITOR it always continues and changes nothing. Either way the
 *	action is counted (mmetrics: postern_milter_actions_total).
 *
 *	Our fields go at the top of the header (index 0), where RFC 8601
 *	wants trace fields; forged ones are removed from the highest index
 *	down, so each index still names the field it named on arrival.
 */
#ifndef POSTERN_MGLUE_H
#define POSTERN_MGLUE_H

#include <stdbool.h>
#include <stddef.h>

#include <libmilter/mfapi.h>

#include "mact.h"
#include "menv.h"

/* smfiDesc flags: SMFIF_QUARANTINE for MACT_QUARANTINE, SMFIF_ADDHDRS
 * for mglue_authres_add, SMFIF_CHGHDRS for mglue_authres_strip. */

/* runtime_proto_t.quiet of a milter whose callbacks before the end of
 * the message only ever continue (it collects, then decides at the end):
 * over unix: the MTA sends those stages without waiting for answers.
 * DATA is listed because the runtime always takes it (see runtime.c). */
#define MGLUE_QUIET_COLLECT (SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT \
                             | SMFIP_NR_DATA | SMFIP_NR_HDR | SMFIP_NR_EOH \
                             | SMFIP_NR_BODY)

/* Macro lists for runtime_proto_t.macros, per stage. */
#define MGLUE_CONNECT_MACROS "{daemon_name}"
#define MGLUE_MAIL_MACROS "i {auth_authen}"
#define MGLUE_QID_MACROS "i"

void *mglue_conn_new(SMFICTX *ctx, const char *host, const struct sockaddr *sa,
                     size_t size);
void mglue_conn_free(SMFICTX *ctx, void *conn);
/* The envelope of the connection CTX belongs to. */
menv_t *mglue_env(SMFICTX *ctx);
sfsistat mglue_helo(SMFICTX *ctx, char *helo);
sfsistat mglue_envrcpt(SMFICTX *ctx, char **argv);
/* xxfi_close for a milter with nothing of its own to free. */
sfsistat mglue_close(SMFICTX *ctx);

void mglue_mail(SMFICTX *ctx, menv_t *e, char **argv);
void mglue_rcpt(SMFICTX *ctx, menv_t *e, char **argv);
/* Picks up "{i}" when the MTA now has it. */
void mglue_qid(SMFICTX *ctx, menv_t *e);

sfsistat mglue_apply(SMFICTX *ctx, const mact_reply_t *r, bool monitor);

/* Removes the fields T marked as forged. 0, or -1 when libmilter refused
 * one or T overflowed (the caller refuses the message). */
int mglue_authres_strip(SMFICTX *ctx, const mact_authres_t *t);
/* Inserts "Authentication-Results: VALUE" at the top. 0 or -1. */
int mglue_authres_add(SMFICTX *ctx, const char *value);

#endif
