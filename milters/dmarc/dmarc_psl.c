/*
 * dmarc_psl.c - the Public Suffix List as a hash set of rules, and the
 * PSL algorithm (publicsuffix.org/list "Algorithm") on top of it.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc_psl.h"

/* Rules are stored with a kind prefix: 'N' normal, 'W' wildcard (the
 * part after "*."), 'E' exception (the part after "!"). */
struct dmarc_psl {
    char **slot;
    size_t nslots;              /* a power of two, at least 2x count */
    size_t count;
};

static uint32_t hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

/* Looks up KIND + the N bytes of NAME. */
static int has(const dmarc_psl_t *psl, char kind, const char *name, size_t n)
{
    char key[256];

    if (n + 2 > sizeof key)
        return 0;
    key[0] = kind;
    memcpy(key + 1, name, n);
    key[n + 1] = '\0';
    size_t i = hash(key, n + 1) & (psl->nslots - 1);
    while (psl->slot[i] != NULL) {
        if (strcmp(psl->slot[i], key) == 0)
            return 1;
        i = (i + 1) & (psl->nslots - 1);
    }
    return 0;
}

static int insert(dmarc_psl_t *psl, const char *key)
{
    size_t n = strlen(key);
    size_t i = hash(key, n) & (psl->nslots - 1);

    while (psl->slot[i] != NULL) {
        if (strcmp(psl->slot[i], key) == 0)
            return 0;
        i = (i + 1) & (psl->nslots - 1);
    }
    psl->slot[i] = strdup(key);
    if (psl->slot[i] == NULL)
        return -1;
    psl->count++;
    return 0;
}

/* One line: the rule is the first blank-free word; "//" starts a comment. */
static int add_line(dmarc_psl_t *psl, const char *line, size_t n)
{
    char key[256];
    size_t w = 0;

    while (w < n && !isspace((unsigned char)line[w]))
        w++;
    if (w == 0 || (w >= 2 && line[0] == '/' && line[1] == '/'))
        return 0;
    if (w + 2 > sizeof key)
        return 0;               /* longer than any host name: ignore */
    const char *r = line;
    key[0] = 'N';
    if (w > 2 && r[0] == '*' && r[1] == '.') {
        key[0] = 'W';
        r += 2;
        w -= 2;
    } else if (w > 1 && r[0] == '!') {
        key[0] = 'E';
        r++;
        w--;
    }
    for (size_t i = 0; i < w; i++)
        key[i + 1] = (char)tolower((unsigned char)r[i]);
    key[w + 1] = '\0';
    return insert(psl, key);
}

static size_t count_lines(const char *text, size_t len)
{
    size_t n = 1;

    for (size_t i = 0; i < len; i++)
        n += text[i] == '\n';
    return n;
}

dmarc_psl_t *dmarc_psl_load_text(const char *text, size_t len, char *err,
                                 size_t errlen)
{
    size_t lines = count_lines(text, len);
    if (lines > DMARC_PSL_MAX_RULES * 4) {
        snprintf(err, errlen, "public suffix list: too many lines");
        return NULL;
    }
    dmarc_psl_t *psl = calloc(1, sizeof *psl);
    size_t nslots = 16;
    while (nslots < lines * 2)
        nslots *= 2;
    if (psl == NULL || (psl->slot = calloc(nslots, sizeof *psl->slot)) == NULL) {
        free(psl);
        snprintf(err, errlen, "public suffix list: out of memory");
        return NULL;
    }
    psl->nslots = nslots;
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t n = nl ? (size_t)(nl - (text + i)) : len - i;
        if (add_line(psl, text + i, n) < 0 || psl->count > DMARC_PSL_MAX_RULES) {
            snprintf(err, errlen, "public suffix list: %s",
                     psl->count > DMARC_PSL_MAX_RULES ? "too many rules" : "out of memory");
            dmarc_psl_free(psl);
            return NULL;
        }
        i += n + 1;
    }
    if (psl->count == 0) {
        snprintf(err, errlen, "public suffix list: no rules");
        dmarc_psl_free(psl);
        return NULL;
    }
    return psl;
}

dmarc_psl_t *dmarc_psl_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(DMARC_PSL_MAX_FILE);
    size_t n = buf ? fread(buf, 1, DMARC_PSL_MAX_FILE, f) : 0;
    int bad = buf == NULL || ferror(f) || n == DMARC_PSL_MAX_FILE;
    fclose(f);
    dmarc_psl_t *psl = NULL;
    if (bad)
        snprintf(err, errlen, "%s: unreadable or larger than %d bytes", path,
                 DMARC_PSL_MAX_FILE);
    else if ((psl = dmarc_psl_load_text(buf, n, err, errlen)) == NULL) {
        size_t l = strlen(err);
        snprintf(err + l, errlen > l ? errlen - l : 0, " (%s)", path);
    }
    free(buf);
    return psl;
}

void dmarc_psl_free(dmarc_psl_t *psl)
{
    if (psl == NULL)
        return;
    for (size_t i = 0; i < psl->nslots; i++)
        free(psl->slot[i]);
    free(psl->slot);
    free(psl);
}

size_t dmarc_psl_count(const dmarc_psl_t *psl)
{
    return psl->count;
}

/* Offset of the label after the one at OFF in D (or LEN at the end). */
static size_t next_label(const char *d, size_t len, size_t off)
{
    const char *dot = memchr(d + off, '.', len - off);
    return dot ? (size_t)(dot - d) + 1 : len;
}

/* Offset in D of the public suffix. Exception rules win, then the
 * longest normal or wildcard match, then "*" (the last label). */
static size_t suffix_start(const dmarc_psl_t *psl, const char *d, size_t len)
{
    size_t off;

    for (off = 0; off < len; off = next_label(d, len, off))
        if (has(psl, 'E', d + off, len - off))
            return next_label(d, len, off);
    for (off = 0; off < len; off = next_label(d, len, off)) {
        if (has(psl, 'N', d + off, len - off))
            return off;
        size_t parent = next_label(d, len, off);
        if (parent < len && has(psl, 'W', d + parent, len - parent))
            return off;
    }
    off = len;
    while (off > 0 && d[off - 1] != '.')
        off--;
    return off;
}

int dmarc_psl_org_domain(const dmarc_psl_t *psl, const char *domain,
                         char *buf, size_t buflen)
{
    char d[256];
    size_t len = strlen(domain);

    if (len > 0 && domain[len - 1] == '.')
        len--;
    if (len == 0 || len >= sizeof d)
        return -1;
    for (size_t i = 0; i < len; i++)
        d[i] = (char)tolower((unsigned char)domain[i]);
    d[len] = '\0';
    size_t ps = suffix_start(psl, d, len);
    size_t org = 0;
    if (ps > 0) {               /* one label left of the suffix */
        org = ps - 1;
        while (org > 0 && d[org - 1] != '.')
            org--;
    }
    if (len - org + 1 > buflen)
        return -1;
    memcpy(buf, d + org, len - org);
    buf[len - org] = '\0';
    return (int)(len - org);
}
