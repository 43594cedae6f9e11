/*
 * menv.h - what a milter knows about one SMTP connection and the
 * message in it: client, HELO, envelope, queue id, SASL login, daemon
 * name. Plain data with bounded copies; no libmilter in it.
 *
 * NAME
 *	menv - connection and envelope of a milter session
 *
 * SYNOPSIS
 *	menv_t *e = menv_new("mail.example.net", sa);     (connect)
 *	menv_set_helo(e, "mail.example.net");             (helo)
 *	menv_mail(e, "<a@example.net>", qid, auth, dname);  (envfrom)
 *	menv_rcpt(e, "<b@example.org>");                  (envrcpt)
 *	menv_set_qid(e, qid);                             (data, eom)
 *	audit_record_t r = { .step = "verify", ... };
 *	menv_audit_fill(e, &r);
 *	menv_free(e);                                     (close)
 *
 * DESCRIPTION
 *	Every string is copied, cut at a fixed bound (addresses at
 *	MENV_MAX_ADDR bytes, HELO and host names at MENV_MAX_NAME) and
 *	stripped of control characters, so nothing a client sent can break a
 *	log line or an audit record. Envelope addresses lose their angle
 *	brackets; the null sender "<>" becomes "".
 *
 *	The connection id (menv_conn_id) is unique within the process and
 *	is what the audit trail keys on until the MTA has a queue id
 *	(Postfix assigns "{i}" only after the first accepted recipient).
 *
 *	The first MENV_MAX_RCPT recipients are kept; menv_rcpt_total()
 *	counts all of them.
 *
 *	One menv_t belongs to one libmilter session, and libmilter runs a
 *	session's callbacks one at a time: no locking.
 */
#ifndef POSTERN_MENV_H
#define POSTERN_MENV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "audit.h"
#include "netlist.h"

#define MENV_MAX_ADDR 320       /* RFC 5321: 64 + 1 + 255 */
#define MENV_MAX_NAME 256
#define MENV_MAX_RCPT 100
#define MENV_MAX_MSGID 256

typedef struct menv menv_t;

/* HOSTNAME is what the MTA's connect callback passed (may be NULL); SA
 * the client address (NULL or not IPv4/IPv6: "unknown"). NULL only when
 * out of memory. */
menv_t *menv_new(const char *hostname, const struct sockaddr *sa);
void menv_free(menv_t *e);

void menv_set_helo(menv_t *e, const char *helo);

/* Starts a message: FROM as the MTA sent it ("<a@b>", "<>"), and the
 * macros known at MAIL: QID ("{i}"), AUTH ("{auth_authen}") and DNAME
 * ("{daemon_name}"), each may be NULL. Clears the recipients and the
 * previous message's queue id, and starts the message clock. */
void menv_mail(menv_t *e, const char *from, const char *qid, const char *auth,
               const char *dname);
void menv_rcpt(menv_t *e, const char *rcpt);
/* Sets the queue id when QID is non-empty (later stages learn it). */
void menv_set_qid(menv_t *e, const char *qid);
/* Sets "{daemon_name}" when non-empty (Postfix sends it at connect). */
void menv_set_daemon_name(menv_t *e, const char *dname);
/* Every header field, from the header callback: keeps what the audit
 * trail needs (the Message-ID, for "postern why --message-id"). */
void menv_header(menv_t *e, const char *name, const char *value);

const char *menv_conn_id(const menv_t *e);
const char *menv_client_ip(const menv_t *e);      /* "unknown" when none */
const char *menv_client_host(const menv_t *e);    /* "" when none */
/* Client address: AF_INET/AF_INET6 and its bytes, or AF_UNSPEC. */
int menv_client_af(const menv_t *e, const void **addr);
const char *menv_helo(const menv_t *e);           /* "" before HELO */
const char *menv_from(const menv_t *e);           /* "" for the null sender */
/* Domain of the envelope sender, "" when it has none. */
const char *menv_from_domain(const menv_t *e);
const char *menv_qid(const menv_t *e);            /* NULL until known */
const char *menv_auth(const menv_t *e);           /* NULL when not SASL */
const char *menv_daemon_name(const menv_t *e);    /* NULL when not sent */
const char *menv_msgid(const menv_t *e);          /* NULL until seen */
size_t menv_rcpts(const menv_t *e, const char *const **list);
size_t menv_rcpt_total(const menv_t *e);
/* Milliseconds since menv_mail (or menv_new). */
double menv_elapsed_ms(const menv_t *e);

/* True when the client address is in NL (NULL: false). */
bool menv_client_in(const menv_t *e, const netlist_t *nl);

/* Fills qid, conn, client_ip, helo, from, rcpt and msgid of R from E (borrowed
 * pointers: valid while E is unchanged). Other fields are left alone. */
void menv_audit_fill(const menv_t *e, audit_record_t *r);

#endif
