/*
 * fuzz_dkim_verify.c - the DKIM verifier (signature header handling in
 * libopendkim behind dkim_engine, our result mapping and the
 * Authentication-Results value) on arbitrary messages. Keys come from
 * memory: the first input byte picks a good RSA key, a good Ed25519 key,
 * a broken record, "no key" or a DNS failure, so every path after the
 * key lookup is reached without a network.
 *
 * Input: one selector byte, then a message "Name: value\n..." up to an
 * empty line, then the body. Beyond "no crash, no leak": every
 * signature gets a result, and none passes, since the fuzzer cannot
 * forge RSA or Ed25519 signatures.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkim_engine.h"
#include "dkim_result.h"

static const char *const records[] = {
    "v=DKIM1; k=rsa; p="
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA3/IYTK8nqyNVwSrE6dXniuOOH48hsYAO"
    "j8RCHdwzPtINY1dAGCqsgBWNoAw7NlPcJRSOxpvLMjptnWXgF+FmMA3EP+V/QJf1mY+sS7wod0f+"
    "ZU0kgqyzkZRmiMYQShCojzrCtp7M9EYx4acK5pGpQ00U2Q3Df4UYoFIizYncn1G9YAzV58Kc4Wy0"
    "ga55IXvyh/Sb3YKQuAKRQ+3KGubHXZPryOz6Abth3JgqQH4RwVx9TfIUYKvrxyKL6926nx22A+vA"
    "tkoE9J1MbyTTxxV8j0R41LH1efa+H/3Uz4A2BAbeYMM/PALDduDEn2ORXUAXMgQtPNKVISOY1tHo"
    "DEO7zQIDAQAB",
    "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
    "v=DKIM1; k=rsa; p=!!!not base64",
    "v=DKIM2; k=rsa; h=md5; p=",
};

static dkim_keysrc_t mem_lookup(void *arg, const char *sel, const char *dom, char *buf,
                                size_t len)
{
    unsigned pick = *(const unsigned char *) arg % 6;

    (void) sel, (void) dom;
    if (pick == 4)
        return DKIM_KEYSRC_NOTFOUND;
    if (pick == 5)
        return DKIM_KEYSRC_TEMP;
    snprintf(buf, len, "%s", records[pick]);
    return DKIM_KEYSRC_OK;
}

/* Feeds the header fields of TEXT (LEN bytes) to M; returns where the
 * body starts. Continuation lines stay in the value, as MTAs pass them. */
static size_t feed_headers(dkim_msg_t *m, char *text, size_t len)
{
    size_t i = 0;

    while (i < len && text[i] != '\n') {
        size_t start = i, colon = 0;

        while (i < len && !(text[i] == '\n' && (i + 1 >= len || (text[i + 1] != ' '
                                                                && text[i + 1] != '\t')))) {
            if (colon == 0 && text[i] == ':')
                colon = i;
            i++;
        }
        if (i < len)
            text[i++] = '\0';
        else
            text[len] = '\0';
        if (colon == 0)
            continue;
        text[colon] = '\0';
        dkim_msg_header(m, text + start, text + colon + 1 + (text[colon + 1] == ' '));
    }
    return i < len ? i + 1 : len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static dkim_engine_t *eng;
    static unsigned char pick;
    char err[256], ar[8192];
    const dkim_sigres_t *r;
    dkim_msg_t *m;
    char *text;
    size_t body, n;

    if (size < 1)
        return 0;
    if (eng == NULL) {
        dkim_engine_opts_t o = { .keysrc = mem_lookup, .keysrc_arg = &pick, .max_headers = 500 };
        if ((eng = dkim_engine_new(&o, err, sizeof(err))) == NULL)
            abort();
    }
    pick = data[0];
    if ((text = malloc(size)) == NULL)
        return 0;
    memcpy(text, data + 1, size - 1);
    m = dkim_msg_verify(eng, "FUZZ", err, sizeof(err));
    if (m == NULL)
        abort();
    body = feed_headers(m, text, size - 1);
    dkim_msg_eoh(m);
    if (body < size - 1)
        dkim_msg_body(m, (const unsigned char *) text + body, size - 1 - body);
    dkim_msg_eom(m);
    n = dkim_msg_results(m, &r);
    for (size_t i = 0; i < n; i++)
        if (r[i].res == DKIM_RES_NONE)
            abort();
    if (dkim_result_authres("mx.example.org", r, n, ar, sizeof(ar)) < 0 && n < 8)
        abort();
    dkim_msg_free(m);
    free(text);
    return 0;
}
