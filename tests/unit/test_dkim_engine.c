/*
 * test_dkim_engine.c - signing and verifying whole messages through the
 * libopendkim engine with an in-memory key source: our RSA and Ed25519
 * signatures verify, changes after signing fail, missing and unreachable
 * keys give permerror and temperror, over-signing stops added fields,
 * hostile input gets a result, the RFC 8463 example verifies, and an
 * RSA key record is decoded once (common/pkeycache, reached through the
 * d2i_PUBKEY_bio linked in here as in the daemons) but never answered
 * from the cache once its bytes change.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "pkeycache.h"

#include "dkim_engine.h"
#include "dkim_hdrlist.h"
#include "dkim_keys.h"
#include "dkim_result.h"

#define MAXREC 8

/* The in-memory DNS: NAME -> TXT; "temp" answers a temporary failure. */
typedef struct zone {
    char name[MAXREC][256];
    char txt[MAXREC][2048];
    size_t n;
    bool temp;
} zone_t;

static dkim_keysrc_t zone_lookup(void *arg, const char *sel, const char *dom, char *buf,
                                 size_t len)
{
    zone_t *z = arg;
    char name[600];

    if (z->temp)
        return DKIM_KEYSRC_TEMP;
    snprintf(name, sizeof(name), "%s._domainkey.%s", sel, dom);
    for (size_t i = 0; i < z->n; i++)
        if (strcmp(z->name[i], name) == 0) {
            snprintf(buf, len, "%s", z->txt[i]);
            return DKIM_KEYSRC_OK;
        }
    return DKIM_KEYSRC_NOTFOUND;
}

static void zone_add(zone_t *z, const char *name, const char *txt)
{
    snprintf(z->name[z->n], sizeof(z->name[0]), "%.250s", name);
    snprintf(z->txt[z->n], sizeof(z->txt[0]), "%s", txt);
    z->n++;
}

static char *slurp(const char *dir, const char *file, size_t *len)
{
    char path[1024];
    FILE *fp;
    char *buf;
    long n;

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    fp = fopen(path, "rb");
    if (fp == NULL)
        return NULL;
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    rewind(fp);
    buf = malloc((size_t) n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t) n, fp), (size_t) n);
    buf[n] = '\0';
    fclose(fp);
    if (len)
        *len = (size_t) n;
    return buf;
}

static const char *data_dir(void)
{
    static char dir[1024];
    const char *d = getenv("POSTERN_TEST_DATA");

    snprintf(dir, sizeof(dir), "%s/dkim", d ? d : "tests/data");
    return dir;
}

typedef struct fixture {
    zone_t zone;
    dkim_keys_t *keys;
    dkim_hdrlist_t *hdrs;
    dkim_engine_t *eng;
} fixture_t;

static fixture_t fx;

static void add_key(const char *file, const char *sel)
{
    char err[256], rec[2048];
    size_t len;
    char *pem = slurp(data_dir(), file, &len);
    char name[300];

    assert_non_null(pem);
    assert_int_equal(dkim_keys_add_pem(fx.keys, "example.com", sel, pem, len, NULL, file, err,
                                       sizeof(err)), 0);
    assert_true(dkim_keys_dns_record(pem, len, rec, sizeof(rec), err, sizeof(err)) > 0);
    snprintf(name, sizeof(name), "%s._domainkey.example.com", sel);
    zone_add(&fx.zone, name, rec);
    free(pem);
}

static int setup(void **state)
{
    static const char *const sign[] = { "to", "subject", "date" };
    static const char *const over[] = { "from", "subject" };
    char err[256];

    (void) state;
    memset(&fx, 0, sizeof(fx));
    fx.keys = dkim_keys_new();
    add_key("rsa2048.pem", "rsa1");
    add_key("ed25519.pem", "ed1");
    fx.hdrs = dkim_hdrlist_new(sign, 3, over, 2, err, sizeof(err));
    assert_non_null(fx.hdrs);
    dkim_engine_opts_t o = { .hdrs = fx.hdrs, .relaxed_header = true, .relaxed_body = true,
                             .keysrc = zone_lookup, .keysrc_arg = &fx.zone,
                             .max_headers = 200 };
    fx.eng = dkim_engine_new(&o, err, sizeof(err));
    assert_non_null(fx.eng);
    return 0;
}

static int teardown(void **state)
{
    (void) state;
    dkim_engine_free(fx.eng);
    dkim_hdrlist_free(fx.hdrs);
    dkim_keys_free(fx.keys);
    return 0;
}

/* A message as the milter sees it: fields (name, value) and a body. */
typedef struct msg {
    const char *h[64][2];
    size_t nh;
    const char *body;
} msg_t;

static void feed(dkim_msg_t *m, const msg_t *msg)
{
    for (size_t i = 0; i < msg->nh; i++)
        dkim_msg_header(m, msg->h[i][0], msg->h[i][1]);
    dkim_msg_eoh(m);
    dkim_msg_body(m, (const unsigned char *) msg->body, strlen(msg->body));
}

static const msg_t base = {
    { { "From", "Alice <alice@example.com>" }, { "To", "bob@example.org" },
      { "Subject", "lunch" }, { "Date", "Tue, 24 Nov 2026 10:00:00 +0000" } },
    4, "Hello Bob.\r\n\r\nSee you at noon.\r\n"
};

/* Signs BASE with every key for example.com; returns how many
 * DKIM-Signature values were written into SIGS. */
static size_t sign_base(char sigs[][4096])
{
    const dkim_key_t *keys[4];
    size_t nk = dkim_keys_find(fx.keys, "example.com", keys, 4), ns;
    char err[256];
    dkim_msg_t *m = dkim_msg_sign(fx.eng, "T1", keys, nk, err, sizeof(err));

    assert_non_null(m);
    feed(m, &base);
    assert_int_equal(dkim_msg_eom(m), 0);
    ns = dkim_msg_nsignatures(m);
    for (size_t i = 0; i < ns; i++)
        snprintf(sigs[i], 4096, "%s", dkim_msg_signature(m, i));
    dkim_msg_free(m);
    return ns;
}

/* Verifies MSG with the signatures prepended; copies the results. */
static size_t verify(const msg_t *msg, char sigs[][4096], size_t ns, dkim_sigres_t *out)
{
    msg_t full = { .nh = 0, .body = msg->body };
    const dkim_sigres_t *r;
    char err[256];
    dkim_msg_t *m = dkim_msg_verify(fx.eng, "V1", err, sizeof(err));
    size_t n;

    assert_non_null(m);
    for (size_t i = 0; i < ns; i++) {
        full.h[full.nh][0] = "DKIM-Signature";
        full.h[full.nh++][1] = sigs[i];
    }
    for (size_t i = 0; i < msg->nh; i++) {
        full.h[full.nh][0] = msg->h[i][0];
        full.h[full.nh++][1] = msg->h[i][1];
    }
    feed(m, &full);
    assert_int_equal(dkim_msg_eom(m), 0);
    n = dkim_msg_results(m, &r);
    if (n > 0)
        memcpy(out, r, n * sizeof(*r));
    dkim_msg_free(m);
    return n;
}

static void rsa_and_ed25519_signatures_verify_as_pass(void **state)
{
    char sigs[4][4096];
    dkim_sigres_t r[8];

    (void) state;
    assert_int_equal(sign_base(sigs), 2);
    assert_non_null(strstr(sigs[0], "a=rsa-sha256"));
    assert_non_null(strstr(sigs[1], "a=ed25519-sha256"));
    assert_non_null(strstr(sigs[0], "c=relaxed/relaxed"));
    assert_int_equal(verify(&base, sigs, 2, r), 2);
    assert_int_equal(r[0].res, DKIM_RES_PASS);
    assert_string_equal(r[0].domain, "example.com");
    assert_string_equal(r[0].selector, "rsa1");
    assert_string_equal(r[0].alg, "rsa-sha256");
    assert_int_equal(r[0].bits, 2048);
    assert_int_equal(r[1].res, DKIM_RES_PASS);
    assert_string_equal(r[1].alg, "ed25519-sha256");
}

/* Every canonicalization, on bodies that test its edges (as MTAs pass
 * them: CRLF line ends), verifies with libopendkim. */
static void every_canonicalization_verifies_with_libopendkim(void **state)
{
    static const char *const bodies[] = {
        "", "\r\n", "\r\n\r\n\r\n", "a  \t b \t\r\n\r\n \t\r\n",
        "trailing blanks   \r\n\r\n", " \t\r\nx\r\n\r\n\r\ny\r\n",
    };
    static const bool canon[4][2] = { { true, true }, { true, false }, { false, true },
                                      { false, false } };
    const dkim_key_t *keys[4];
    size_t nk = dkim_keys_find(fx.keys, "example.com", keys, 4);
    char err[256];

    (void) state;
    for (size_t c = 0; c < 4; c++) {
        dkim_engine_opts_t o = { .hdrs = fx.hdrs, .relaxed_header = canon[c][0],
                                 .relaxed_body = canon[c][1], .keysrc = zone_lookup,
                                 .keysrc_arg = &fx.zone, .signature_ttl_s = 3600 };
        dkim_engine_t *eng = dkim_engine_new(&o, err, sizeof(err));

        assert_non_null(eng);
        for (size_t b = 0; b < sizeof(bodies) / sizeof(bodies[0]); b++) {
            msg_t msg = base;
            dkim_msg_t *m = dkim_msg_sign(eng, "C", keys, nk, err, sizeof(err));
            char sigs[4][4096];
            const dkim_sigres_t *r;

            msg.h[1][1] = "Bob\n\t <bob@example.org>";       /* folded */
            msg.body = bodies[b];
            for (size_t i = 0; i < msg.nh; i++)
                dkim_msg_header(m, msg.h[i][0], msg.h[i][1]);
            dkim_msg_eoh(m);
            /* one byte at a time: CRLF and blank runs split across chunks */
            for (const char *p = msg.body; *p; p++)
                dkim_msg_body(m, (const unsigned char *) p, 1);
            assert_int_equal(dkim_msg_eom(m), 0);
            for (size_t i = 0; i < nk; i++)
                snprintf(sigs[i], sizeof(sigs[i]), "%s", dkim_msg_signature(m, i));
            assert_non_null(strstr(sigs[0], " x="));
            dkim_msg_free(m);
            dkim_msg_t *v = dkim_msg_verify(eng, "V", err, sizeof(err));
            for (size_t i = 0; i < nk; i++)
                dkim_msg_header(v, "DKIM-Signature", sigs[i]);
            for (size_t i = 0; i < msg.nh; i++)
                dkim_msg_header(v, msg.h[i][0], msg.h[i][1]);
            dkim_msg_eoh(v);
            /* the body in two chunks, split inside a CRLF when there is one */
            size_t len = strlen(msg.body), cut = len / 2;
            dkim_msg_body(v, (const unsigned char *) msg.body, cut);
            dkim_msg_body(v, (const unsigned char *) msg.body + cut, len - cut);
            dkim_msg_eom(v);
            assert_int_equal(dkim_msg_results(v, &r), nk);
            for (size_t i = 0; i < nk; i++)
                if (r[i].res != DKIM_RES_PASS)
                    fail_msg("canon %zu body %zu sig %zu: %s (%s)", c, b, i,
                             dkim_result_name(r[i].res), r[i].reason);
            dkim_msg_free(v);
        }
        dkim_engine_free(eng);
    }
}

static void from_and_subject_are_over_signed(void **state)
{
    char sigs[4][4096];

    (void) state;
    sign_base(sigs);
    /* h= lists From twice (present once + one over-signed) */
    const char *h = strstr(sigs[0], "h=");
    assert_non_null(h);
    const char *f1 = strcasestr(h, "from");
    assert_non_null(f1);
    assert_non_null(strcasestr(f1 + 4, "from"));
    const char *s1 = strcasestr(h, "subject");
    assert_non_null(s1);
    assert_non_null(strcasestr(s1 + 7, "subject"));
    const char *d1 = strcasestr(h, "date");     /* signed, not over-signed */
    assert_non_null(d1);
    assert_null(strcasestr(d1 + 4, "date"));
}

static void changed_body_fails(void **state)
{
    char sigs[4][4096];
    dkim_sigres_t r[8];
    msg_t m = base;

    (void) state;
    sign_base(sigs);
    m.body = "Hello Bob.\r\n\r\nSee you at one.\r\n";
    assert_int_equal(verify(&m, sigs, 2, r), 2);
    assert_int_equal(r[0].res, DKIM_RES_FAIL);
    assert_int_equal(r[1].res, DKIM_RES_FAIL);
}

static void changed_header_fails(void **state)
{
    char sigs[4][4096];
    dkim_sigres_t r[8];
    msg_t m = base;

    (void) state;
    sign_base(sigs);
    m.h[2][1] = "dinner";
    assert_int_equal(verify(&m, sigs, 2, r), 2);
    assert_int_equal(r[0].res, DKIM_RES_FAIL);
}

static void added_from_after_signing_fails(void **state)
{
    char sigs[4][4096];
    dkim_sigres_t r[8];
    msg_t m = base;

    (void) state;
    sign_base(sigs);
    m.h[m.nh][0] = "From";
    m.h[m.nh++][1] = "ceo@example.com";
    assert_int_equal(verify(&m, sigs, 2, r), 2);
    assert_int_equal(r[0].res, DKIM_RES_FAIL);
}

static void added_unsigned_header_still_passes(void **state)
{
    char sigs[4][4096];
    dkim_sigres_t r[8];
    msg_t m = base;

    (void) state;
    sign_base(sigs);
    m.h[m.nh][0] = "X-Mailing-List";
    m.h[m.nh++][1] = "added in transit";
    assert_int_equal(verify(&m, sigs, 2, r), 2);
    assert_int_equal(r[0].res, DKIM_RES_PASS);
}

static void missing_key_is_permerror_and_dns_failure_temperror(void **state)
{
    char sigs[4][4096];
    dkim_sigres_t r[8];
    zone_t saved = fx.zone;

    (void) state;
    sign_base(sigs);
    fx.zone.n = 0;
    assert_int_equal(verify(&base, sigs, 2, r), 2);
    assert_int_equal(r[0].res, DKIM_RES_PERMERROR);
    assert_string_equal(r[0].reason, "no key for signature");
    fx.zone.temp = true;
    assert_int_equal(verify(&base, sigs, 2, r), 2);
    assert_int_equal(r[0].res, DKIM_RES_TEMPERROR);
    assert_int_equal(r[1].res, DKIM_RES_TEMPERROR);
    fx.zone = saved;
}

static void unsigned_message_has_no_results(void **state)
{
    dkim_sigres_t r[8];

    (void) state;
    assert_int_equal(verify(&base, NULL, 0, r), 0);
}

static void malformed_signatures_get_a_result(void **state)
{
    static const char *const bad[] = {
        "v=1; a=rsa-sha256; d=example.com; s=rsa1; h=from; bh=; b=",
        "v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=rsa1; h=from; l=99999999999999999999; bh=AAAA; b=AAAA",
        "v=1; a=md5; d=example.com; s=rsa1; h=from; bh=AAAA; b=AAAA",
        "garbage without tags",
        "v=1; a=rsa-sha256; d=; s=; h=; bh=!!!; b=###",
        "v=1;;;;;;;===;;a==rsa-sha256",
    };
    char sigs[1][4096];
    dkim_sigres_t r[8];

    (void) state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(sigs[0], sizeof(sigs[0]), "%s", bad[i]);
        assert_int_equal(verify(&base, sigs, 1, r), 1);
        assert_true(r[0].res != DKIM_RES_PASS);
        assert_true(r[0].res != DKIM_RES_NONE);
    }
}

static void broken_base64_key_is_permerror(void **state)
{
    char sigs[4][4096];
    dkim_sigres_t r[8];
    zone_t saved = fx.zone;

    (void) state;
    sign_base(sigs);
    snprintf(fx.zone.txt[0], sizeof(fx.zone.txt[0]), "v=DKIM1; k=rsa; p=!!notbase64@@");
    assert_int_equal(verify(&base, sigs, 1, r), 1);
    assert_int_equal(r[0].res, DKIM_RES_PERMERROR);
    fx.zone = saved;
}

/* "v=DKIM1; k=rsa; p=..." of a new RSA-2048 key into REC. */
static void new_rsa_record(char *rec, size_t reclen)
{
    EVP_PKEY *k = EVP_RSA_gen(2048);
    unsigned char *der = NULL, b64[1024];
    int n;

    assert_non_null(k);
    n = i2d_PUBKEY(k, &der);
    assert_true(n > 0 && n < 700);
    EVP_EncodeBlock(b64, der, n);
    snprintf(rec, reclen, "v=DKIM1; k=rsa; p=%s", (char *) b64);
    OPENSSL_free(der);
    EVP_PKEY_free(k);
}

static void rsa_key_decoded_once_and_never_answered_when_changed(void **state)
{
    char sigs[4][4096];
    dkim_sigres_t r[8];
    unsigned long hits, misses;
    zone_t saved = fx.zone;

    (void) state;
    sign_base(sigs);                /* sigs[0]: rsa1, the zone's first record */
    pkeycache_flush();
    for (int i = 0; i < 3; i++) {
        assert_int_equal(verify(&base, sigs, 1, r), 1);
        assert_int_equal(r[0].res, DKIM_RES_PASS);
    }
    pkeycache_stats(&hits, &misses);
    assert_int_equal(misses, 1);
    assert_int_equal(hits, 2);
    /* the selector now publishes another key: decoded anew, and the
     * signature made with the old one fails */
    new_rsa_record(fx.zone.txt[0], sizeof(fx.zone.txt[0]));
    assert_int_equal(verify(&base, sigs, 1, r), 1);
    assert_int_equal(r[0].res, DKIM_RES_FAIL);
    pkeycache_stats(&hits, &misses);
    assert_int_equal(misses, 2);
    assert_int_equal(hits, 2);
    fx.zone = saved;
    pkeycache_flush();
}

static void too_many_signatures_are_cut_at_the_limit(void **state)
{
    char sigs[20][4096];
    dkim_sigres_t r[20];

    (void) state;
    sign_base(sigs);
    for (size_t i = 2; i < 12; i++)
        snprintf(sigs[i], sizeof(sigs[i]), "%s", sigs[i % 2]);
    assert_int_equal(verify(&base, sigs, 12, r), 5);    /* max_signatures default */
}

static void huge_header_count_and_huge_field_get_a_result(void **state)
{
    char err[256];
    dkim_msg_t *m = dkim_msg_verify(fx.eng, "H1", err, sizeof(err));
    const dkim_sigres_t *r;
    char *big = malloc(1024 * 1024 + 1);
    char sigs[4][4096];

    (void) state;
    sign_base(sigs);
    assert_non_null(m);
    dkim_msg_header(m, "DKIM-Signature", sigs[0]);
    for (int i = 0; i < 300; i++)
        dkim_msg_header(m, "Received", "from x by y");
    dkim_msg_eoh(m);
    dkim_msg_eom(m);
    assert_int_equal(dkim_msg_results(m, &r), 1);
    assert_int_equal(r[0].res, DKIM_RES_NEUTRAL);
    assert_string_equal(r[0].reason, "too many header fields");
    dkim_msg_free(m);

    memset(big, 'a', 1024 * 1024);
    big[1024 * 1024] = '\0';
    m = dkim_msg_verify(fx.eng, "H2", err, sizeof(err));
    dkim_msg_header(m, "DKIM-Signature", sigs[0]);
    for (size_t i = 0; i < base.nh; i++)
        dkim_msg_header(m, base.h[i][0], base.h[i][1]);
    dkim_msg_header(m, "X-Big", big);
    dkim_msg_eoh(m);
    dkim_msg_body(m, (const unsigned char *) base.body, strlen(base.body));
    dkim_msg_eom(m);
    assert_int_equal(dkim_msg_results(m, &r), 1);
    assert_int_equal(r[0].res, DKIM_RES_PASS);    /* X-Big is not signed */
    dkim_msg_free(m);
    free(big);
}

/* Splits an RFC 5322 text (CRLF) into fields and body, the way the MTA
 * hands them to a milter. Values point into TEXT, which is modified. */
static void split_message(char *text, msg_t *m)
{
    char *p = text;

    m->nh = 0;
    while (*p && !(p[0] == '\r' && p[1] == '\n')) {
        char *colon = strchr(p, ':'), *end = p;

        assert_non_null(colon);
        for (;;) {
            end = strstr(end, "\r\n");
            assert_non_null(end);
            if (end[2] != ' ' && end[2] != '\t')
                break;
            end += 2;
        }
        *colon = '\0';
        *end = '\0';
        m->h[m->nh][0] = p;
        m->h[m->nh++][1] = colon + 1 + (colon[1] == ' ');
        p = end + 2;
    }
    m->body = *p ? p + 2 : p;
}

static void rfc8463_example_verifies(void **state)
{
    char dir[1100];
    const char *conf = getenv("POSTERN_CONFORMANCE_DIR");
    char *text, err[256];
    msg_t msg;
    zone_t z = { .n = 0 };
    const dkim_sigres_t *r;

    (void) state;
    snprintf(dir, sizeof(dir), "%s/dkim", conf ? conf : "tests/conformance/data");
    text = slurp(dir, "rfc8463-a3.eml", NULL);
    if (text == NULL)
        skip();
    zone_add(&z, "brisbane._domainkey.football.example.com",
             "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=");
    zone_add(&z, "test._domainkey.football.example.com",
             "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6W"
             "k08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6l"
             "HvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB");
    dkim_engine_opts_t o = { .keysrc = zone_lookup, .keysrc_arg = &z };
    dkim_engine_t *eng = dkim_engine_new(&o, err, sizeof(err));
    dkim_msg_t *m = dkim_msg_verify(eng, "RFC", err, sizeof(err));

    split_message(text, &msg);
    feed(m, &msg);
    dkim_msg_eom(m);
    assert_int_equal(dkim_msg_results(m, &r), 2);
    assert_int_equal(r[0].res, DKIM_RES_PASS);
    assert_string_equal(r[0].alg, "ed25519-sha256");
    assert_int_equal(r[1].res, DKIM_RES_PASS);
    assert_string_equal(r[1].alg, "rsa-sha256");
    dkim_msg_free(m);
    dkim_engine_free(eng);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rsa_and_ed25519_signatures_verify_as_pass),
        cmocka_unit_test(every_canonicalization_verifies_with_libopendkim),
        cmocka_unit_test(from_and_subject_are_over_signed),
        cmocka_unit_test(changed_body_fails),
        cmocka_unit_test(changed_header_fails),
        cmocka_unit_test(added_from_after_signing_fails),
        cmocka_unit_test(added_unsigned_header_still_passes),
        cmocka_unit_test(missing_key_is_permerror_and_dns_failure_temperror),
        cmocka_unit_test(unsigned_message_has_no_results),
        cmocka_unit_test(malformed_signatures_get_a_result),
        cmocka_unit_test(broken_base64_key_is_permerror),
        cmocka_unit_test(rsa_key_decoded_once_and_never_answered_when_changed),
        cmocka_unit_test(too_many_signatures_are_cut_at_the_limit),
        cmocka_unit_test(huge_header_count_and_huge_field_get_a_result),
        cmocka_unit_test(rfc8463_example_verifies),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
