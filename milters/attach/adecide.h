/*
 * adecide.h - the message's fate from the rules' verdict and what the
 * walk could not do: the one place where limits, suspicious MIME and
 * rule actions are weighed against each other. Pure.
 *
 * NAME
 *	adecide - final decision of postern-attach
 *
 * SYNOPSIS
 *	adecide_conf_t c = { MACT_REJECT, MACT_REJECT };
 *	adecision_t d;
 *	adecide(&c, awalk_flags(r), too_big, &verdict, &d);
 *	... d.action, d.strip, d.cause ...
 *
 * DESCRIPTION
 *	Rule actions map to milter actions: reject -> reject, quarantine
 *	-> quarantine, strip -> tag plus strip, tag -> tag, allow ->
 *	accept. A walk stopped by a limit (or a message too large to
 *	examine: TOO_BIG) adds the on_limit action; suspicious MIME
 *	(AWALK_SUSPECT, AWALK_NOT_MIME) adds on_suspect. The most severe
 *	wins: reject > tempfail > quarantine > tag > accept; a rule's
 *	strip is kept only when the result is tag (a message that is held
 *	or refused is not rewritten). The cause names what decided: "rule",
 *	"limit", "suspect" or "clean".
 *
 *	adecide_safe_name() makes a file name fit an SMTP reply, a header
 *	field and the notice text: printable ASCII only (others become
 *	'?'; '"' and '\' become '_'), cut at ADECIDE_NAME_MAX bytes with
 *	"..." appended.
 */
#ifndef POSTERN_ADECIDE_H
#define POSTERN_ADECIDE_H

#include <stdbool.h>
#include <stddef.h>

#include "mact.h"

#include "arule.h"

#define ADECIDE_NAME_MAX 80

typedef struct adecide_conf {
    mact_t on_limit;
    mact_t on_suspect;
} adecide_conf_t;

typedef struct adecision {
    mact_t action;
    bool strip;
    const char *cause;
} adecision_t;

void adecide(const adecide_conf_t *c, unsigned walk_flags, bool too_big,
             const arule_verdict_t *v, adecision_t *d);

/* OUT must hold ADECIDE_NAME_MAX + 4 bytes; returns OUT. */
char *adecide_safe_name(const char *name, char *out);

#endif
