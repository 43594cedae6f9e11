/*
 * dmarc_keycache.h - DKIM public keys parsed once, not for every
 * signature checked.
 *
 * NAME
 *	dmarc_keycache - parsed public keys by the bytes of their DER form
 *
 * SYNOPSIS
 *	EVP_PKEY *k = dmarc_keycache_get(der, len);   (a new reference)
 *	... EVP_PKEY_free(k);
 *	dmarc_keycache_stats(&hits, &misses);
 *	dmarc_keycache_flush();
 *
 * DESCRIPTION
 *	OpenSSL 3 takes more CPU to decode a 2048-bit RSA key from its
 *	DER SubjectPublicKeyInfo (the p= of a DKIM key record) than to
 *	verify the signature with it: about 45% of postern-dmarc's CPU per
 *	signed message, measured with callgrind. A domain signs its mail
 *	with a handful of keys, so the decoded keys are kept here, keyed by
 *	their exact DER bytes: a rotated or revoked key has other bytes (or
 *	none in DNS), so nothing stale can be answered. Only the parsing is
 *	cached; the key record itself still comes from DNS (and its TTL)
 *	for every message.
 *
 *	At most DMARC_KEYCACHE_SIZE keys are kept; when full, the slot
 *	after the last one filled is reused (round robin), so a sender that
 *	signs with ever new keys costs what it cost before and no more
 *	memory. Thread-safe: one mutex, held for a few comparisons, never
 *	while parsing. A shared EVP_PKEY is safe to verify with from many
 *	threads (OpenSSL 3 locks its lazily built parts).
 *
 * RETURNS
 *	dmarc_keycache_get: the key with one reference for the caller
 *	(EVP_PKEY_free), or NULL when the bytes are no public key.
 */
#ifndef POSTERN_DMARC_KEYCACHE_H
#define POSTERN_DMARC_KEYCACHE_H

#include <stddef.h>

#include <openssl/evp.h>

#define DMARC_KEYCACHE_SIZE 64
#define DMARC_KEYCACHE_MAX_DER 2048     /* 8192-bit RSA fits; larger
                                         * keys are parsed every time */

EVP_PKEY *dmarc_keycache_get(const unsigned char *der, size_t len);
void dmarc_keycache_stats(unsigned long *hits, unsigned long *misses);
void dmarc_keycache_flush(void);        /* drops every key (tests) */

#endif
