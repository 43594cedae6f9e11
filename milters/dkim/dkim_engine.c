/*
 * dkim_engine.c - one DKIM_LIB per config. Verifying: one libopendkim
 * handle per message, which does the canonicalization and cryptography;
 * this file bounds the input, routes key lookups to the caller's key
 * source and turns libopendkim's per-signature state into dkim_sigres_t
 * (dkim_result.c decides the names). Signing: one dkim_signer (our own
 * canonicalization and signature, dkim_signer.c) per key, with keys
 * parsed at load; libopendkim takes no part.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <opendkim/dkim.h>

#include "dkim_engine.h"
#include "dkim_signer.h"

#define MAX_SIGN_KEYS DKIM_KEYS_MAX_PER_DOMAIN

struct dkim_engine {
    DKIM_LIB *lib;
    dkim_engine_opts_t o;
};

struct dkim_msg {
    dkim_engine_t *eng;
    bool signing;
    DKIM *h[MAX_SIGN_KEYS];         /* verify: h[0] only */
    dkim_signer_t *signer[MAX_SIGN_KEYS];   /* sign: one per key */
    size_t nh;
    unsigned nheaders;
    bool broken;                    /* a limit was hit: see error */
    bool nosig;                     /* verify: no DKIM-Signature at all */
    bool done;
    char *fieldbuf;
    size_t fieldcap;
    dkim_sigres_t *res;
    size_t nres;
    char *sigs[MAX_SIGN_KEYS];
    char error[256];
};

/* libopendkim asks for a key record; the message's engine decides where
 * it comes from. */
static DKIM_CBSTAT key_lookup(DKIM *dkim, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
    dkim_msg_t *m = dkim_get_user_context(dkim);
    const char *sel = (const char *) dkim_sig_getselector(sig);
    const char *dom = (const char *) dkim_sig_getdomain(sig);

    if (m == NULL || sel == NULL || dom == NULL || m->eng->o.keysrc == NULL)
        return DKIM_CBSTAT_ERROR;
    switch (m->eng->o.keysrc(m->eng->o.keysrc_arg, sel, dom, (char *) buf, buflen)) {
    case DKIM_KEYSRC_OK:
        return DKIM_CBSTAT_CONTINUE;
    case DKIM_KEYSRC_NOTFOUND:
        return DKIM_CBSTAT_NOTFOUND;
    default:
        /* libopendkim has no per-signature "try again" outcome for a
         * callback: mark it ourselves so this signature is temperror
         * and the others are still evaluated. */
        dkim_sig_seterror(sig, DKIM_SIGERROR_KEYFAIL);
        return DKIM_CBSTAT_TRYAGAIN;
    }
}

/* Signatures past the limit are ignored before any key is fetched: a
 * message with hundreds of them must not cost hundreds of lookups. */
static DKIM_CBSTAT prescreen(DKIM *dkim, DKIM_SIGINFO **sigs, int nsigs)
{
    dkim_msg_t *m = dkim_get_user_context(dkim);
    unsigned max = m != NULL ? m->eng->o.max_signatures : 5;

    for (int i = (int) max; i < nsigs; i++)
        dkim_sig_ignore(sigs[i]);
    return DKIM_CBSTAT_CONTINUE;
}

static int set_opt(DKIM_LIB *lib, int opt, void *val, size_t len, const char *what,
                   char *err, size_t errlen)
{
    DKIM_STAT st = dkim_options(lib, DKIM_OP_SETOPT, opt, val, len);

    if (st != DKIM_STAT_OK) {
        snprintf(err, errlen, "libopendkim option %s: %s", what, dkim_getresultstr(st));
        return -1;
    }
    return 0;
}

static int configure(dkim_engine_t *eng, char *err, size_t errlen)
{
    /* DELAYSIGPROC: keys are fetched at end of message, where a failed
     * lookup leaves the other signatures to be evaluated; at end of
     * header libopendkim would stop at the first "try again". No
     * FIXCRLF: MTAs pass the body with CRLF, and that flag makes
     * libopendkim copy every body byte (header values are made CRLF
     * here, in field_text). */
    uint32_t flags = DKIM_LIBFLAGS_BADSIGHANDLES | DKIM_LIBFLAGS_DELAYSIGPROC;
    u_int minbits = eng->o.min_key_bits;
    uint64_t ttl = eng->o.signature_ttl_s, fixed = eng->o.fixed_time;
    DKIM_LIB *lib = eng->lib;

    if (set_opt(lib, DKIM_OPTS_FLAGS, &flags, sizeof(flags), "flags", err, errlen) < 0
        || set_opt(lib, DKIM_OPTS_MINKEYBITS, &minbits, sizeof(minbits), "minkeybits", err,
                   errlen) < 0
        || set_opt(lib, DKIM_OPTS_SIGNATURETTL, &ttl, sizeof(ttl), "signaturettl", err,
                   errlen) < 0)
        return -1;
    if (fixed != 0
        && set_opt(lib, DKIM_OPTS_FIXEDTIME, &fixed, sizeof(fixed), "fixedtime", err, errlen) < 0)
        return -1;
    if (eng->o.hdrs != NULL) {
        const char **sign = dkim_hdrlist_signed(eng->o.hdrs);
        const char **over = dkim_hdrlist_oversigned(eng->o.hdrs);

        if (set_opt(lib, DKIM_OPTS_SIGNHDRS, sign, sizeof(sign), "signhdrs", err, errlen) < 0
            || (over[0] != NULL
                && set_opt(lib, DKIM_OPTS_OVERSIGNHDRS, over, sizeof(over), "oversignhdrs",
                           err, errlen) < 0))
            return -1;
    }
    dkim_set_key_lookup(lib, key_lookup);
    dkim_set_prescreen(lib, prescreen);
    return 0;
}

dkim_engine_t *dkim_engine_new(const dkim_engine_opts_t *o, char *err, size_t errlen)
{
    dkim_engine_t *eng = calloc(1, sizeof(*eng));

    if (eng == NULL || (eng->lib = dkim_init(NULL, NULL)) == NULL) {
        snprintf(err, errlen, "libopendkim: cannot initialise");
        free(eng);
        return NULL;
    }
    eng->o = *o;
    if (eng->o.min_key_bits == 0)
        eng->o.min_key_bits = DKIM_KEYS_MIN_RSA_BITS;
    if (eng->o.max_signatures == 0)
        eng->o.max_signatures = 5;
    if (eng->o.max_headers == 0)
        eng->o.max_headers = 1000;
    if (configure(eng, err, errlen) < 0) {
        dkim_engine_free(eng);
        return NULL;
    }
    return eng;
}

void dkim_engine_free(dkim_engine_t *eng)
{
    if (eng == NULL)
        return;
    dkim_close(eng->lib);
    free(eng);
}

static dkim_msg_t *msg_new(dkim_engine_t *eng, bool signing)
{
    dkim_msg_t *m = calloc(1, sizeof(*m));

    if (m != NULL) {
        m->eng = eng;
        m->signing = signing;
    }
    return m;
}

dkim_msg_t *dkim_msg_verify(dkim_engine_t *eng, const char *id, char *err, size_t errlen)
{
    dkim_msg_t *m = msg_new(eng, false);
    DKIM_STAT st = DKIM_STAT_NORESOURCE;

    if (m != NULL)
        m->h[0] = dkim_verify(eng->lib, (const u_char *) (id ? id : "NOQUEUE"), NULL, &st);
    if (m == NULL || m->h[0] == NULL) {
        snprintf(err, errlen, "libopendkim verify: %s", dkim_getresultstr(st));
        dkim_msg_free(m);
        return NULL;
    }
    m->nh = 1;
    dkim_set_user_context(m->h[0], m);
    return m;
}

dkim_msg_t *dkim_msg_sign(dkim_engine_t *eng, const char *id, const dkim_key_t *const *keys,
                          size_t nkeys, char *err, size_t errlen)
{
    dkim_msg_t *m = msg_new(eng, true);
    dkim_signer_opts_t so = {
        .hdrs = eng->o.hdrs, .relaxed_header = eng->o.relaxed_header,
        .relaxed_body = eng->o.relaxed_body, .ttl = eng->o.signature_ttl_s,
        .now = eng->o.fixed_time ? eng->o.fixed_time : (uint64_t) time(NULL),
    };

    (void) id;
    if (m == NULL || eng->o.hdrs == NULL) {
        snprintf(err, errlen, m == NULL ? "out of memory" : "no header list to sign");
        dkim_msg_free(m);
        return NULL;
    }
    /* Our own signer: the keys were parsed at load (libopendkim would
     * parse them again for every message). */
    for (size_t i = 0; i < nkeys && i < MAX_SIGN_KEYS; i++) {
        if ((m->signer[i] = dkim_signer_new(keys[i], &so, err, errlen)) == NULL) {
            dkim_msg_free(m);
            return NULL;
        }
        m->nh = i + 1;
    }
    return m;
}

static void msg_break(dkim_msg_t *m, const char *why)
{
    if (!m->broken)
        snprintf(m->error, sizeof(m->error), "%s", why);
    m->broken = true;
}

/* "Name: value" in the reused field buffer, every bare LF made CRLF
 * (MTAs pass folded values with LF or CRLF; the hash wants CRLF). NULL
 * when over the limit. */
static char *field_text(dkim_msg_t *m, const char *name, const char *value, size_t *len)
{
    size_t nl = strlen(name), vl = strlen(value), need = nl + 2 + 2 * vl + 1, o;

    if (nl + 2 + vl + 1 > DKIM_ENGINE_MAX_FIELD)
        return NULL;
    if (need > m->fieldcap) {
        char *b = realloc(m->fieldbuf, need);

        if (b == NULL)
            return NULL;
        m->fieldbuf = b;
        m->fieldcap = need;
    }
    memcpy(m->fieldbuf, name, nl);
    memcpy(m->fieldbuf + nl, ": ", 2);
    o = nl + 2;
    for (size_t i = 0; i < vl; i++) {
        if (value[i] == '\n' && (i == 0 || value[i - 1] != '\r'))
            m->fieldbuf[o++] = '\r';
        m->fieldbuf[o++] = value[i];
    }
    m->fieldbuf[o] = '\0';
    *len = o;
    return m->fieldbuf;
}

int dkim_msg_header(dkim_msg_t *m, const char *name, const char *value)
{
    size_t len = 0;
    char *f;

    if (m->broken || m->done)
        return -1;
    if (++m->nheaders > m->eng->o.max_headers) {
        msg_break(m, "too many header fields");
        return -1;
    }
    if (m->signing) {
        for (size_t i = 0; i < m->nh; i++)
            if (strlen(value) > DKIM_ENGINE_MAX_FIELD
                || dkim_signer_header(m->signer[i], name, value) < 0) {
                msg_break(m, "header field too long or too many to sign");
                return -1;
            }
        return 0;
    }
    /* Too long: left out of the hash, so a signature covering it fails. */
    if ((f = field_text(m, name, value, &len)) == NULL)
        return 0;
    for (size_t i = 0; i < m->nh; i++)
        (void) dkim_header(m->h[i], (u_char *) f, len);
    return 0;
}

int dkim_msg_eoh(dkim_msg_t *m)
{
    if (m->broken || m->done)
        return -1;
    for (size_t i = 0; !m->signing && i < m->nh; i++) {
        DKIM_STAT st = dkim_eoh(m->h[i]);

        if (st == DKIM_STAT_NOSIG && !m->signing) {
            m->nosig = true;
        } else if (st != DKIM_STAT_OK) {
            const char *e = dkim_geterror(m->h[i]);

            msg_break(m, e != NULL && *e ? e : dkim_getresultstr(st));
            return -1;
        }
    }
    return 0;
}

int dkim_msg_body(dkim_msg_t *m, const unsigned char *buf, size_t len)
{
    if (m->broken || m->done)
        return -1;
    if (m->nosig)
        return 0;
    for (size_t i = 0; m->signing && i < m->nh; i++)
        dkim_signer_body(m->signer[i], buf, len);
    for (size_t i = 0; !m->signing && i < m->nh; i++) {
        DKIM_STAT st = dkim_body(m->h[i], (u_char *) buf, len);

        if (st != DKIM_STAT_OK) {
            msg_break(m, dkim_getresultstr(st));
            return -1;
        }
    }
    return 0;
}

/* Bounded copy of text a sender chose, without control characters, so
 * it is safe in a log line and an A-R property. */
static void copy_clean(char *dst, size_t dstlen, const unsigned char *src)
{
    size_t o = 0;

    if (src != NULL)
        for (; *src && o + 1 < dstlen; src++)
            dst[o++] = (*src < 0x21 || *src > 0x7e) ? '?' : (char) *src;
    dst[o] = '\0';
}

static void fill_result(dkim_msg_t *m, DKIM_SIGINFO *sig, dkim_sigres_t *r)
{
    dkim_alg_t alg = DKIM_SIGN_UNKNOWN;
    unsigned int bits = 0;
    const char *reason = NULL;
    const u_char *b;

    (void) m;
    memset(r, 0, sizeof(*r));
    if (dkim_sig_getsignalg(sig, &alg) != DKIM_STAT_OK)
        alg = DKIM_SIGN_UNKNOWN;
    if (dkim_sig_getkeysize(sig, &bits) == DKIM_STAT_OK)
        r->bits = bits;
    r->res = dkim_result_classify(dkim_sig_geterror(sig), dkim_sig_getflags(sig),
                                  dkim_sig_getbh(sig), alg, &reason);
    copy_clean(r->domain, sizeof(r->domain), dkim_sig_getdomain(sig));
    copy_clean(r->selector, sizeof(r->selector), dkim_sig_getselector(sig));
    snprintf(r->alg, sizeof(r->alg), "%s", dkim_result_alg_name(alg));
    b = dkim_sig_gettagvalue(sig, false, (u_char *) "b");
    if (b != NULL) {
        /* header.b: enough of b= to tell signatures apart (RFC 6008). */
        char tmp[9];

        copy_clean(tmp, sizeof(tmp), b);
        snprintf(r->b, sizeof(r->b), "%s", tmp);
    }
    if (reason != NULL)
        snprintf(r->reason, sizeof(r->reason), "%s", reason);
}

static int collect_results(dkim_msg_t *m)
{
    DKIM_SIGINFO **sigs = NULL;
    int n = 0;

    if (m->nosig)
        return 0;
    if (dkim_getsiglist(m->h[0], &sigs, &n) != DKIM_STAT_OK || n <= 0)
        n = 0;
    m->res = calloc((size_t) (n > 0 ? n : 1), sizeof(*m->res));
    if (m->res == NULL) {
        snprintf(m->error, sizeof(m->error), "out of memory");
        return -1;
    }
    for (int i = 0; i < n; i++)
        if ((dkim_sig_getflags(sigs[i]) & DKIM_SIGFLAG_IGNORE) == 0)
            fill_result(m, sigs[i], &m->res[m->nres++]);
    if (m->nres == 0 && m->broken) {
        /* Signed, but the message broke a limit before any signature
         * could be judged. */
        m->res[0].res = DKIM_RES_NEUTRAL;
        snprintf(m->res[0].reason, sizeof(m->res[0].reason), "%.120s", m->error);
        m->nres = 1;
    }
    return 0;
}

static int sign_eom(dkim_msg_t *m)
{
    for (size_t i = 0; i < m->nh; i++)
        if ((m->sigs[i] = dkim_signer_finish(m->signer[i], m->error, sizeof(m->error))) == NULL)
            return -1;
    return 0;
}

int dkim_msg_eom(dkim_msg_t *m)
{
    if (m->done)
        return -1;
    m->done = true;
    if (m->signing)
        return m->broken ? -1 : sign_eom(m);
    if (!m->broken && !m->nosig)
        (void) dkim_eom(m->h[0], NULL);     /* per-signature state is read below */
    return collect_results(m);
}

void dkim_msg_fail(dkim_msg_t *m, const char *why)
{
    msg_break(m, why);
}

const char *dkim_msg_error(const dkim_msg_t *m)
{
    return m->error[0] ? m->error : "no error";
}

size_t dkim_msg_results(const dkim_msg_t *m, const dkim_sigres_t **out)
{
    *out = m->res;
    return m->nres;
}

size_t dkim_msg_nsignatures(const dkim_msg_t *m)
{
    return m->signing && m->done && m->sigs[0] != NULL ? m->nh : 0;
}

const char *dkim_msg_signature(const dkim_msg_t *m, size_t i)
{
    return i < MAX_SIGN_KEYS ? m->sigs[i] : NULL;
}

void dkim_msg_free(dkim_msg_t *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < MAX_SIGN_KEYS; i++) {
        if (m->h[i] != NULL)
            dkim_free(m->h[i]);
        dkim_signer_free(m->signer[i]);
        free(m->sigs[i]);
    }
    free(m->fieldbuf);
    free(m->res);
    free(m);
}
