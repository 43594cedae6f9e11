/*
 * dkim_keys.c - the signing key table. Built once per config (start and
 * SIGHUP); the milter only calls dkim_keys_find() per message, which
 * reads the table without allocating.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "dkim_keys.h"

#define LINE_MAX_LEN 4096
#define DOMAIN_MAX 253
#define SELECTOR_MAX 63

struct dkim_keys {
    dkim_key_t *keys;
    size_t n, cap;
};

dkim_keys_t *dkim_keys_new(void)
{
    return calloc(1, sizeof(dkim_keys_t));
}

static void key_clear(dkim_key_t *k)
{
    free(k->pattern);
    free(k->selector);
    free(k->sdid);
    free(k->path);
    EVP_PKEY_free(k->pkey);
    if (k->pem != NULL) {
        /* The private key must not linger in freed memory. */
        OPENSSL_cleanse(k->pem, strlen(k->pem));
        free(k->pem);
    }
}

void dkim_keys_free(dkim_keys_t *kt)
{
    if (kt == NULL)
        return;
    for (size_t i = 0; i < kt->n; i++)
        key_clear(&kt->keys[i]);
    free(kt->keys);
    free(kt);
}

size_t dkim_keys_count(const dkim_keys_t *kt)
{
    return kt != NULL ? kt->n : 0;
}

const char *dkim_keys_alg_name(dkim_keyalg_t alg)
{
    return alg == DKIM_KEY_ED25519 ? "ed25519-sha256" : "rsa-sha256";
}

/* A domain name as DNS allows it: letters, digits, '-', '_' and dots,
 * no empty label; what a selector and d= may hold (RFC 6376 3.1, 3.5). */
static bool name_ok(const char *s, size_t max)
{
    size_t len = strlen(s), label = 0;

    if (len == 0 || len > max || s[0] == '.' || s[len - 1] == '.')
        return false;
    for (const char *p = s; *p; p++) {
        if (*p == '.') {
            if (label == 0)
                return false;
            label = 0;
            continue;
        }
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
              || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
            return false;
        if (++label > 63)
            return false;
    }
    return true;
}

bool dkim_keys_pattern_match(const char *pattern, const char *domain)
{
    size_t plen, dlen;

    if (strcmp(pattern, "*") == 0)
        return true;
    if (strncmp(pattern, "*.", 2) != 0)
        return strcasecmp(pattern, domain) == 0;
    /* "*.example.com": DOMAIN must end in ".example.com" with at least
     * one label before it. */
    plen = strlen(pattern + 1);
    dlen = strlen(domain);
    return dlen > plen && strcasecmp(domain + dlen - plen, pattern + 1) == 0;
}

/* How specific a matching pattern is: exact beats wildcards, longer
 * wildcards beat shorter ones, "*" is last. */
static size_t pattern_rank(const char *pattern)
{
    if (strcmp(pattern, "*") == 0)
        return 1;
    if (strncmp(pattern, "*.", 2) == 0)
        return 2 + strlen(pattern);
    return (size_t) -1;
}

size_t dkim_keys_find(const dkim_keys_t *kt, const char *domain,
                      const dkim_key_t **out, size_t max)
{
    const char *best = NULL;
    size_t best_rank = 0, n = 0;

    if (kt == NULL || domain == NULL || *domain == '\0')
        return 0;
    for (size_t i = 0; i < kt->n; i++) {
        const char *p = kt->keys[i].pattern;
        size_t r = pattern_rank(p);

        if (r > best_rank && dkim_keys_pattern_match(p, domain)) {
            best = p;
            best_rank = r;
        }
    }
    if (best == NULL)
        return 0;
    for (size_t i = 0; i < kt->n && n < max; i++)
        if (strcasecmp(kt->keys[i].pattern, best) == 0)
            out[n++] = &kt->keys[i];
    return n;
}

static EVP_PKEY *pem_key(const char *pem, size_t len)
{
    BIO *bio = len <= DKIM_KEYS_MAX_PEM ? BIO_new_mem_buf(pem, (int) len) : NULL;
    EVP_PKEY *pk = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;

    BIO_free(bio);
    return pk;
}

int dkim_keys_check_pem(const char *pem, size_t len, dkim_keyalg_t *alg,
                        unsigned *bits, char *err, size_t errlen)
{
    EVP_PKEY *pk = len > 0 ? pem_key(pem, len) : NULL;
    int rc = -1;

    if (pk == NULL) {
        snprintf(err, errlen, "not a PEM private key");
        return -1;
    }
    *bits = (unsigned) EVP_PKEY_get_bits(pk);
    if (EVP_PKEY_is_a(pk, "ED25519")) {
        *alg = DKIM_KEY_ED25519;
        rc = 0;
    } else if (EVP_PKEY_is_a(pk, "RSA")) {
        *alg = DKIM_KEY_RSA;
        if (*bits < DKIM_KEYS_MIN_RSA_BITS)
            snprintf(err, errlen, "RSA key of %u bits: at least %d are required (RFC 8301)",
                     *bits, DKIM_KEYS_MIN_RSA_BITS);
        else
            rc = 0;
    } else {
        snprintf(err, errlen, "key type %s: only RSA and Ed25519 sign DKIM",
                 EVP_PKEY_get0_type_name(pk) ? EVP_PKEY_get0_type_name(pk) : "unknown");
    }
    EVP_PKEY_free(pk);
    return rc;
}

/* The public key bytes DKIM publishes: raw for Ed25519, DER SPKI for RSA. */
static unsigned char *public_bytes(EVP_PKEY *pk, bool ed, size_t *n)
{
    unsigned char *der = NULL;
    int len;

    if (ed) {
        *n = 32;
        der = OPENSSL_malloc(32);
        if (der != NULL && (EVP_PKEY_get_raw_public_key(pk, der, n) != 1 || *n != 32)) {
            OPENSSL_free(der);
            der = NULL;
        }
        return der;
    }
    len = i2d_PUBKEY(pk, &der);
    *n = len > 0 ? (size_t) len : 0;
    return len > 0 ? der : NULL;
}

int dkim_keys_dns_record(const char *pem, size_t len, char *out, size_t outlen,
                         char *err, size_t errlen)
{
    EVP_PKEY *pk = pem_key(pem, len);
    bool ed = pk != NULL && EVP_PKEY_is_a(pk, "ED25519");
    unsigned char *pub = NULL;
    size_t n = 0;
    char b64[2048];
    int rc = -1;

    if (pk == NULL || (!ed && !EVP_PKEY_is_a(pk, "RSA"))) {
        snprintf(err, errlen, "not an RSA or Ed25519 private key");
    } else if ((pub = public_bytes(pk, ed, &n)) == NULL || 4 * ((n + 2) / 3) >= sizeof(b64)) {
        snprintf(err, errlen, "cannot encode the public key");
    } else {
        EVP_EncodeBlock((unsigned char *) b64, pub, (int) n);
        rc = snprintf(out, outlen, "v=DKIM1; k=%s; p=%s", ed ? "ed25519" : "rsa", b64);
        if (rc < 0 || (size_t) rc >= outlen) {
            snprintf(err, errlen, "record does not fit");
            rc = -1;
        }
    }
    OPENSSL_free(pub);
    EVP_PKEY_free(pk);
    return rc;
}

/* d= for PATTERN when the table gives none: the pattern's domain. */
static const char *default_sdid(const char *pattern)
{
    if (strcmp(pattern, "*") == 0)
        return NULL;
    return strncmp(pattern, "*.", 2) == 0 ? pattern + 2 : pattern;
}

static int check_names(const char *pattern, const char *selector, const char **sdid,
                       char *err, size_t errlen)
{
    const char *dom = strncmp(pattern, "*.", 2) == 0 ? pattern + 2 : pattern;

    if (strcmp(pattern, "*") != 0 && !name_ok(dom, DOMAIN_MAX)) {
        snprintf(err, errlen, "bad domain pattern '%s'", pattern);
        return -1;
    }
    if (!name_ok(selector, SELECTOR_MAX)) {
        snprintf(err, errlen, "bad selector '%s'", selector);
        return -1;
    }
    if (*sdid == NULL)
        *sdid = default_sdid(pattern);
    if (*sdid == NULL) {
        snprintf(err, errlen, "pattern '*' needs a signing domain");
        return -1;
    }
    if (!name_ok(*sdid, DOMAIN_MAX)) {
        snprintf(err, errlen, "bad signing domain '%s'", *sdid);
        return -1;
    }
    return 0;
}

static dkim_key_t *grow(dkim_keys_t *kt)
{
    if (kt->n == kt->cap) {
        size_t cap = kt->cap ? kt->cap * 2 : 8;
        dkim_key_t *k = realloc(kt->keys, cap * sizeof(*k));

        if (k == NULL)
            return NULL;
        kt->keys = k;
        kt->cap = cap;
    }
    memset(&kt->keys[kt->n], 0, sizeof(dkim_key_t));
    return &kt->keys[kt->n];
}

int dkim_keys_add_pem(dkim_keys_t *kt, const char *pattern, const char *selector,
                      const char *pem, size_t pemlen, const char *sdid,
                      const char *origin, char *err, size_t errlen)
{
    char why[256];
    dkim_key_t *k;

    if (kt->n >= DKIM_KEYS_MAX) {
        snprintf(err, errlen, "more than %d keys", DKIM_KEYS_MAX);
        return -1;
    }
    if (check_names(pattern, selector, &sdid, err, errlen) < 0)
        return -1;
    if ((k = grow(kt)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (dkim_keys_check_pem(pem, pemlen, &k->alg, &k->bits, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "%s: %s", origin, why);
        return -1;
    }
    k->pattern = strdup(pattern);
    k->selector = strdup(selector);
    k->sdid = strdup(sdid);
    k->path = strdup(origin);
    k->pem = strndup(pem, pemlen);
    k->pkey = pem_key(pem, pemlen);
    if (!k->pattern || !k->selector || !k->sdid || !k->path || !k->pem || !k->pkey) {
        key_clear(k);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    kt->n++;
    return 0;
}

/* Reads a private key file, refusing one that is not a regular file or
 * that anyone but its owner may read or write. */
static char *read_key_file(const char *path, size_t *len, char *err, size_t errlen)
{
    struct stat st;
    char *buf = NULL;
    ssize_t got = 0;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
    } else if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        snprintf(err, errlen, "%s: mode %04o lets others read the private key; "
                 "chmod 600 it", path, (unsigned) (st.st_mode & 07777));
    } else if (st.st_size <= 0 || st.st_size > DKIM_KEYS_MAX_PEM) {
        snprintf(err, errlen, "%s: size %lld is not a key", path, (long long) st.st_size);
    } else if ((buf = malloc((size_t) st.st_size + 1)) == NULL) {
        snprintf(err, errlen, "out of memory");
    } else if ((got = read(fd, buf, (size_t) st.st_size)) != st.st_size) {
        snprintf(err, errlen, "%s: short read", path);
        free(buf);
        buf = NULL;
    } else {
        buf[got] = '\0';
        *len = (size_t) got;
    }
    close(fd);
    return buf;
}

int dkim_keys_add_file(dkim_keys_t *kt, const char *pattern, const char *selector,
                       const char *path, const char *sdid, char *err, size_t errlen)
{
    size_t len = 0;
    char *pem = read_key_file(path, &len, err, errlen);
    int rc;

    if (pem == NULL)
        return -1;
    rc = dkim_keys_add_pem(kt, pattern, selector, pem, len, sdid, path, err, errlen);
    OPENSSL_cleanse(pem, len);
    free(pem);
    return rc;
}

/* One line of the table: 3 or 4 fields. 0, 1 for a blank line, -1. */
static int parse_line(dkim_keys_t *kt, char *line, char *err, size_t errlen)
{
    char *f[5], *save = NULL;
    int n = 0;

    line[strcspn(line, "#\r\n")] = '\0';
    for (char *t = strtok_r(line, " \t", &save); t != NULL; t = strtok_r(NULL, " \t", &save)) {
        if (n == 4) {
            snprintf(err, errlen, "too many fields");
            return -1;
        }
        f[n++] = t;
    }
    if (n == 0)
        return 1;
    if (n < 3) {
        snprintf(err, errlen, "want DOMAIN SELECTOR KEYFILE [SIGNING-DOMAIN]");
        return -1;
    }
    return dkim_keys_add_file(kt, f[0], f[1], f[2], n == 4 ? f[3] : NULL, err, errlen);
}

dkim_keys_t *dkim_keys_load(const char *path, char *err, size_t errlen)
{
    dkim_keys_t *kt = dkim_keys_new();
    FILE *fp = fopen(path, "re");
    char line[LINE_MAX_LEN], why[512];
    int lineno = 0;

    if (kt == NULL || fp == NULL) {
        snprintf(err, errlen, "%s: %s", path, kt == NULL ? "out of memory" : strerror(errno));
        dkim_keys_free(kt);
        if (fp != NULL)
            fclose(fp);
        return NULL;
    }
    while (fgets(line, sizeof(line), fp) != NULL) {
        lineno++;
        if (strchr(line, '\n') == NULL && !feof(fp)) {
            snprintf(err, errlen, "%s:%d: line too long", path, lineno);
            goto fail;
        }
        if (parse_line(kt, line, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
            goto fail;
        }
    }
    fclose(fp);
    return kt;
fail:
    fclose(fp);
    dkim_keys_free(kt);
    return NULL;
}
