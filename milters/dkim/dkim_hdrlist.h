/*
 * dkim_hdrlist.h - the header fields our signatures cover: the signed
 * list and the over-signed list, checked once at config load and handed
 * to libopendkim in the form it takes.
 *
 * NAME
 *	dkim_hdrlist - signed and over-signed header field names
 *
 * SYNOPSIS
 *	dkim_hdrlist_t *h = dkim_hdrlist_new(sign, nsign, over, nover, err, len);
 *	const char **names = dkim_hdrlist_signed(h);       (NULL-terminated)
 *	const char **over = dkim_hdrlist_oversigned(h);    (NULL-terminated)
 *	dkim_hdrlist_free(h);
 *
 * DESCRIPTION
 *	Names are RFC 5322 field names restricted to letters, digits, '-'
 *	and '_' (libopendkim turns the list into a regular expression, so
 *	nothing else may pass), at most DKIM_HDRLIST_MAX_NAME bytes, stored
 *	in lower case, without duplicates. "From" is always signed (RFC
 *	6376 5.4: the one field a signature must cover) and added when
 *	missing. A name that is over-signed is also signed. Fields a
 *	signature must never cover because relays change or add them
 *	(Received, Return-Path, DKIM-Signature, Authentication-Results) are
 *	refused with a message that says why.
 *
 *	Over-signing (RFC 6376 8.15): an over-signed field is listed in h=
 *	once more than it occurs, so a field of that name added after
 *	signing breaks the signature; this stops an attacker from adding a
 *	second From or Subject that a reader would see.
 *
 * RETURNS
 *	dkim_hdrlist_new: the list (caller frees), or NULL with ERR.
 */
#ifndef POSTERN_DKIM_HDRLIST_H
#define POSTERN_DKIM_HDRLIST_H

#include <stdbool.h>
#include <stddef.h>

#define DKIM_HDRLIST_MAX 64
#define DKIM_HDRLIST_MAX_NAME 64

typedef struct dkim_hdrlist dkim_hdrlist_t;

dkim_hdrlist_t *dkim_hdrlist_new(const char *const *sign, size_t nsign,
                                 const char *const *over, size_t nover,
                                 char *err, size_t errlen);
void dkim_hdrlist_free(dkim_hdrlist_t *h);

const char **dkim_hdrlist_signed(const dkim_hdrlist_t *h);
const char **dkim_hdrlist_oversigned(const dkim_hdrlist_t *h);
/* True when NAME (any case) is in the signed / over-signed list. */
bool dkim_hdrlist_is_signed(const dkim_hdrlist_t *h, const char *name);
bool dkim_hdrlist_is_oversigned(const dkim_hdrlist_t *h, const char *name);

#endif
