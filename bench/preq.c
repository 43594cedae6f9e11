/*
 * preq.c - policy-load's request builder: literal pieces copied with
 * memcpy and numbers written by hand. snprintf and the generic encoder
 * cost the generator about as much CPU per request as a fast server
 * spends answering it, which hid the server behind the generator.
 */
#include <string.h>

#include "preq.h"

typedef struct {
    char *p;
} out_t;

/* A string literal without its NUL. */
#define LIT(o, s) put(o, s, sizeof(s) - 1)

static void put(out_t *o, const char *s, size_t n)
{
    memcpy(o->p, s, n);
    o->p += n;
}

/* V in decimal; a constant divisor becomes a multiplication. */
static void dec(out_t *o, uint64_t v)
{
    char tmp[24];
    unsigned n = 0;

    do {
        tmp[n++] = (char) ('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        *o->p++ = tmp[--n];
}

/* V in hexadecimal, at least WIDTH digits. */
static void hex(out_t *o, uint64_t v, unsigned width, int upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    unsigned n = 0;

    do {
        tmp[n++] = digits[v & 15];
        v >>= 4;
    } while (v != 0);
    while (n < width && n < sizeof(tmp))
        tmp[n++] = '0';
    while (n > 0)
        *o->p++ = tmp[--n];
}

/* SplitMix64's finaliser: every input bit moves the output, so
 * consecutive request numbers give unrelated keys. */
static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15u;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

uint64_t preq_key(const preq_space_t *sp, uint64_t n, unsigned k)
{
    return mix64(((uint64_t) sp->seed << 40) + n * PREQ_NKEYS + k);
}

static void client_name(out_t *o, unsigned cl)
{
    LIT(o, "client");
    dec(o, cl);
    LIT(o, ".example.net\n");
}

size_t preq_build(char *buf, const preq_space_t *sp, uint64_t n, const preq_conn_t *who)
{
    unsigned s = (unsigned) (preq_key(sp, n, PREQ_SENDER) % sp->senders);
    unsigned cl = (unsigned) (preq_key(sp, n, PREQ_CLIENT) % sp->clients) + 1;
    unsigned r = (unsigned) (preq_key(sp, n, PREQ_RCPT) % sp->recipients);
    out_t o = { buf };

    LIT(&o, "request=smtpd_access_policy\nprotocol_state=");
    if (sp->eom)
        LIT(&o, "END-OF-MESSAGE\nprotocol_name=ESMTP\nhelo_name=");
    else
        LIT(&o, "RCPT\nprotocol_name=ESMTP\nhelo_name=");
    client_name(&o, cl);
    LIT(&o, "queue_id=");
    if (sp->eom) {
        hex(&o, who->worker & 0xfffu, 3, 1);
        hex(&o, n & 0xfffffffu, 7, 1);
    }
    LIT(&o, "\nsender=user");
    dec(&o, s);
    LIT(&o, "@example.org\nrecipient=rcpt");
    dec(&o, r);
    LIT(&o, "@example.com\nrecipient_count=");
    if (sp->eom)
        LIT(&o, "1\nclient_address=10.");
    else
        LIT(&o, "0\nclient_address=10.");
    dec(&o, (cl >> 16) & 255);
    LIT(&o, ".");
    dec(&o, (cl >> 8) & 255);
    LIT(&o, ".");
    dec(&o, cl & 255);
    LIT(&o, "\nclient_name=");
    client_name(&o, cl);
    LIT(&o, "reverse_client_name=");
    client_name(&o, cl);
    LIT(&o, "instance=");
    hex(&o, 0x1000u + who->worker, 1, 0);
    LIT(&o, ".");
    hex(&o, who->conn, 1, 0);
    LIT(&o, ".");
    hex(&o, who->txn, 1, 0);
    if (sp->sasl_users > 0) {
        LIT(&o, "\nsasl_method=PLAIN\nsasl_username=sasl");
        dec(&o, preq_key(sp, n, PREQ_SASL) % sp->sasl_users);
    } else {
        LIT(&o, "\nsasl_method=\nsasl_username=");
    }
    LIT(&o, "\nsasl_sender=\nsize=");
    dec(&o, 1000 + preq_key(sp, n, PREQ_SIZE) % 100000);
    LIT(&o, "\nccert_subject=\nccert_issuer=\nccert_fingerprint=\n"
        "encryption_protocol=\nencryption_cipher=\nencryption_keysize=0\n"
        "etrn_domain=\nstress=\nccert_pubkey_fingerprint=\nclient_port=");
    dec(&o, 1024 + n % 60000);
    LIT(&o, "\npolicy_context=\nserver_address=192.0.2.1\nserver_port=25\n\n");
    *o.p = '\0';
    return (size_t) (o.p - buf);
}
