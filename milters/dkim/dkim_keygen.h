/*
 * dkim_keygen.h - making a DKIM key pair, and checking that a published
 * key record belongs to a private key. Used by "postern dkim keygen" and
 * "postern dkim check-dns".
 *
 * NAME
 *	dkim_keygen - key generation and key record checks
 *
 * SYNOPSIS
 *	char *pem = dkim_keygen_pem(DKIM_KEY_RSA, 2048, err, sizeof(err));
 *	dkim_keygen_write(pem, "/etc/postern/keys/example.com.s1.pem", err, len);
 *	if (dkim_keygen_matches(pem, strlen(pem), txt, strlen(txt), err, len) == 0) ...
 *
 * DESCRIPTION
 *	dkim_keygen_pem() makes a key with OpenSSL 3 and returns it as
 *	PKCS#8 PEM text (caller frees with dkim_keygen_free, which wipes it).
 *	RSA takes BITS (1024 to 8192; RFC 8301 wants at least 1024, 2048
 *	is the sensible size); Ed25519 ignores it.
 *
 *	dkim_keygen_write() creates PATH with mode 0600 and refuses to
 *	replace an existing file, so a key in use is never overwritten.
 *
 *	dkim_keygen_matches() reads the tag list of a published record
 *	(RFC 6376 3.6.1: "v=DKIM1; k=rsa; p=..."; blanks inside p= are
 *	allowed) and compares its key with the public half of PEM. 0 when
 *	they match; -1 with ERR saying what differs: no p=, an empty p=
 *	(revoked), another key type, another key.
 */
#ifndef POSTERN_DKIM_KEYGEN_H
#define POSTERN_DKIM_KEYGEN_H

#include <stddef.h>

#include "dkim_keys.h"

char *dkim_keygen_pem(dkim_keyalg_t alg, unsigned bits, char *err, size_t errlen);
void dkim_keygen_free(char *pem);
int dkim_keygen_write(const char *pem, const char *path, char *err, size_t errlen);
int dkim_keygen_matches(const char *pem, size_t pemlen, const char *txt, size_t txtlen,
                        char *err, size_t errlen);

#endif
