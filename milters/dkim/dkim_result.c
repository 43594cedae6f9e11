/*
 * dkim_result.c - from libopendkim's view of a signature to the result
 * names of RFC 8601, the Authentication-Results value and the action.
 * Pure functions on plain data: the unit tests drive them with tables.
 */
#include <stdio.h>
#include <string.h>

#include <opendkim/dkim.h>

#include "authres.h"

#include "dkim_result.h"

const char *dkim_result_name(dkim_res_t r)
{
    static const char *const names[] = {
        "none", "pass", "fail", "neutral", "policy", "temperror", "permerror"
    };
    return (unsigned) r < sizeof(names) / sizeof(names[0]) ? names[r] : "neutral";
}

const char *dkim_result_alg_name(int alg)
{
    switch (alg) {
    case DKIM_SIGN_RSASHA1: return "rsa-sha1";
    case DKIM_SIGN_RSASHA256: return "rsa-sha256";
    case DKIM_SIGN_ED25519SHA256: return "ed25519-sha256";
    default: return "unknown";
    }
}

/* Errors about the key record or the signature's own tags: nothing a
 * later attempt would change (RFC 6376 PERMFAIL). */
static bool is_permanent(int e)
{
    switch (e) {
    case DKIM_SIGERROR_KEYFAIL:
    case DKIM_SIGERROR_BADSIG:
    case DKIM_SIGERROR_KEYTOOSMALL:
    case DKIM_SIGERROR_OK:
    case DKIM_SIGERROR_UNKNOWN:
    case DKIM_SIGERROR_CONDITIONAL:
    case DKIM_SIGERROR_CONDLOOP:
        return false;
    default:
        return true;
    }
}

static dkim_res_t classify_error(int sigerr, const char **reason)
{
    const char *s = dkim_sig_geterrorstr(sigerr);

    *reason = s != NULL ? s : "unknown error";
    if (sigerr == DKIM_SIGERROR_KEYFAIL) {
        *reason = "key lookup failed";
        return DKIM_RES_TEMPERROR;
    }
    if (sigerr == DKIM_SIGERROR_BADSIG)
        return DKIM_RES_FAIL;
    if (sigerr == DKIM_SIGERROR_KEYTOOSMALL)
        return DKIM_RES_POLICY;
    if (sigerr == DKIM_SIGERROR_NOKEY) {
        *reason = "no key for signature";
        return DKIM_RES_PERMERROR;
    }
    if (is_permanent(sigerr))
        return DKIM_RES_PERMERROR;
    return DKIM_RES_NEUTRAL;
}

dkim_res_t dkim_result_classify(int sigerr, unsigned flags, int bh, int alg,
                                const char **reason)
{
    /* A changed body is the more useful reason than the signature
     * mismatch libopendkim reports with it. */
    if (bh == DKIM_SIGBH_MISMATCH && (sigerr == DKIM_SIGERROR_BADSIG
                                      || sigerr == DKIM_SIGERROR_OK
                                      || sigerr == DKIM_SIGERROR_UNKNOWN)) {
        *reason = "body hash did not verify";
        return DKIM_RES_FAIL;
    }
    if (sigerr != DKIM_SIGERROR_OK && sigerr != DKIM_SIGERROR_UNKNOWN)
        return classify_error(sigerr, reason);
    if ((flags & DKIM_SIGFLAG_PROCESSED) == 0) {
        *reason = "not evaluated";
        return DKIM_RES_NEUTRAL;
    }
    if ((flags & DKIM_SIGFLAG_PASSED) == 0) {
        *reason = "signature did not verify";
        return DKIM_RES_FAIL;
    }
    if (bh != DKIM_SIGBH_MATCH) {
        *reason = "body hash did not verify";
        return DKIM_RES_FAIL;
    }
    if (alg == DKIM_SIGN_RSASHA1) {
        *reason = "rsa-sha1 is not acceptable (RFC 8301)";
        return DKIM_RES_POLICY;
    }
    *reason = NULL;
    return DKIM_RES_PASS;
}

/* Adds one result; values a sender chose that the builder refuses
 * (control characters) are left out rather than losing the field. */
static int add_one(authres_builder_t *b, const dkim_sigres_t *r)
{
    if (authres_add(b, "dkim", dkim_result_name(r->res),
                    r->res == DKIM_RES_PASS || r->reason[0] == '\0' ? NULL : r->reason) < 0
        && authres_add(b, "dkim", dkim_result_name(r->res), NULL) < 0)
        return -1;
    if (r->domain[0] != '\0')
        (void) authres_add_prop(b, "header", "d", r->domain);
    if (r->selector[0] != '\0')
        (void) authres_add_prop(b, "header", "s", r->selector);
    if (r->alg[0] != '\0' && strcmp(r->alg, "unknown") != 0)
        (void) authres_add_prop(b, "header", "a", r->alg);
    if (r->b[0] != '\0')
        (void) authres_add_prop(b, "header", "b", r->b);
    return 0;
}

ssize_t dkim_result_authres(const char *authserv_id, const dkim_sigres_t *r, size_t n,
                            char *buf, size_t buflen)
{
    authres_builder_t *b = authres_builder_new(authserv_id);
    ssize_t len = -1;
    size_t i = 0;

    if (b == NULL)
        return -1;
    if (n == 0) {
        if (authres_add(b, "dkim", "none", NULL) < 0)
            goto out;
    }
    for (i = 0; i < n; i++)
        if (add_one(b, &r[i]) < 0)
            goto out;
    len = authres_format(b, buf, buflen);
out:
    authres_builder_free(b);
    return len;
}

/* Badness for choosing the action: higher wins. */
static int severity(dkim_res_t r)
{
    switch (r) {
    case DKIM_RES_TEMPERROR: return 3;
    case DKIM_RES_FAIL: case DKIM_RES_PERMERROR: case DKIM_RES_POLICY: return 2;
    default: return 0;
    }
}

mact_t dkim_result_action(const dkim_sigres_t *r, size_t n, const dkim_result_policy_t *p,
                          const char **why)
{
    int worst = 0;
    size_t wi = 0;

    for (size_t i = 0; i < n; i++) {
        if (r[i].res == DKIM_RES_PASS) {
            *why = "pass";
            return MACT_ACCEPT;
        }
        if (severity(r[i].res) > worst) {
            worst = severity(r[i].res);
            wi = i;
        }
    }
    if (worst == 0) {
        *why = n == 0 ? "none" : dkim_result_name(r[0].res);
        return MACT_ACCEPT;
    }
    *why = dkim_result_name(r[wi].res);
    return r[wi].res == DKIM_RES_TEMPERROR ? p->on_temperror : p->on_fail;
}
