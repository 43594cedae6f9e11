/*
 * arule.h - the attachment rules: compiled once from the
 * "[attach-rule NAME]" sections, then matched against the parts a walk
 * found (awalk.h) and the envelope. Pure: no I/O, no libmilter.
 *
 * NAME
 *	arule - attachment policy rules
 *
 * SYNOPSIS
 *	arule_set_t *rs = arule_set_new(cfg, err, sizeof(err));
 *	arule_env_t env = { "example.com", rcpts, nrcpt, msgsize };
 *	arule_verdict_t v;
 *	arule_eval(rs, &env, items, nitems, &v);
 *	... v.action, v.hits[v.decisive] ...
 *	arule_verdict_free(&v);
 *	arule_set_free(rs);
 *
 * DESCRIPTION
 *	A rule has match keys and an action. It matches an item (a MIME
 *	part or an archive entry) when every match key it sets matches;
 *	keys left out do not count. Rules are tried in file order and the
 *	first that matches an item decides that item's action, so an
 *	"allow" rule placed first makes an exception. A rule whose
 *	except_senders / except_recipients apply to the envelope is
 *	skipped. A rule with message_size is a message rule: it matches
 *	the message as a whole when it is larger (and may set no item key).
 *
 *	Match keys: ext (any extension of the cleaned file name, or the
 *	last with ext_last_only; both the filename and a differing
 *	Content-Type name are checked), name_trick (aname.h ANAME_TRICKS),
 *	true_type and declared_type ("type/subtype", or "type/" for any
 *	subtype),
 *	mismatch (arule_mismatch), encrypted, unreadable, max_depth
 *	(archive levels above it), max_size (attachments and entries
 *	larger than it).
 *
 *	The message's action is the most severe among its items' actions:
 *	reject > quarantine > strip > tag > allow. hits[] lists every item
 *	(and the message, item ARULE_MESSAGE) a rule matched, in walk
 *	order; decisive is the first hit with the message's action, or -1
 *	when nothing matched.
 *
 * RETURNS
 *	arule_set_new: a set (possibly empty), or NULL with ERR
 *	("[attach-rule NAME] message_size: ...") for a rule that cannot work.
 *	arule_eval: 0, or -1 when out of memory.
 */
#ifndef POSTERN_ARULE_H
#define POSTERN_ARULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#include "awalk.h"

typedef enum {
    ARULE_ALLOW = 0, ARULE_TAG, ARULE_STRIP, ARULE_QUARANTINE, ARULE_REJECT
} arule_action_t;

#define ARULE_MESSAGE ((size_t) -1)

typedef struct arule_set arule_set_t;

typedef struct arule_env {
    const char *from_domain;            /* "" for the null sender */
    const char *const *rcpt;            /* addresses */
    size_t nrcpt;
    uint64_t message_size;
} arule_env_t;

typedef struct arule_hit {
    size_t item;                        /* index, or ARULE_MESSAGE */
    size_t rule;
    arule_action_t action;
    char reason[160];                   /* "extension exe", ... */
} arule_hit_t;

typedef struct arule_verdict {
    arule_action_t action;
    int decisive;
    arule_hit_t *hits;
    size_t nhits;
} arule_verdict_t;

arule_set_t *arule_set_new(const config_t *cfg, char *err, size_t errlen);
void arule_set_free(arule_set_t *rs);
size_t arule_set_count(const arule_set_t *rs);
const char *arule_set_name(const arule_set_t *rs, size_t i);

int arule_eval(const arule_set_t *rs, const arule_env_t *env, const awalk_item_t *items,
               size_t n, arule_verdict_t *v);
void arule_verdict_free(arule_verdict_t *v);

const char *arule_action_name(arule_action_t a);

/* True when DECLARED contradicts TRUE_TYPE: both are specific (not
 * empty, application/octet-stream or plain text) and they are neither
 * equal, nor of one media family (image/jpeg vs image/pjpeg), nor
 * aliases (application/x-gzip vs application/gzip), nor both kinds of
 * zip container (a .docx is a zip) or of OLE compound file. */
bool arule_mismatch(const char *declared, const char *true_type);

/* True when DOMAIN is one of LIST or a subdomain of one. */
bool arule_domain_in(const char *domain, const char *const *list, size_t n);

#endif
