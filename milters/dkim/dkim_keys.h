/*
 * dkim_keys.h - the signing key table: which keys sign mail from which
 * From domain. Every private key is read, checked and kept in memory
 * once, when the table is built (start and reload), never per message.
 *
 * NAME
 *	dkim_keys - DKIM signing key table
 *
 * SYNOPSIS
 *	dkim_keys_t *kt = dkim_keys_load("/etc/postern/dkim-keys", err, len);
 *	const dkim_key_t *use[DKIM_KEYS_MAX_PER_DOMAIN];
 *	size_t n = dkim_keys_find(kt, "mail.example.com", use, 4);
 *	for (i = 0; i < n; i++) sign with use[i]->pem as use[i]->sdid ...
 *	dkim_keys_free(kt);
 *
 * DESCRIPTION
 *	The key table file has one key a line, "#" comments and blank lines:
 *
 *	  PATTERN  SELECTOR  KEYFILE  [SIGNING-DOMAIN]
 *
 *	PATTERN is a domain ("example.com": exactly that From domain), a
 *	wildcard ("*.example.com": any subdomain of example.com, not
 *	example.com itself) or "*" (any domain; needs SIGNING-DOMAIN).
 *	SIGNING-DOMAIN is the d= of the signature; by default the domain of
 *	the pattern ("*.example.com" signs as example.com, which DMARC's
 *	relaxed alignment accepts). Several lines with the same pattern are
 *	several signatures on each message (RSA and Ed25519, RFC 8463).
 *
 *	Lookup: an exact pattern beats any wildcard, a longer wildcard a
 *	shorter one, and "*" comes last. Every key of the winning pattern
 *	is returned, in file order. Comparisons ignore case.
 *
 *	KEYFILE is a PEM private key (PKCS#8 or traditional RSA). A file
 *	that the group or others may read or write is refused: a private
 *	key others can read is no longer private. RSA keys below 1024 bits
 *	are refused (RFC 8301 section 3.2). Ed25519 keys are used as such
 *	(RFC 8463). Error messages name the file and line.
 *
 * RETURNS
 *	dkim_keys_load / dkim_keys_new: a table (caller frees with
 *	dkim_keys_free), or NULL with ERR set.
 *	dkim_keys_add_*: 0, or -1 with ERR set.
 */
#ifndef POSTERN_DKIM_KEYS_H
#define POSTERN_DKIM_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#define DKIM_KEYS_MAX_PER_DOMAIN 4      /* signatures added to one message */
#define DKIM_KEYS_MAX 100000            /* lines of a key table */
#define DKIM_KEYS_MAX_PEM 65536         /* size of one key file */
#define DKIM_KEYS_MIN_RSA_BITS 1024     /* RFC 8301 */

typedef enum { DKIM_KEY_RSA = 0, DKIM_KEY_ED25519 } dkim_keyalg_t;

typedef struct dkim_key {
    char *pattern;          /* "example.com", "*.example.com", "*" */
    char *selector;
    char *sdid;             /* d= of the signature */
    char *path;             /* the key file, for messages */
    dkim_keyalg_t alg;
    unsigned bits;
    char *pem;              /* the key as PEM text, what libopendkim takes */
    struct evp_pkey_st *pkey;   /* the same, parsed once (OpenSSL EVP_PKEY) */
} dkim_key_t;

typedef struct dkim_keys dkim_keys_t;

dkim_keys_t *dkim_keys_new(void);
/* Reads the table at PATH and every key file it names. */
dkim_keys_t *dkim_keys_load(const char *path, char *err, size_t errlen);
void dkim_keys_free(dkim_keys_t *kt);

/* Adds one line's worth: PATTERN, SELECTOR, the key file PATH (whose
 * permissions are checked) and SDID (NULL: from the pattern). */
int dkim_keys_add_file(dkim_keys_t *kt, const char *pattern, const char *selector,
                       const char *path, const char *sdid, char *err, size_t errlen);
/* The same with the key's PEM text in memory (no permission check);
 * ORIGIN names it in messages. */
int dkim_keys_add_pem(dkim_keys_t *kt, const char *pattern, const char *selector,
                      const char *pem, size_t pemlen, const char *sdid,
                      const char *origin, char *err, size_t errlen);

/* The keys for From domain DOMAIN, at most MAX, into OUT (pointers
 * owned by KT). Returns how many; 0 when no pattern matches. */
size_t dkim_keys_find(const dkim_keys_t *kt, const char *domain,
                      const dkim_key_t **out, size_t max);
size_t dkim_keys_count(const dkim_keys_t *kt);

/* True when PATTERN matches DOMAIN (the rules above). */
bool dkim_keys_pattern_match(const char *pattern, const char *domain);

/* Checks a key in PEM text: type, size. Fills *ALG and *BITS. 0 or -1
 * with ERR ("RSA key of 512 bits: at least 1024 are required"). */
int dkim_keys_check_pem(const char *pem, size_t len, dkim_keyalg_t *alg,
                        unsigned *bits, char *err, size_t errlen);

/* The DNS TXT record that publishes the public half of the private key
 * PEM: "v=DKIM1; k=rsa; p=BASE64(SubjectPublicKeyInfo)" (RFC 6376
 * 3.6.1) or "v=DKIM1; k=ed25519; p=BASE64(32-byte key)" (RFC 8463 4).
 * Returns its length, or -1 with ERR. */
int dkim_keys_dns_record(const char *pem, size_t len, char *out, size_t outlen,
                         char *err, size_t errlen);

/* "rsa-sha256" or "ed25519-sha256". */
const char *dkim_keys_alg_name(dkim_keyalg_t alg);

#endif
