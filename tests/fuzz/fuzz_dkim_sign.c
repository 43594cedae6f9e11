/*
 * fuzz_dkim_sign.c - our signer (dkim_signer.c: canonicalization,
 * hashes, h= with over-signing, folding) on arbitrary messages, checked
 * against an independent implementation: whatever we sign, libopendkim
 * must verify as pass. The first input byte picks the canonicalization
 * and the key (RSA or Ed25519, generated once).
 *
 * Input: selector byte, header fields "Name: value" one a line (a line
 * starting with a blank continues the field), an empty line, the body.
 * The message is first made into what an MTA hands a milter: field names
 * of letters, digits and '-', no control characters in values but folds,
 * CRLF line ends in the body, a From field.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dkim_engine.h"
#include "dkim_hdrlist.h"
#include "dkim_keygen.h"
#include "dkim_keys.h"

static char records[2][2048];

static dkim_keysrc_t mem_lookup(void *arg, const char *sel, const char *dom, char *buf,
                                size_t len)
{
    (void) arg, (void) dom;
    snprintf(buf, len, "%s", records[sel[0] == 'e']);
    return DKIM_KEYSRC_OK;
}

typedef struct fuzz_state {
    dkim_keys_t *keys;
    dkim_hdrlist_t *hdrs;
    dkim_engine_t *eng[4];
} fuzz_state_t;

static fuzz_state_t *init(void)
{
    static fuzz_state_t st;
    static const char *const sign[] = { "to", "subject", "date", "cc", "x-a" };
    static const char *const over[] = { "from", "subject" };
    char err[256];

    if (st.keys != NULL)
        return &st;
    st.keys = dkim_keys_new();
    for (int i = 0; i < 2; i++) {
        char *pem = dkim_keygen_pem(i ? DKIM_KEY_ED25519 : DKIM_KEY_RSA, 1024, err, sizeof(err));
        if (pem == NULL
            || dkim_keys_add_pem(st.keys, "example.com", i ? "ed" : "rsa", pem, strlen(pem),
                                 NULL, "gen", err, sizeof(err)) < 0
            || dkim_keys_dns_record(pem, strlen(pem), records[i], sizeof(records[i]), err,
                                    sizeof(err)) < 0)
            abort();
        dkim_keygen_free(pem);
    }
    st.hdrs = dkim_hdrlist_new(sign, 5, over, 2, err, sizeof(err));
    for (int c = 0; c < 4; c++) {
        dkim_engine_opts_t o = { .hdrs = st.hdrs, .relaxed_header = c & 1,
                                 .relaxed_body = (c & 2) != 0, .keysrc = mem_lookup,
                                 .max_headers = 1000 };
        if ((st.eng[c] = dkim_engine_new(&o, err, sizeof(err))) == NULL)
            abort();
    }
    return &st;
}

typedef struct hdr {
    char *name, *value;
} hdr_t;

/* Splits TEXT into at most 64 fields with clean names; returns the
 * body offset. Values keep folds as "\n" + blank; lone CRs become
 * blanks. */
static size_t split(char *text, size_t len, hdr_t *h, size_t *nh)
{
    size_t i = 0;

    *nh = 0;
    while (i < len && text[i] != '\n') {
        size_t start = i;
        while (i < len && !(text[i] == '\n' && (i + 1 >= len || (text[i + 1] != ' '
                                                                && text[i + 1] != '\t'))))
            i++;
        text[i < len ? i : len] = '\0';
        i = i < len ? i + 1 : len;
        char *colon = strchr(text + start, ':');
        if (colon == NULL || colon == text + start || *nh >= 64)
            continue;
        *colon = '\0';
        bool ok = true;
        for (char *p = text + start; *p; p++)
            ok = ok && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
                        || (*p >= '0' && *p <= '9') || *p == '-');
        /* Control characters other than folds: libopendkim takes \v and
         * \f for blanks (isspace), RFC 5322 and dkimpy do not. */
        for (char *p = colon + 1; *p; p++)
            if (*p == '\r' || ((unsigned char) *p < 0x20 && *p != '\t' && *p != '\n'))
                *p = 'x';
        if (ok && strcasecmp(text + start, "DKIM-Signature") != 0) {
            h[*nh].name = text + start;
            h[*nh].value = colon + 1 + (colon[1] == ' ');
            (*nh)++;
        }
    }
    return i;
}

/* The body with every line end CRLF and a final CRLF. */
static unsigned char *crlf_body(const char *b, size_t n, size_t *out)
{
    unsigned char *o = malloc(2 * n + 2);
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        if (b[i] == '\r')
            continue;
        if (b[i] == '\n')
            o[k++] = '\r';
        o[k++] = (unsigned char) b[i];
    }
    if (k < 2 || o[k - 2] != '\r' || o[k - 1] != '\n') {
        o[k++] = '\r';
        o[k++] = '\n';
    }
    *out = k;
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_state_t *st = init();
    hdr_t h[64];
    size_t nh, body, blen;
    char err[256], *text;
    unsigned char *b;
    const dkim_key_t *key[4];

    if (size < 1 || size > 100000)
        return 0;
    text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    body = split(text, size - 1, h, &nh);
    b = crlf_body(text + body, body < size - 1 ? size - 1 - body : 0, &blen);
    dkim_engine_t *eng = st->eng[data[0] & 3];
    size_t nk = dkim_keys_find(st->keys, "example.com", key, 4);
    const dkim_key_t *one = key[(data[0] >> 2) & 1];
    (void) nk;

    dkim_msg_t *m = dkim_msg_sign(eng, "S", &one, 1, err, sizeof(err));
    dkim_msg_header(m, "From", "a@example.com");
    for (size_t i = 0; i < nh; i++)
        dkim_msg_header(m, h[i].name, h[i].value);
    dkim_msg_eoh(m);
    dkim_msg_body(m, b, blen);
    if (dkim_msg_eom(m) < 0)
        abort();
    char *sig = strdup(dkim_msg_signature(m, 0));
    dkim_msg_free(m);

    dkim_msg_t *v = dkim_msg_verify(eng, "V", err, sizeof(err));
    dkim_msg_header(v, "DKIM-Signature", sig);
    dkim_msg_header(v, "From", "a@example.com");
    for (size_t i = 0; i < nh; i++)
        dkim_msg_header(v, h[i].name, h[i].value);
    dkim_msg_eoh(v);
    dkim_msg_body(v, b, blen);
    dkim_msg_eom(v);
    const dkim_sigres_t *r;
    if (dkim_msg_results(v, &r) != 1 || r[0].res != DKIM_RES_PASS) {
        fprintf(stderr, "not pass: %s\n%s\n", r ? r[0].reason : "-", sig);
        abort();
    }
    dkim_msg_free(v);
    free(sig);
    free(b);
    free(text);
    return 0;
}
