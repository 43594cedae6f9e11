/*
 * pkeycache.h - DKIM public keys parsed once, not for every
 * signature checked.
 *
 * NAME
 *	pkeycache - parsed public keys by the bytes of their DER form
 *
 * SYNOPSIS
 *	EVP_PKEY *k = pkeycache_get(der, len);   (a new reference)
 *	... EVP_PKEY_free(k);
 *	pkeycache_stats(&hits, &misses);
 *	pkeycache_flush();
 *
 * DESCRIPTION
 *	OpenSSL 3 takes more CPU to decode a 2048-bit RSA key from its
 *	DER SubjectPublicKeyInfo (the p= of a DKIM key record) than to
 *	verify the signature with it: about 45% of postern-dmarc's CPU per
 *	signed message and 30% of postern-dkim's per message verified,
 *	measured with callgrind. A domain signs its mail
 *	with a handful of keys, so the decoded keys are kept here, keyed by
 *	their exact DER bytes: a rotated or revoked key has other bytes (or
 *	none in DNS), so nothing stale can be answered. Only the parsing is
 *	cached; the key record itself still comes from DNS (and its TTL)
 *	for every message.
 *
 *	At most PKEYCACHE_SIZE keys are kept; when full, the slot
 *	after the last one filled is reused (round robin), so a sender that
 *	signs with ever new keys costs what it cost before and no more
 *	memory. Thread-safe: one mutex, held for a few comparisons, never
 *	while parsing. A shared EVP_PKEY is safe to verify with from many
 *	threads (OpenSSL 3 locks its lazily built parts).
 *
 *	libopendkim decodes keys itself, so a daemon that verifies through
 *	it links the object library postern_pkeycache_d2i (pkeycache_d2i.c),
 *	whose d2i_PUBKEY_bio() answers libopendkim from this cache.
 *
 * RETURNS
 *	pkeycache_get: the key with one reference for the caller
 *	(EVP_PKEY_free), or NULL when the bytes are no public key.
 */
#ifndef POSTERN_PKEYCACHE_H
#define POSTERN_PKEYCACHE_H

#include <stddef.h>

#include <openssl/evp.h>

#define PKEYCACHE_SIZE 64
#define PKEYCACHE_MAX_DER 2048     /* 8192-bit RSA fits; larger
                                         * keys are parsed every time */

EVP_PKEY *pkeycache_get(const unsigned char *der, size_t len);
void pkeycache_stats(unsigned long *hits, unsigned long *misses);
void pkeycache_flush(void);        /* drops every key (tests) */

#endif
