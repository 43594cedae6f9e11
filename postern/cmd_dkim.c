/*
 * cmd_dkim.c - "postern dkim keygen" makes a signing key and prints the
 * DNS record to publish; "postern dkim check-dns" fetches the published
 * record and checks that it is the public half of the private key.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "config.h"
#include "dns.h"

#include "dkim_dnskey.h"
#include "dkim_keygen.h"
#include "dkim_keys.h"

#include "cmdconf.h"
#include "commands.h"

static int dkim_usage(void)
{
    fprintf(stderr,
            "usage: postern dkim keygen --domain D --selector S [--type rsa|ed25519]\n"
            "                           [--bits N] [--dir DIR]\n"
            "       postern dkim check-dns --domain D --selector S [--key FILE] [-c FILE]\n");
    return EX_USAGE;
}

typedef struct dkim_args {
    const char *domain, *selector, *type, *dir, *key, *conf;
    unsigned bits;
} dkim_args_t;

static int parse_args(int argc, char **argv, dkim_args_t *a)
{
    static const struct option opts[] = {
        { "domain", required_argument, NULL, 'd' }, { "selector", required_argument, NULL, 's' },
        { "type", required_argument, NULL, 't' }, { "bits", required_argument, NULL, 'b' },
        { "dir", required_argument, NULL, 'D' }, { "key", required_argument, NULL, 'k' },
        { NULL, 0, NULL, 0 }
    };
    int c;

    *a = (dkim_args_t) { .type = "rsa", .dir = ".", .bits = 2048,
                         .conf = cmdconf_default_path() };
    optind = 2;
    while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
        switch (c) {
        case 'd': a->domain = optarg; break;
        case 's': a->selector = optarg; break;
        case 't': a->type = optarg; break;
        case 'b': a->bits = (unsigned) strtoul(optarg, NULL, 10); break;
        case 'D': a->dir = optarg; break;
        case 'k': a->key = optarg; break;
        case 'c': a->conf = optarg; break;
        default: return -1;
        }
    }
    if (optind != argc || a->domain == NULL || a->selector == NULL)
        return -1;
    return strcmp(a->type, "rsa") == 0 || strcmp(a->type, "ed25519") == 0 ? 0 : -1;
}

/* The record as a zone file line, in strings of at most 255 bytes. */
static void print_record(const dkim_args_t *a, const char *txt)
{
    size_t len = strlen(txt);

    printf("%s._domainkey.%s. IN TXT (", a->selector, a->domain);
    for (size_t i = 0; i < len; i += 255)
        printf(" \"%.*s\"", (int) (len - i < 255 ? len - i : 255), txt + i);
    printf(" )\n");
}

static int keygen(const dkim_args_t *a)
{
    dkim_keyalg_t alg = strcmp(a->type, "ed25519") == 0 ? DKIM_KEY_ED25519 : DKIM_KEY_RSA;
    char err[512], path[4096], txt[2048], name[600];
    char *pem;
    int rc = 1;

    if (dkim_dnskey_name(a->selector, a->domain, name, sizeof(name)) < 0) {
        fprintf(stderr, "postern: bad domain or selector\n");
        return EX_USAGE;
    }
    snprintf(path, sizeof(path), "%s/%s.%s.pem", a->dir, a->domain, a->selector);
    if ((pem = dkim_keygen_pem(alg, a->bits, err, sizeof(err))) == NULL
        || dkim_keys_dns_record(pem, strlen(pem), txt, sizeof(txt), err, sizeof(err)) < 0
        || dkim_keygen_write(pem, path, err, sizeof(err)) < 0) {
        fprintf(stderr, "postern: %s\n", err);
    } else {
        printf("# private key written to %s (mode 0600)\n# publish in DNS:\n", path);
        print_record(a, txt);
        printf("# key table line ([dkim] keytable):\n%s %s %s\n", a->domain, a->selector, path);
        rc = 0;
    }
    dkim_keygen_free(pem);
    return rc;
}

/* The private key PEM for D/S: --key FILE, else the config's key table. */
static char *private_pem(const dkim_args_t *a, config_t *cfg, char *err, size_t errlen)
{
    const char *table = config_str(cfg, "dkim", "keytable");
    dkim_keys_t *kt = dkim_keys_new();
    const dkim_key_t *k = NULL;
    char *pem = NULL;

    if (a->key != NULL) {
        if (kt != NULL && dkim_keys_add_file(kt, a->domain, a->selector, a->key, NULL, err,
                                             errlen) == 0)
            k = dkim_keys_find(kt, a->domain, &k, 1) ? k : NULL;
    } else if (table != NULL && *table != '\0') {
        dkim_keys_free(kt);
        kt = dkim_keys_load(table, err, errlen);
        const dkim_key_t *all[DKIM_KEYS_MAX_PER_DOMAIN];
        size_t n = kt ? dkim_keys_find(kt, a->domain, all, DKIM_KEYS_MAX_PER_DOMAIN) : 0;
        for (size_t i = 0; i < n; i++)
            if (strcmp(all[i]->selector, a->selector) == 0)
                k = all[i];
        if (kt != NULL && k == NULL)
            snprintf(err, errlen, "%s has no key for %s selector %s", table, a->domain,
                     a->selector);
    } else {
        snprintf(err, errlen, "no --key and no [dkim] keytable");
    }
    if (k != NULL && (pem = strdup(k->pem)) == NULL)
        snprintf(err, errlen, "out of memory");
    dkim_keys_free(kt);
    return pem;
}

static int check_dns(const dkim_args_t *a)
{
    config_t *cfg = cmdconf_load(a->conf);
    char err[512], txt[8192];
    dnsr_t *dns;
    char *pem;
    int rc = 1;

    if (cfg == NULL)
        return EX_CONFIG;
    if ((pem = private_pem(a, cfg, err, sizeof(err))) == NULL
        || (dns = dnsr_new_from_config(cfg, err, sizeof(err))) == NULL) {
        fprintf(stderr, "postern: %s\n", err);
        dkim_keygen_free(pem);
        config_unref(cfg);
        return 1;
    }
    switch (dkim_dnskey_lookup(dns, a->selector, a->domain, txt, sizeof(txt))) {
    case DKIM_KEYSRC_OK:
        if (dkim_keygen_matches(pem, strlen(pem), txt, strlen(txt), err, sizeof(err)) == 0) {
            printf("%s._domainkey.%s: ok, the published key matches\n", a->selector, a->domain);
            rc = 0;
        } else {
            printf("%s._domainkey.%s: MISMATCH: %s\n", a->selector, a->domain, err);
        }
        break;
    case DKIM_KEYSRC_NOTFOUND:
        printf("%s._domainkey.%s: no DKIM key record published\n", a->selector, a->domain);
        break;
    default:
        printf("%s._domainkey.%s: DNS lookup failed (try again)\n", a->selector, a->domain);
        rc = EX_TEMPFAIL;
    }
    dnsr_free(dns);
    dkim_keygen_free(pem);
    config_unref(cfg);
    return rc;
}

int cmd_dkim(int argc, char **argv)
{
    dkim_args_t a;

    if (argc < 2 || parse_args(argc, argv, &a) < 0)
        return dkim_usage();
    if (strcmp(argv[1], "keygen") == 0)
        return keygen(&a);
    if (strcmp(argv[1], "check-dns") == 0)
        return check_dns(&a);
    return dkim_usage();
}
