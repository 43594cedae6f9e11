/*
 * dkim_engine.h - signing and verifying one message (verifying with
 * libopendkim, signing with dkim_signer and keys parsed at load),
 * behind plain calls: feed header fields, the end of the header, body
 * chunks, the end; read the DKIM-Signature values or the results. No
 * libmilter here: the milter, the unit tests and the fuzz target all
 * drive it the same way.
 *
 * NAME
 *	dkim_engine - DKIM for one config and its messages
 *
 * SYNOPSIS
 *	dkim_engine_opts_t o = { .hdrs = hl, .max_signatures = 5,
 *	                         .keysrc = dkim_dnskey_lookup, .keysrc_arg = dnsr };
 *	dkim_engine_t *eng = dkim_engine_new(&o, err, sizeof(err));
 *
 *	dkim_msg_t *m = dkim_msg_verify(eng, qid, err, sizeof(err));
 *	  or dkim_msg_sign(eng, qid, keys, nkeys, err, sizeof(err));
 *	dkim_msg_header(m, "From", "a@example.com");  (each field, in order)
 *	dkim_msg_eoh(m);
 *	dkim_msg_body(m, chunk, len);                 (any number)
 *	dkim_msg_eom(m);
 *	n = dkim_msg_results(m, &res);                (verify)
 *	v = dkim_msg_signature(m, i);                 (sign: i < nkeys)
 *	dkim_msg_free(m);
 *	dkim_engine_free(eng);
 *
 * DESCRIPTION
 *	An engine holds one DKIM_LIB with the options of one config:
 *	signed and over-signed headers, canonicalization, x= lifetime,
 *	minimum key size, and the key source. Signing does not go through
 *	libopendkim: it would parse the private key again for every
 *	message (as costly as the RSA signature) and it leaks the key state
 *	of every Ed25519 signature it makes. Engines are built at config
 *	load; messages are thread-independent (one per milter session).
 *
 *	Key source: verifying asks KEYSRC for the TXT record of
 *	SELECTOR._domainkey.DOMAIN. The milter passes one that asks
 *	common/dns (dkim_dnskey.h); tests and the fuzz target pass one that
 *	answers from memory. It returns DKIM_KEYSRC_OK with the record
 *	text in BUF, DKIM_KEYSRC_NOTFOUND (NXDOMAIN/no TXT: permerror) or
 *	DKIM_KEYSRC_TEMP (timeout, SERVFAIL: temperror).
 *
 *	Limits on untrusted input: at most max_signatures DKIM-Signature
 *	fields are evaluated (the rest are ignored, not reported); at most
 *	max_headers fields are taken, after which the message is reported
 *	as neutral ("too many header fields"); a field longer than
 *	DKIM_ENGINE_MAX_FIELD is dropped from the hash, which makes any
 *	signature covering it fail. Signing never happens for a message
 *	that broke a limit: dkim_msg_eom returns -1.
 *
 *	Header field values are passed as the MTA gives them (milter:
 *	without the leading space, lines folded with LF or CRLF); bare LF
 *	is made CRLF for hashing. The body must have CRLF line ends, as
 *	Postfix and Sendmail pass it (it is hashed as it comes, uncopied).
 *
 * RETURNS
 *	dkim_engine_new / dkim_msg_*: NULL with ERR on failure.
 *	dkim_msg_header/eoh/body: 0, or -1 once the message is broken (the
 *	caller keeps feeding nothing more and calls dkim_msg_eom, which
 *	reports why).
 *	dkim_msg_eom: 0, or -1 with dkim_msg_error() saying why.
 */
#ifndef POSTERN_DKIM_ENGINE_H
#define POSTERN_DKIM_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dkim_hdrlist.h"
#include "dkim_keys.h"
#include "dkim_result.h"

#define DKIM_ENGINE_MAX_FIELD (1024 * 1024 + 1024)
#define DKIM_ENGINE_MAX_KEYREC 4096

typedef enum { DKIM_KEYSRC_OK = 0, DKIM_KEYSRC_NOTFOUND, DKIM_KEYSRC_TEMP } dkim_keysrc_t;

typedef dkim_keysrc_t (*dkim_keysrc_fn)(void *arg, const char *selector, const char *domain,
                                        char *buf, size_t buflen);

typedef struct dkim_engine_opts {
    const dkim_hdrlist_t *hdrs;     /* signed / over-signed; borrowed, must
                                       outlive nothing (copied) */
    bool relaxed_header, relaxed_body;
    uint64_t signature_ttl_s;       /* x= = t= + ttl; 0: none */
    unsigned min_key_bits;          /* 0: 1024 */
    unsigned max_signatures;        /* 0: 5 */
    unsigned max_headers;           /* 0: 1000 */
    dkim_keysrc_fn keysrc;          /* required for verifying */
    void *keysrc_arg;
    uint64_t fixed_time;            /* tests: the clock (t=); 0: real time */
} dkim_engine_opts_t;

typedef struct dkim_engine dkim_engine_t;
typedef struct dkim_msg dkim_msg_t;

dkim_engine_t *dkim_engine_new(const dkim_engine_opts_t *o, char *err, size_t errlen);
void dkim_engine_free(dkim_engine_t *eng);

dkim_msg_t *dkim_msg_verify(dkim_engine_t *eng, const char *id, char *err, size_t errlen);
/* KEYS: the keys to sign with (borrowed: they live in the key table of
 * the same state); each gives one signature. */
dkim_msg_t *dkim_msg_sign(dkim_engine_t *eng, const char *id, const dkim_key_t *const *keys,
                          size_t nkeys, char *err, size_t errlen);
int dkim_msg_header(dkim_msg_t *m, const char *name, const char *value);
int dkim_msg_eoh(dkim_msg_t *m);
int dkim_msg_body(dkim_msg_t *m, const unsigned char *buf, size_t len);
int dkim_msg_eom(dkim_msg_t *m);
const char *dkim_msg_error(const dkim_msg_t *m);
/* Marks M as broken by a limit the caller enforces (WHY is reported as
 * the reason): no signature is made, verification reports neutral. */
void dkim_msg_fail(dkim_msg_t *m, const char *why);

/* Verify: the results, one per evaluated signature, in header order;
 * 0 for an unsigned message. Owned by M. */
size_t dkim_msg_results(const dkim_msg_t *m, const dkim_sigres_t **out);
/* Sign: number of signatures and the value of the I-th DKIM-Signature
 * field (no name, folded with "\n\t"). Owned by M. */
size_t dkim_msg_nsignatures(const dkim_msg_t *m);
const char *dkim_msg_signature(const dkim_msg_t *m, size_t i);

void dkim_msg_free(dkim_msg_t *m);

#endif
