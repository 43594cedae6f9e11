/*
 * avpolicy.h - what postern-av does with a scan result: the configured
 * action, the SMTP reply and the header field. Pure: no libmilter, no
 * scanner.
 *
 * NAME
 *	avpolicy - scan result to action
 *
 * SYNOPSIS
 *	avpolicy_t p;
 *	avpolicy_init(&p, "reject", "tempfail", "tempfail", false, err, sizeof(err));
 *	avpolicy_verdict_t v;
 *	avpolicy_decide(&p, &result, &v);
 *
 * DESCRIPTION
 *	infected: on_infected (reject with 554 5.7.1 naming the signature,
 *	discard, quarantine, or tag: accept with the header field).
 *	error and limit: on_error / on_limit (tempfail 451 4.3.0 / 4.3.4,
 *	reject 554, quarantine, tag or accept). Mail that goes through
 *	unscanned (accept or tag after an error or limit, or no database
 *	with on_no_database = pass) sets V.unscanned so the caller logs it
 *	at warning level: never a silent accept.
 *	clean: accept.
 *
 *	The header field is added for tag, and for every result when
 *	ADD_HEADER. Its value says the result: "postern-av; clean",
 *	"postern-av; infected (NAME)", "postern-av; unscanned (limit)".
 *	SMTP replies never carry an internal error text (a socket path, a
 *	library message): those go to the log and the audit record.
 */
#ifndef POSTERN_AVPOLICY_H
#define POSTERN_AVPOLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "mact.h"

#include "avscan.h"

typedef struct avpolicy {
    mact_t on_infected, on_error, on_limit;
    bool add_header;
} avpolicy_t;

#define AVPOLICY_MAX_VALUE (AVSCAN_MAX_NAME + 64)

typedef struct avpolicy_verdict {
    mact_reply_t reply;         /* reply.action is the action */
    bool header;                /* add our header field */
    char value[AVPOLICY_MAX_VALUE];
    bool unscanned;             /* mail passes without a verdict */
} avpolicy_verdict_t;

/* Action names as in [av]: 0, or -1 with ERR naming the bad one. */
int avpolicy_init(avpolicy_t *p, const char *on_infected, const char *on_error,
                  const char *on_limit, bool add_header, char *err, size_t errlen);

void avpolicy_decide(const avpolicy_t *p, const avscan_result_t *r, avpolicy_verdict_t *v);

#endif
