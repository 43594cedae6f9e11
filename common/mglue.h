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
 *	xxfi_connect:  e = mglue_connect(ctx, host, sa);  smfi_setpriv(...)
 *	xxfi_envfrom:  mglue_mail(ctx, e, argv);
 *	xxfi_envrcpt:  mglue_rcpt(ctx, e, argv);
 *	xxfi_eom:      mglue_qid(ctx, e);
 *	               mglue_authres_strip(ctx, &tracker);
 *	               mglue_authres_add(ctx, value);
 *	               return mglue_apply(ctx, &reply, monitor);
 *
 * DESCRIPTION
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

#include <libmilter/mfapi.h>

#include "mact.h"
#include "menv.h"

/* smfiDesc flags: SMFIF_QUARANTINE for MACT_QUARANTINE, SMFIF_ADDHDRS
 * for mglue_authres_add, SMFIF_CHGHDRS for mglue_authres_strip. */

/* Macro lists for runtime_proto_t.macros, per stage. */
#define MGLUE_CONNECT_MACROS "{daemon_name}"
#define MGLUE_MAIL_MACROS "i {auth_authen}"
#define MGLUE_QID_MACROS "i"

/* New menv_t from the connect callback's arguments; NULL when out of
 * memory (the caller tempfails). */
menv_t *mglue_connect(SMFICTX *ctx, const char *host, const struct sockaddr *sa);
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
