/*
 * hdrlist.h - the header block the next milter of a chain sees: the
 * message's own fields plus the header edits of the milters before it,
 * as Postfix's cleanup server writes them into the queue file between
 * milters (docs: mta-facts "Milter chains").
 *
 * NAME
 *	hdrlist - a message's header fields with milter edits applied
 *
 * SYNOPSIS
 *	hdrlist_t *h = hdrlist_new();
 *	hdrlist_reset(h, msg);                 (per message)
 *	hdrlist_apply(h, &pkt);                (each ADDHEADER, INSHEADER,
 *	                                        CHGHEADER of milter i)
 *	for (i = 0; i < hdrlist_count(h); i++)  (what milter i+1 gets)
 *		hdrlist_name(h, i), hdrlist_value(h, i)
 *	hdrlist_free(h);
 *
 * DESCRIPTION
 *	Values keep the form msgfile gives them: the text after the colon,
 *	with its leading space. A field a milter adds gets one space in
 *	front unless its value starts with white space, as Postfix writes
 *	"name: value" (the sender strips it again without
 *	SMFIP_HDR_LEADSPC).
 *
 *	ADDHEADER appends; INSHEADER inserts before the field at its index
 *	(0 is the top; past the end appends); CHGHEADER replaces the
 *	index-th (from 1) field of that name, compared without case, or
 *	deletes it when the value is empty, or appends the field when there
 *	is no such occurrence (libmilter's smfi_chgheader contract). Other
 *	replies are ignored. The message's own strings are borrowed (the
 *	message must outlive the list until the next reset); added ones are
 *	owned and freed at reset.
 *
 *	Packets must have passed mproto_reply_check(): their shape is
 *	trusted here.
 *
 * RETURNS
 *	hdrlist_new: a list, or NULL when memory runs out.
 *	hdrlist_reset, hdrlist_apply: 0, or -1 when the list is full
 *	(HDRLIST_MAX fields) or memory runs out; the list is then unchanged.
 */
#ifndef POSTERN_HDRLIST_H
#define POSTERN_HDRLIST_H

#include <stddef.h>

#include "mproto.h"
#include "msgfile.h"

/* The message's own fields plus what a chain can add to them. */
#define HDRLIST_MAX (MSGFILE_MAX_HEADERS + 256)

typedef struct hdrlist hdrlist_t;

hdrlist_t *hdrlist_new(void);
void hdrlist_free(hdrlist_t *h);

int hdrlist_reset(hdrlist_t *h, const msgfile_t *m);
int hdrlist_apply(hdrlist_t *h, const mproto_pkt_t *pkt);

size_t hdrlist_count(const hdrlist_t *h);
const char *hdrlist_name(const hdrlist_t *h, size_t i);
const char *hdrlist_value(const hdrlist_t *h, size_t i);

#endif
