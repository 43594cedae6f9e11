/*
 * why.h - select the audit records that belong to one message, or that
 * match a sender, recipient or time, and name the outcome.
 *
 * NAME
 *	why - the decision core of "postern why"
 *
 * DESCRIPTION
 *	A query has a queue id, or filters (envelope sender, one recipient,
 *	not before a time), or both. Records are JSON objects as
 *	docs/audit-log.md describes them. Components record steps made
 *	before the MTA assigned a queue id under a connection id ("conn");
 *	once any record of the connection names the queue id, those
 *	steps belong to the message too, so a queue id query reads the log
 *	twice: once to learn the connection ids, once to select.
 *
 *	why_needles() names what a byte search of the whole file can look
 *	for, and why_prefilter() checks a line found that way without
 *	parsing JSON: only the few lines that pass are parsed, which is
 *	what makes a 1 GB log a matter of seconds.
 *	All functions are pure.
 */
#ifndef POSTERN_WHY_H
#define POSTERN_WHY_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define WHY_MAX_CONNS 64

typedef struct why_query {
    const char *qid;            /* NULL: any */
    const char *from, *to;      /* NULL: any; compared case-insensitively */
    const char *since;          /* RFC 3339 prefix, e.g. 2026-11-25T06:00; NULL: any */
    const char *conns[WHY_MAX_CONNS];  /* learned connection ids */
    size_t nconns;
} why_query_t;

/* The byte strings one of which every line that matches Q holds, for a
 * search of the whole file before lines are looked at (logscan.h): the
 * queue id and the learned connection ids; or else the sender, or else
 * the recipient, to be compared regardless of case (*NOCASE). Writes at
 * most MAX pointers (borrowed from Q) to OUT and returns how many; 0
 * when no byte string narrows the search (a --since query alone, or an
 * address JSON would escape). */
size_t why_needles(const why_query_t *q, const char **out, size_t max, bool *nocase);

/* False when LINE cannot match Q (cheap); true means "parse and ask
 * why_match". */
bool why_prefilter(const why_query_t *q, const char *line, size_t len);

/* Whether record R matches Q. */
bool why_match(const why_query_t *q, const json_t *r);

/* How severe an action is, to name the final outcome: reject 5,
 * tempfail/defer 4, discard 3, quarantine/hold 2, tag/warn 1, accept/
 * dunno/continue 0; "monitor:..." actions count as 0 (they changed
 * nothing). */
int why_severity(const char *action);

#endif
