/*
 * dmarc_lib.c - libopendmarc behind a small, safe interface: one policy
 * context per parse, created and shut down here, nothing of the library
 * leaks to the callers.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <opendmarc/dmarc.h>

#include "dmarc_lib.h"

/* The library's own length limits (BUFSIZ copies, 512-byte values) are
 * far above this; longer records are refused before they reach it. */
#define RECORD_MAX 4000

int dmarc_lib_init(char *err, size_t errlen)
{
    OPENDMARC_LIB_T lib;

    /* No TLD file: the library computes no alignment for us, and its
     * resolver is never asked (nscount 0, we store fetched records). */
    memset(&lib, 0, sizeof lib);
    lib.tld_type = OPENDMARC_TLD_TYPE_NONE;
    if (opendmarc_policy_library_init(&lib) != DMARC_PARSE_OKAY) {
        snprintf(err, errlen, "libopendmarc initialisation failed");
        return -1;
    }
    return 0;
}

const char *dmarc_p_name(dmarc_p_t p)
{
    switch (p) {
    case DMARC_P_NONE: return "none";
    case DMARC_P_QUARANTINE: return "quarantine";
    case DMARC_P_REJECT: return "reject";
    }
    return "none";
}

static int to_p(int lib, dmarc_p_t *out)
{
    switch (lib) {
    case DMARC_RECORD_P_NONE: *out = DMARC_P_NONE; return 0;
    case DMARC_RECORD_P_QUARANTINE: *out = DMARC_P_QUARANTINE; return 0;
    case DMARC_RECORD_P_REJECT: *out = DMARC_P_REJECT; return 0;
    }
    return -1;
}

/* A context holding RECORD, or NULL with ERR. */
static DMARC_POLICY_T *load(const char *record, const char *domain,
                            const char *org, int *status, char *err, size_t errlen)
{
    if (record == NULL || domain == NULL || strlen(record) > RECORD_MAX) {
        snprintf(err, errlen, "record missing or longer than %d bytes", RECORD_MAX);
        return NULL;
    }
    DMARC_POLICY_T *pctx = opendmarc_policy_connect_init((u_char *)"0.0.0.0", 0);
    if (pctx == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    *status = opendmarc_policy_store_from_domain(pctx, (u_char *)domain);
    if (*status == DMARC_PARSE_OKAY)
        *status = opendmarc_policy_store_dmarc(pctx, (u_char *)record,
                                               (u_char *)domain, (u_char *)org);
    if (*status != DMARC_PARSE_OKAY) {
        snprintf(err, errlen, "%s", opendmarc_policy_status_to_str(*status));
        opendmarc_policy_connect_shutdown(pctx);
        return NULL;
    }
    return pctx;
}

/* Joins the library's list (owned by PCTX) into BUF. */
static int join(u_char **list, char *buf, size_t buflen, char *err, size_t errlen)
{
    size_t n = 0;

    buf[0] = '\0';
    for (size_t i = 0; list != NULL && list[i] != NULL; i++) {
        int w = snprintf(buf + n, buflen - n, "%s%s", i ? "," : "", (char *)list[i]);
        if (w < 0 || (size_t)w >= buflen - n) {
            snprintf(err, errlen, "report URI list longer than %zu bytes", buflen);
            buf[0] = '\0';
            return -1;
        }
        n += (size_t)w;
    }
    return (int)n;
}

/* The guarded getter: a NULL buffer and size 0 make 1.4.2's fetch_rua
 * and fetch_ruf write nothing and return the context's own list. */
static int fetch_uris(DMARC_POLICY_T *pctx, dmarc_lib_uri_t which, char *buf,
                      size_t buflen, char *err, size_t errlen)
{
    if (buf == NULL || buflen == 0) {
        snprintf(err, errlen, "no buffer for the report URIs");
        return -1;
    }
    u_char **list = which == DMARC_LIB_RUA
        ? opendmarc_policy_fetch_rua(pctx, NULL, 0, 1)
        : opendmarc_policy_fetch_ruf(pctx, NULL, 0, 1);
    return join(list, buf, buflen, err, errlen);
}

int dmarc_lib_uris(const char *record, const char *domain, dmarc_lib_uri_t which,
                   char *buf, size_t buflen, char *err, size_t errlen)
{
    int status;

    if (buf == NULL || buflen == 0) {
        snprintf(err, errlen, "no buffer for the report URIs");
        return -1;
    }
    DMARC_POLICY_T *pctx = load(record, domain, domain, &status, err, errlen);
    if (pctx == NULL)
        return -1;
    int n = fetch_uris(pctx, which, buf, buflen, err, errlen);
    opendmarc_policy_connect_shutdown(pctx);
    return n;
}

static int read_tags(DMARC_POLICY_T *pctx, dmarc_tags_t *out, char *err, size_t errlen)
{
    int p = 0, sp = 0, pct = 100, adkim = 0, aspf = 0;

    opendmarc_policy_fetch_p(pctx, &p);
    opendmarc_policy_fetch_sp(pctx, &sp);
    opendmarc_policy_fetch_pct(pctx, &pct);
    opendmarc_policy_fetch_adkim(pctx, &adkim);
    opendmarc_policy_fetch_aspf(pctx, &aspf);
    if (to_p(p, &out->p) < 0) {
        snprintf(err, errlen, "no valid p= tag");
        return -1;
    }
    if (to_p(sp, &out->sp) < 0)
        out->sp = out->p;       /* sp absent: p applies to subdomains */
    out->pct = (pct < 0 || pct > 100) ? 100 : pct;
    out->adkim = adkim == DMARC_RECORD_A_STRICT ? 's' : 'r';
    out->aspf = aspf == DMARC_RECORD_A_STRICT ? 's' : 'r';
    if (fetch_uris(pctx, DMARC_LIB_RUA, out->rua, sizeof out->rua, err, errlen) < 0 ||
        fetch_uris(pctx, DMARC_LIB_RUF, out->ruf, sizeof out->ruf, err, errlen) < 0)
        return -1;
    return 0;
}

/* Tag values libopendmarc 1.4.2 gets wrong: it takes any prefix of a
 * policy word ("p=r" is reject), reads "pct=abc" as 0 (never enforce)
 * and does not apply 6.6.3 step 6. We check them first (RFC 7489 6.4). */
static bool word_in(const char *v, size_t n, const char *const *words)
{
    for (; *words != NULL; words++)
        if (strlen(*words) == n && strncasecmp(v, *words, n) == 0)
            return true;
    return false;
}

static bool pct_ok(const char *v, size_t n)
{
    unsigned x = 0;

    if (n == 0 || n > 3)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
        x = x * 10 + (unsigned)(v[i] - '0');
    }
    return x <= 100;
}

typedef struct clean {
    bool has_p, bad_policy, has_rua;
    char fo[16];
} clean_t;

/* fo = 0 / 1 / d / s, colon-separated (RFC 7489 6.3). */
static bool fo_ok(const char *v, size_t n)
{
    if (n == 0 || n > 7)
        return false;
    for (size_t i = 0; i < n; i++)
        if (strchr(i % 2 ? ":" : "01ds", v[i]) == NULL)
            return false;
    return true;
}

/* Whether tag NAME=V (N bytes) is kept; notes what it saw in C. */
static bool keep_tag(const char *name, size_t nlen, const char *v, size_t n, clean_t *c)
{
    static const char *const policies[] = { "none", "quarantine", "reject", NULL };
    static const char *const modes[] = { "r", "s", NULL };

    if ((nlen == 1 && name[0] == 'p') || (nlen == 2 && strncmp(name, "sp", 2) == 0)) {
        bool ok = word_in(v, n, policies);
        c->bad_policy |= !ok;
        c->has_p |= ok && nlen == 1;
        return ok;
    }
    if (nlen == 3 && strncmp(name, "pct", 3) == 0)
        return pct_ok(v, n);
    if (nlen == 5 && strncmp(name, "adkim", 5) == 0)
        return word_in(v, n, modes);
    if (nlen == 4 && strncmp(name, "aspf", 4) == 0)
        return word_in(v, n, modes);
    if (nlen == 2 && strncmp(name, "fo", 2) == 0) {
        if (!fo_ok(v, n))
            return false;
        snprintf(c->fo, sizeof c->fo, "%.*s", (int)n, v);
    }
    if (nlen == 3 && strncmp(name, "rua", 3) == 0)
        c->has_rua |= memchr(v, ':', n) != NULL;
    return true;
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

/* Copies the valid tags of RECORD into OUT (at least strlen + 16). */
static void sanitize(const char *record, char *out, size_t outlen, clean_t *c)
{
    size_t o = 0;
    const char *s = record;

    memset(c, 0, sizeof *c);
    out[0] = '\0';
    while (*s != '\0') {
        const char *semi = strchr(s, ';');
        size_t len = semi ? (size_t)(semi - s) : strlen(s);
        const char *eq = memchr(s, '=', len);
        if (eq != NULL) {
            const char *name = s, *v = eq + 1;
            size_t nlen = (size_t)(eq - s), vlen = len - nlen - 1;
            trim(&name, &nlen);
            trim(&v, &vlen);
            if (keep_tag(name, nlen, v, vlen, c)) {
                int w = snprintf(out + o, outlen - o, "%.*s=%.*s;", (int)nlen, name,
                                 (int)vlen, v);
                if (w > 0 && (size_t)w < outlen - o)
                    o += (size_t)w;
            }
        }
        s += len + (semi != NULL);
    }
}

int dmarc_lib_parse(const char *record, const char *domain, const char *org,
                    dmarc_tags_t *out, char *err, size_t errlen)
{
    int status = DMARC_PARSE_OKAY;
    char clean[RECORD_MAX + 32];
    clean_t c;

    memset(out, 0, sizeof *out);
    if (record == NULL || strlen(record) > RECORD_MAX) {
        snprintf(err, errlen, "record missing or longer than %d bytes", RECORD_MAX);
        return -1;
    }
    sanitize(record, clean, sizeof clean - 8, &c);
    if (!c.has_p || c.bad_policy) {
        /* 6.6.3 step 6: no valid p (or a bad sp), but a rua: act as if
         * the record said p=none; without rua, DMARC does not apply. */
        if (!c.has_rua) {
            snprintf(err, errlen, "no valid p= or sp= tag and no rua= tag");
            return -1;
        }
        sanitize(record, clean, sizeof clean - 8, &c);
        char *p;
        while ((p = strstr(clean, ";p=")) != NULL || (p = strstr(clean, ";sp=")) != NULL)
            memmove(p + 1, strchr(p + 1, ';') + 1, strlen(strchr(p + 1, ';') + 1) + 1);
        strcat(clean, "p=none;");
        out->p_from_rua = 1;
    }
    DMARC_POLICY_T *pctx = load(clean, domain, org, &status, err, errlen);
    if (pctx == NULL)
        return -1;
    int ret = read_tags(pctx, out, err, errlen);
    snprintf(out->fo, sizeof out->fo, "%s", c.fo[0] ? c.fo : "0");
    opendmarc_policy_connect_shutdown(pctx);
    return ret;
}
