/*
 * dkim_result.h - what a verification comes to: the result of each
 * signature (RFC 8601 section 2.7.1 names), the Authentication-Results
 * value that reports them, and the action the config asks for.
 *
 * NAME
 *	dkim_result - per-signature results, A-R value and action
 *
 * SYNOPSIS
 *	dkim_sigres_t r[n];   (filled by dkim_engine, or by hand in tests)
 *	dkim_result_authres("mx.example.org", r, n, buf, sizeof(buf));
 *	mact_t a = dkim_result_action(r, n, &policy, &why);
 *
 * DESCRIPTION
 *	dkim_result_classify() maps what libopendkim knows about one
 *	signature (its DKIM_SIGERROR_* code, DKIM_SIGFLAG_* flags, body
 *	hash state and algorithm) to a result:
 *
 *	  pass       signature and body hash verify, with an acceptable key
 *	  fail       signature or body hash does not verify (RFC 6376
 *	             PERMFAIL "signature did not verify")
 *	  policy     verifies but is not acceptable here: rsa-sha1 (RFC
 *	             8301 3.1) or an RSA key shorter than min_key_bits
 *	  temperror  the key could not be fetched (DNS timeout, SERVFAIL)
 *	  permerror  the signature or key record is unusable: syntax, no
 *	             key record (RFC 6376 6.1.2: PERMFAIL "no key for
 *	             signature"), revoked key, expired signature
 *	  neutral    signed, but not evaluated for another reason
 *
 *	A message without signatures is "none" (dkim_result_authres writes
 *	"dkim=none" when N is 0).
 *
 *	dkim_result_action(): when any signature passes the action is
 *	accept; otherwise the worst result decides: temperror takes
 *	policy.on_temperror, fail/policy/permerror take policy.on_fail,
 *	neutral and none are accepted. WHY says which result decided.
 */
#ifndef POSTERN_DKIM_RESULT_H
#define POSTERN_DKIM_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "mact.h"

typedef enum {
    DKIM_RES_NONE = 0, DKIM_RES_PASS, DKIM_RES_FAIL, DKIM_RES_NEUTRAL,
    DKIM_RES_POLICY, DKIM_RES_TEMPERROR, DKIM_RES_PERMERROR
} dkim_res_t;

typedef struct dkim_sigres {
    dkim_res_t res;
    char domain[254];           /* d= ("" when the tag was unusable) */
    char selector[64];          /* s= */
    char alg[24];               /* a= as we understood it */
    char b[16];                 /* first bytes of b=, for header.b */
    unsigned bits;              /* key size, 0 when unknown */
    char reason[128];
} dkim_sigres_t;

typedef struct dkim_result_policy {
    mact_t on_fail;
    mact_t on_temperror;
} dkim_result_policy_t;

/* Algorithm codes as libopendkim's DKIM_SIGN_* (0 rsa-sha1, 1
 * rsa-sha256, 2 ed25519-sha256, other: unknown). */
dkim_res_t dkim_result_classify(int sigerr, unsigned flags, int bh, int alg,
                                const char **reason);
const char *dkim_result_name(dkim_res_t r);
const char *dkim_result_alg_name(int alg);

/* Writes the value of our Authentication-Results field for results R
 * (N of them; 0 means "dkim=none") with AUTHSERV_ID. Returns its
 * length, or -1 when BUF is too small or a value is unusable. */
ssize_t dkim_result_authres(const char *authserv_id, const dkim_sigres_t *r, size_t n,
                            char *buf, size_t buflen);

mact_t dkim_result_action(const dkim_sigres_t *r, size_t n, const dkim_result_policy_t *p,
                          const char **why);

#endif
