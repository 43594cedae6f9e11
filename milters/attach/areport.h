/*
 * areport.h - how postern-attach tells what it decided: the audit
 * record's "extra" object, the syslog line, the SMTP reply text, the
 * tag header value and the notice that replaces a stripped part. Pure
 * formatting over the walk, the rules' verdict and the decision.
 *
 * NAME
 *	areport - decision reports of postern-attach
 *
 * SYNOPSIS
 *	areport_t rp = { items, nitems, walk_flags, warning, rules, &verdict,
 *	                 &decision, size, monitor };
 *	json_t *x = areport_json(&rp);
 *	areport_line(&rp, buf, sizeof(buf));
 *	areport_reply(&rp, text, sizeof(text));
 *
 * DESCRIPTION
 *	Everything names the decisive hit: the part path, the file name
 *	(made safe with adecide_safe_name), the declared and true types,
 *	the rule and its reason. areport_json lists every hit (up to
 *	AREPORT_MAX_HITS) with those fields, plus the walk's flags and
 *	GMime's first complaint, the part count and the message size.
 *
 *	areport_notice fills "{name}" and "{reason}" in the admin's
 *	template (no other expansion, so the template cannot inject
 *	anything) for the hit HIT.
 */
#ifndef POSTERN_AREPORT_H
#define POSTERN_AREPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "adecide.h"
#include "arule.h"
#include "awalk.h"

#define AREPORT_MAX_HITS 50

typedef struct areport {
    const awalk_item_t *items;          /* may be NULL when not walked */
    size_t nitems;
    unsigned walk_flags;
    const char *warning;                /* "" or GMime's complaint */
    const arule_set_t *rules;
    const arule_verdict_t *verdict;
    const adecision_t *decision;
    uint64_t size;
    bool monitor;
    bool too_big;
} areport_t;

/* New object; caller json_decref()s. NULL when out of memory. */
json_t *areport_json(const areport_t *rp);
void areport_line(const areport_t *rp, char *buf, size_t len);
void areport_reply(const areport_t *rp, char *buf, size_t len);
void areport_tag(const areport_t *rp, char *buf, size_t len);
void areport_notice(const areport_t *rp, const arule_hit_t *hit, const char *tmpl,
                    char *buf, size_t len);

#endif
