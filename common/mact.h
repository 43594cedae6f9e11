/*
 * mact.h - what a milter may do with a message, as data: the action an
 * admin names in the config, the SMTP reply that goes with it, and the
 * list of incoming Authentication-Results fields to remove. No
 * libmilter here (mglue.h applies them), so the decision cores and
 * their tests use it without a socket.
 *
 * NAME
 *	mact - milter actions, replies and forged A-R tracking
 *
 * SYNOPSIS
 *	mact_t a;
 *	if (mact_parse(config_str(cfg, "spf", "on_fail"), &a) < 0) ...
 *	mact_reply_t r;
 *	mact_reply_init(&r, MACT_REJECT, "5.7.23", "SPF check failed for %s", dom);
 *
 *	mact_authres_t ar;                       (per message)
 *	mact_authres_reset(&ar);
 *	mact_authres_seen(&ar, value, len, "mx.example.org", own_methods);
 *
 * DESCRIPTION
 *	Actions: accept, tag (accept and add our header fields), reject
 *	(5xx), tempfail (4xx), discard (accept and drop) and quarantine
 *	(Postfix hold queue / Sendmail quarantine). In monitor mode every
 *	action is carried out as accept; the caller still logs and audits
 *	the action it would have taken.
 *
 *	Replies: text that came from outside (a domain, an SPF explanation)
 *	may hold anything, so mact_reply_init() replaces control characters
 *	and cuts the text at MACT_MAX_TEXT bytes, and doubles "%", which
 *	libmilter would otherwise read as a format directive.
 *
 *	Forged Authentication-Results (RFC 8601 section 5): a field that
 *	arrives with our authserv-id was not written by us unless an earlier
 *	postern milter in the same chain added it (Postfix and Sendmail show
 *	later milters the fields earlier ones added). Each of our milters
 *	adds fields that carry only its own methods, so a milter removes an
 *	incoming field with our authserv-id when it does not parse, has no
 *	results ("id; none"), or when any of its results uses one of OWN_METHODS (the methods this milter
 *	reports: a field claiming our "spf=" result is forged when the SPF
 *	milter sees it), or a method that no postern milter reports
 *	(anything but MACT_AUTHRES_METHODS). Fields with another
 *	authserv-id are never touched.
 */
#ifndef POSTERN_MACT_H
#define POSTERN_MACT_H

#include <stdbool.h>
#include <stddef.h>

#define MACT_MAX_TEXT 400
/* Methods some postern milter writes; a field of ours with any other
 * method is forged whoever sees it. */
#define MACT_AUTHRES_METHODS "spf", "dkim", "dmarc"
/* Forged Authentication-Results fields one message may carry and still
 * be cleaned; past this, overflow is set and the message is refused
 * (a sender who forges hundreds of them is not worth delivering). */
#define MACT_MAX_AUTHRES 256

typedef enum {
    MACT_ACCEPT = 0, MACT_TAG, MACT_REJECT, MACT_TEMPFAIL, MACT_DISCARD,
    MACT_QUARANTINE
} mact_t;

/* For conf_key_t choices: "accept|tag|reject|tempfail|discard|quarantine". */
#define MACT_CHOICES "accept|tag|reject|tempfail|discard|quarantine"

/* NAME -> *OUT: 0, or -1 for an unknown name. */
int mact_parse(const char *name, mact_t *out);
const char *mact_name(mact_t a);
/* The action as the audit log writes it: "reject", or "monitor:reject"
 * when MONITOR (the action was decided but not carried out). */
const char *mact_audit_name(mact_t a, bool monitor);
/* True for the actions that stop the message (reject, tempfail, discard). */
bool mact_stops(mact_t a);

typedef struct mact_reply {
    mact_t action;
    char rcode[4];              /* "550"; "" for actions without a reply */
    char xcode[8];              /* "5.7.1" */
    char text[MACT_MAX_TEXT + 1];
} mact_reply_t;

/* Fills R for ACTION: REJECT gets 550 and a 5.x.x status, TEMPFAIL 451
 * and a 4.x.x status, other actions no reply. The class of XCODE follows
 * the action (5.7.23 for a tempfail becomes 4.7.23); XCODE NULL or not a
 * status code: 5.7.1 / 4.7.1. FMT is printf-style; the text is made
 * safe as above. Use mact_reply_code() for another reply code (554). */
void mact_reply_init(mact_reply_t *r, mact_t action, const char *xcode,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Sets the reply code (e.g. "554"); ignored unless it is three digits
 * of the action's class. */
void mact_reply_code(mact_reply_t *r, const char *rcode);

typedef struct mact_authres {
    unsigned seen;              /* A-R fields so far (their index, 1-based) */
    unsigned nforged;
    unsigned forged[MACT_MAX_AUTHRES];  /* indexes to remove, ascending */
    bool overflow;              /* more than MACT_MAX_AUTHRES forged */
} mact_authres_t;

void mact_authres_reset(mact_authres_t *t);
/* Called for each incoming Authentication-Results field, in order.
 * OWN_METHODS: NULL-terminated. Returns true when this one is forged. */
bool mact_authres_seen(mact_authres_t *t, const char *value, size_t len,
                       const char *authserv_id, const char *const *own_methods);
/* The pure rule above, for one field. */
bool mact_authres_forged(const char *value, size_t len, const char *authserv_id,
                         const char *const *own_methods);

#endif
