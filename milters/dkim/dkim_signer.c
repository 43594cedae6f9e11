/*
 * dkim_signer.c - one DKIM signature with a key parsed at load: the
 * canonicalizations of RFC 6376 3.4, SHA-256, and the signature, in
 * constant memory for the body. libopendkim verifies what this signs
 * (tests/unit/test_dkim_engine.c), and so do dkimpy and Mail::DKIM
 * (tests/integration/test_dkim_postfix.py).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "dkim_signer.h"

#define OUTBUF 8192

typedef struct field {
    char *name, *value;
} field_t;

struct dkim_signer {
    const dkim_key_t *key;
    dkim_signer_opts_t o;
    EVP_MD_CTX *body;
    field_t *f;
    size_t nf, capf;
    /* body canonicalization state */
    unsigned long long crlfs;   /* line ends not yet hashed (trailing
                                   empty lines are dropped at the end) */
    bool cr, wsp, content, any;
    unsigned char out[OUTBUF];
    size_t nout;
};

static void put(dkim_signer_t *s, const void *p, size_t n)
{
    if (s->nout + n > OUTBUF) {
        EVP_DigestUpdate(s->body, s->out, s->nout);
        s->nout = 0;
    }
    if (n > OUTBUF) {
        EVP_DigestUpdate(s->body, p, n);
        return;
    }
    memcpy(s->out + s->nout, p, n);
    s->nout += n;
}

dkim_signer_t *dkim_signer_new(const dkim_key_t *key, const dkim_signer_opts_t *o,
                               char *err, size_t errlen)
{
    dkim_signer_t *s = calloc(1, sizeof(*s));

    if (s == NULL || key->pkey == NULL || (s->body = EVP_MD_CTX_new()) == NULL
        || EVP_DigestInit_ex(s->body, EVP_sha256(), NULL) != 1) {
        snprintf(err, errlen, "cannot start signing");
        dkim_signer_free(s);
        return NULL;
    }
    s->key = key;
    s->o = *o;
    return s;
}

void dkim_signer_free(dkim_signer_t *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->nf; i++) {
        free(s->f[i].name);
        free(s->f[i].value);
    }
    free(s->f);
    EVP_MD_CTX_free(s->body);
    free(s);
}

int dkim_signer_header(dkim_signer_t *s, const char *name, const char *value)
{
    if (s->nf >= DKIM_SIGNER_MAX_FIELDS)
        return -1;
    if (s->nf == s->capf) {
        size_t cap = s->capf ? s->capf * 2 : 32;
        field_t *f = realloc(s->f, cap * sizeof(*f));

        if (f == NULL)
            return -1;
        s->f = f;
        s->capf = cap;
    }
    s->f[s->nf].name = strdup(name);
    s->f[s->nf].value = strdup(value);
    if (s->f[s->nf].name == NULL || s->f[s->nf].value == NULL) {
        free(s->f[s->nf].name);
        free(s->f[s->nf].value);
        return -1;
    }
    s->nf++;
    return 0;
}

/* A byte of line content: line ends held back so far are real (more
 * content follows), and relaxed turns a run of blanks into one SP. */
static void body_content(dkim_signer_t *s, unsigned char c)
{
    if (s->o.relaxed_body && (c == ' ' || c == '\t')) {
        s->wsp = true;
        return;
    }
    for (; s->crlfs > 0; s->crlfs--)
        put(s, "\r\n", 2);
    if (s->wsp)
        put(s, " ", 1);
    s->wsp = false;
    put(s, &c, 1);
    s->content = s->any = true;
}

static void body_eol(dkim_signer_t *s)
{
    s->wsp = false;             /* relaxed: blanks at line end go */
    s->content = false;
    s->crlfs++;
}

/* A run of content bytes with no CR and (relaxed) no blank: hashed in
 * one piece, which is what most of a body is. */
static void body_run(dkim_signer_t *s, const unsigned char *p, size_t n)
{
    for (; s->crlfs > 0; s->crlfs--)
        put(s, "\r\n", 2);
    if (s->wsp)
        put(s, " ", 1);
    s->wsp = false;
    put(s, p, n);
    s->content = s->any = true;
}

static size_t run_length(const dkim_signer_t *s, const unsigned char *p, size_t n)
{
    const unsigned char *cr;
    size_t j = 0;

    if (!s->o.relaxed_body) {
        cr = memchr(p, '\r', n);
        return cr != NULL ? (size_t) (cr - p) : n;
    }
    while (j < n && p[j] != '\r' && p[j] != ' ' && p[j] != '\t')
        j++;
    return j;
}

void dkim_signer_body(dkim_signer_t *s, const unsigned char *buf, size_t len)
{
    size_t i = 0;

    while (i < len) {
        unsigned char c = buf[i];
        size_t run;

        if (s->cr) {
            s->cr = false;
            if (c == '\n') {
                body_eol(s);
                i++;
                continue;
            }
            body_content(s, '\r');
        }
        if ((run = run_length(s, buf + i, len - i)) > 0) {
            body_run(s, buf + i, run);
            i += run;
            continue;
        }
        if (c == '\r')
            s->cr = true;
        else
            body_content(s, c);
        i++;
    }
}

/* RFC 6376 3.4.3/3.4.4: the body ends with one CRLF; simple makes an
 * empty body one CRLF, relaxed leaves it empty. */
static void body_final(dkim_signer_t *s, unsigned char bh[32])
{
    unsigned int n = 0;

    if (s->cr) {
        s->cr = false;
        body_content(s, '\r');
    }
    if (s->any || !s->o.relaxed_body)
        put(s, "\r\n", 2);
    EVP_DigestUpdate(s->body, s->out, s->nout);
    s->nout = 0;
    EVP_DigestFinal_ex(s->body, bh, &n);
}

/* Appends the canonical form of one field to the header hash. */
static void hash_field(EVP_MD_CTX *h, bool relaxed, const char *name, const char *value,
                       bool crlf)
{
    size_t vl = strlen(value), nl = strlen(name);
    char *buf = malloc(nl + 2 * vl + 8), *o = buf;
    bool wsp = false, started = false;

    if (buf == NULL)
        return;
    if (!relaxed) {
        memcpy(o, name, nl);
        o += nl;
        memcpy(o, ": ", 2);
        o += 2;
        for (size_t i = 0; i < vl; i++) {
            if (value[i] == '\n' && (i == 0 || value[i - 1] != '\r'))
                *o++ = '\r';
            *o++ = value[i];
        }
    } else {
        for (size_t i = 0; i < nl; i++)
            *o++ = (char) (name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
        while (nl > 0 && (o[-1] == ' ' || o[-1] == '\t'))
            o--, nl--;
        *o++ = ':';
        for (size_t i = 0; i < vl; i++) {
            char c = value[i];

            if (c == '\r' || c == '\n')
                continue;           /* unfold */
            if (c == ' ' || c == '\t') {
                wsp = started;
                continue;
            }
            if (wsp)
                *o++ = ' ';
            wsp = false;
            started = true;
            *o++ = c;
        }
    }
    if (crlf) {
        *o++ = '\r';
        *o++ = '\n';
    }
    EVP_DigestUpdate(h, buf, (size_t) (o - buf));
    free(buf);
}

/* Hashes the signed fields (bottom-up per name) and builds h=. */
static int hash_fields(dkim_signer_t *s, EVP_MD_CTX *h, char *hlist, size_t hlen)
{
    const char **names = dkim_hdrlist_signed(s->o.hdrs);
    size_t o = 0;

    hlist[0] = '\0';
    for (size_t n = 0; names[n] != NULL; n++) {
        bool over = dkim_hdrlist_is_oversigned(s->o.hdrs, names[n]);

        for (size_t i = s->nf; i-- > 0;) {
            if (strcasecmp(s->f[i].name, names[n]) != 0)
                continue;
            hash_field(h, s->o.relaxed_header, s->f[i].name, s->f[i].value, true);
            o += (size_t) snprintf(hlist + o, hlen - o, "%s%s", o ? ":" : "", names[n]);
            if (o >= hlen)
                return -1;
        }
        if (over) {
            o += (size_t) snprintf(hlist + o, hlen - o, "%s%s", o ? ":" : "", names[n]);
            if (o >= hlen)
                return -1;
        }
    }
    return 0;
}

static void b64(const unsigned char *in, size_t n, char *out)
{
    EVP_EncodeBlock((unsigned char *) out, in, (int) n);
}

/* Folds TAGS (one line) at the tag separators and inside long values,
 * with "\n\t". Never right after '=', and each decision looks at the
 * next character only, so the value without b='s data folds as a
 * prefix of the value with it. */
static char *fold(const char *tags)
{
    size_t len = strlen(tags), col = 16, o = 0;
    char *v = malloc(len * 2 + 16);

    if (v == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++) {
        v[o++] = tags[i];
        col++;
        if (tags[i] == ';' && tags[i + 1] == ' ' && col > 60) {
            i++;
            memcpy(v + o, "\n\t", 2);
            o += 2;
            col = 8;
        } else if (col >= 76 && tags[i] != ';' && tags[i] != '=' && tags[i + 1] != '\0'
                   && tags[i + 1] != ';' && tags[i + 1] != ' ') {
            memcpy(v + o, "\n\t", 2);
            o += 2;
            col = 8;
        }
    }
    v[o] = '\0';
    return v;
}

static int sign_digest(const dkim_key_t *k, const unsigned char *d, size_t dl,
                       unsigned char *sig, size_t *sl)
{
    EVP_PKEY_CTX *pc = NULL;
    EVP_MD_CTX *mc = NULL;
    int ok = 0;

    if (k->alg == DKIM_KEY_ED25519) {
        /* RFC 8463 3: Ed25519 (pure) over the SHA-256 hash. */
        mc = EVP_MD_CTX_new();
        ok = mc != NULL && EVP_DigestSignInit(mc, NULL, NULL, NULL, k->pkey) == 1
             && EVP_DigestSign(mc, sig, sl, d, dl) == 1;
        EVP_MD_CTX_free(mc);
        return ok ? 0 : -1;
    }
    pc = EVP_PKEY_CTX_new(k->pkey, NULL);
    ok = pc != NULL && EVP_PKEY_sign_init(pc) == 1
         && EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) == 1
         && EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()) == 1
         && EVP_PKEY_sign(pc, sig, sl, d, dl) == 1;
    EVP_PKEY_CTX_free(pc);
    return ok ? 0 : -1;
}

char *dkim_signer_finish(dkim_signer_t *s, char *err, size_t errlen)
{
    unsigned char bh[32], hd[32], sig[1024];
    char bh64[64], hlist[4096], tags[6144], x[40] = "", *unsigned_v = NULL, *v = NULL;
    char sig64[1400];
    size_t sl = sizeof(sig);
    unsigned int hdl = 0;
    EVP_MD_CTX *h = EVP_MD_CTX_new();

    body_final(s, bh);
    b64(bh, 32, bh64);
    if (h == NULL || EVP_DigestInit_ex(h, EVP_sha256(), NULL) != 1
        || hash_fields(s, h, hlist, sizeof(hlist)) < 0) {
        snprintf(err, errlen, "too many header fields to sign");
        goto out;
    }
    if (s->o.ttl > 0)
        snprintf(x, sizeof(x), " x=%llu;", (unsigned long long) (s->o.now + s->o.ttl));
    snprintf(tags, sizeof(tags), "v=1; a=%s; c=%s/%s; d=%s; s=%s; t=%llu;%s h=%s; bh=%s; b=",
             dkim_keys_alg_name(s->key->alg), s->o.relaxed_header ? "relaxed" : "simple",
             s->o.relaxed_body ? "relaxed" : "simple", s->key->sdid, s->key->selector,
             (unsigned long long) s->o.now, x, hlist, bh64);
    /* The field as it will be written, with b= empty, is hashed last
     * and without its CRLF (RFC 6376 3.7). */
    if ((unsigned_v = fold(tags)) == NULL)
        goto oom;
    hash_field(h, s->o.relaxed_header, "DKIM-Signature", unsigned_v, false);
    EVP_DigestFinal_ex(h, hd, &hdl);
    if (sign_digest(s->key, hd, hdl, sig, &sl) < 0 || sl > sizeof(sig)) {
        snprintf(err, errlen, "signature failed");
        goto out;
    }
    b64(sig, sl, sig64);
    strncat(tags, sig64, sizeof(tags) - strlen(tags) - 1);
    if ((v = fold(tags)) == NULL)
        goto oom;
    /* b= is folded like the rest; the hashed prefix must be unchanged. */
    if (strncmp(v, unsigned_v, strlen(unsigned_v)) != 0) {
        snprintf(err, errlen, "internal folding error");
        free(v);
        v = NULL;
    }
    goto out;
oom:
    snprintf(err, errlen, "out of memory");
out:
    free(unsigned_v);
    EVP_MD_CTX_free(h);
    return v;
}
