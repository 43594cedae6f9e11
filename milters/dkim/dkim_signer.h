/*
 * dkim_signer.h - making one DKIM-Signature with a key parsed once:
 * header and body canonicalization (RFC 6376 3.4), the hashes and the
 * RSA-SHA256 or Ed25519-SHA256 (RFC 8463) signature, done here with
 * OpenSSL instead of in libopendkim, which parses the private key again
 * for every message (as costly as the RSA signature itself) and leaks
 * the key state of every Ed25519 signature.
 *
 * NAME
 *	dkim_signer - DKIM signing with a preloaded key
 *
 * SYNOPSIS
 *	dkim_signer_t *s = dkim_signer_new(key, &opts, err, sizeof(err));
 *	dkim_signer_header(s, "From", "a@example.com");    (each field)
 *	dkim_signer_body(s, chunk, len);                    (any number)
 *	char *v = dkim_signer_finish(s, err, sizeof(err));  (caller frees)
 *	dkim_signer_free(s);
 *
 * DESCRIPTION
 *	The signature covers the fields of opts.hdrs that are present, each
 *	instance from the bottom up (RFC 6376 5.4.2), and lists every
 *	over-signed name once more (8.15). Tags are written in the order
 *	v a c d s t x h bh b; the value is folded with "\n\t" as
 *	smfi_insheader takes it, and hashed the way a verifier will see it
 *	once the MTA has written it with CRLF.
 *
 *	The body arrives in chunks with CRLF line ends and is canonicalized
 *	and hashed as it comes, in constant memory. Header fields are kept
 *	until finish (the h= list depends on all of them), at most
 *	DKIM_SIGNER_MAX_FIELDS fields.
 *
 * RETURNS
 *	dkim_signer_new: NULL with ERR. dkim_signer_header: 0 or -1 (too
 *	many fields, out of memory). dkim_signer_finish: the field value,
 *	or NULL with ERR.
 */
#ifndef POSTERN_DKIM_SIGNER_H
#define POSTERN_DKIM_SIGNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dkim_hdrlist.h"
#include "dkim_keys.h"

#define DKIM_SIGNER_MAX_FIELDS 10000

typedef struct dkim_signer_opts {
    const dkim_hdrlist_t *hdrs;
    bool relaxed_header, relaxed_body;
    uint64_t now;               /* t= */
    uint64_t ttl;               /* x = t + ttl; 0: no x= */
} dkim_signer_opts_t;

typedef struct dkim_signer dkim_signer_t;

dkim_signer_t *dkim_signer_new(const dkim_key_t *key, const dkim_signer_opts_t *o,
                               char *err, size_t errlen);
int dkim_signer_header(dkim_signer_t *s, const char *name, const char *value);
void dkim_signer_body(dkim_signer_t *s, const unsigned char *buf, size_t len);
char *dkim_signer_finish(dkim_signer_t *s, char *err, size_t errlen);
void dkim_signer_free(dkim_signer_t *s);

#endif
