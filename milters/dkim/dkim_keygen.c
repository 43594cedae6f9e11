/*
 * dkim_keygen.c - key pairs for DKIM and the check that DNS publishes
 * the right one. The record text comes from DNS, so it is read with
 * explicit lengths and a bound.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "dkim_keygen.h"

#define MAX_RECORD 8192

char *dkim_keygen_pem(dkim_keyalg_t alg, unsigned bits, char *err, size_t errlen)
{
    EVP_PKEY *pk;
    BIO *bio;
    char *data = NULL, *pem = NULL;
    long n = 0;

    if (alg == DKIM_KEY_RSA && (bits < DKIM_KEYS_MIN_RSA_BITS || bits > 8192)) {
        snprintf(err, errlen, "RSA key size %u: use 1024 to 8192 bits (2048 is usual)", bits);
        return NULL;
    }
    pk = alg == DKIM_KEY_ED25519 ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
                                 : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) bits);
    bio = BIO_new(BIO_s_mem());
    if (pk != NULL && bio != NULL && PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL)
        && (n = BIO_get_mem_data(bio, &data)) > 0 && (pem = malloc((size_t) n + 1)) != NULL) {
        memcpy(pem, data, (size_t) n);
        pem[n] = '\0';
    } else {
        snprintf(err, errlen, "key generation failed");
    }
    if (data != NULL && n > 0)
        OPENSSL_cleanse(data, (size_t) n);      /* memory BIO data has no NUL */
    BIO_free(bio);
    EVP_PKEY_free(pk);
    return pem;
}

void dkim_keygen_free(char *pem)
{
    if (pem != NULL) {
        OPENSSL_cleanse(pem, strlen(pem));
        free(pem);
    }
}

int dkim_keygen_write(const char *pem, const char *path, char *err, size_t errlen)
{
    size_t len = strlen(pem);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    /* fchmod: the umask may have taken bits away, never added them, but
     * say exactly what the loader will demand. */
    if (fchmod(fd, 0600) < 0 || write(fd, pem, len) != (ssize_t) len || fsync(fd) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return -1;
    }
    return close(fd) == 0 ? 0 : -1;
}

/* Value of tag NAME in a tag list ("a=1; b = 2"), copied to OUT without
 * blanks. 0, or -1 when absent or too long. */
static int tag_value(const char *txt, size_t len, const char *name, char *out, size_t outlen)
{
    size_t i = 0, nl = strlen(name);

    while (i < len) {
        size_t start, o = 0;

        while (i < len && (txt[i] == ' ' || txt[i] == '\t' || txt[i] == ';'))
            i++;
        start = i;
        while (i < len && txt[i] != '=' && txt[i] != ';')
            i++;
        size_t end = i;
        while (end > start && (txt[end - 1] == ' ' || txt[end - 1] == '\t'))
            end--;
        bool match = end - start == nl && strncmp(txt + start, name, nl) == 0;
        if (i < len && txt[i] == '=')
            i++;
        for (; i < len && txt[i] != ';'; i++) {
            if (!match || txt[i] == ' ' || txt[i] == '\t' || txt[i] == '\r' || txt[i] == '\n')
                continue;
            if (o + 1 >= outlen)
                return -1;
            out[o++] = txt[i];
        }
        if (match) {
            out[o] = '\0';
            return 0;
        }
    }
    return -1;
}

int dkim_keygen_matches(const char *pem, size_t pemlen, const char *txt, size_t txtlen,
                        char *err, size_t errlen)
{
    char mine[4096], want_p[4096], got_p[4096], got_k[32], why[256];
    const char *mk;

    if (txtlen > MAX_RECORD) {
        snprintf(err, errlen, "record longer than %d bytes", MAX_RECORD);
        return -1;
    }
    if (dkim_keys_dns_record(pem, pemlen, mine, sizeof(mine), why, sizeof(why)) < 0) {
        snprintf(err, errlen, "private key: %s", why);
        return -1;
    }
    mk = strstr(mine, "k=") + 2;
    (void) tag_value(mine, strlen(mine), "p", want_p, sizeof(want_p));
    if (tag_value(txt, txtlen, "p", got_p, sizeof(got_p)) < 0) {
        snprintf(err, errlen, "the record has no p= tag");
        return -1;
    }
    if (got_p[0] == '\0') {
        snprintf(err, errlen, "the record has an empty p=: the key is revoked");
        return -1;
    }
    if (tag_value(txt, txtlen, "k", got_k, sizeof(got_k)) < 0)
        snprintf(got_k, sizeof(got_k), "rsa");      /* RFC 6376 3.6.1 default */
    if (strncmp(mk, got_k, strlen(got_k)) != 0 || mk[strlen(got_k)] != ';') {
        snprintf(err, errlen, "the record is for k=%s, the private key is not", got_k);
        return -1;
    }
    if (strcmp(want_p, got_p) != 0) {
        snprintf(err, errlen, "the published key is not the public half of this private key");
        return -1;
    }
    return 0;
}
