/*
 * netlist.c - CIDR lists. Entries are kept per address family, sorted by
 * prefix length and masked address; a lookup masks the address once per
 * distinct prefix length and binary-searches that run. Among all
 * matches the entry added first wins, which gives "!" entries their
 * meaning without a linear scan.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "netlist.h"

typedef struct entry {
    unsigned char addr[16];     /* masked network address */
    unsigned prefix;
    size_t order;               /* position in the admin's list */
    bool negate;
} entry_t;

typedef struct family {
    entry_t *v;
    size_t n, cap;
    /* runs[k] = first entry with the k-th distinct prefix; runs[nruns] = n */
    size_t runs[130];
    unsigned run_prefix[129];
    size_t nruns;
} family_t;

struct netlist {
    family_t f4, f6;            /* 4- and 16-byte addresses */
    size_t next_order;
};

netlist_t *netlist_new(void)
{
    return calloc(1, sizeof(netlist_t));
}

void netlist_free(netlist_t *nl)
{
    if (nl == NULL)
        return;
    free(nl->f4.v);
    free(nl->f6.v);
    free(nl);
}

size_t netlist_count(const netlist_t *nl)
{
    return nl->f4.n + nl->f6.n;
}

static void mask(unsigned char *a, size_t len, unsigned prefix)
{
    for (size_t i = 0; i < len; i++) {
        unsigned bits = prefix > i * 8 ? prefix - (unsigned) i * 8 : 0;
        a[i] &= bits >= 8 ? 0xff : (unsigned char) (0xff << (8 - bits));
    }
}

static int cmp_entry(const void *pa, const void *pb)
{
    const entry_t *a = pa, *b = pb;
    int c;

    if (a->prefix != b->prefix)
        return a->prefix < b->prefix ? -1 : 1;
    if ((c = memcmp(a->addr, b->addr, 16)) != 0)
        return c;
    return a->order < b->order ? -1 : a->order > b->order;
}

static void rebuild(family_t *f)
{
    if (f->n > 1)
        qsort(f->v, f->n, sizeof(entry_t), cmp_entry);
    f->nruns = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (i == 0 || f->v[i].prefix != f->v[i - 1].prefix) {
            f->runs[f->nruns] = i;
            f->run_prefix[f->nruns++] = f->v[i].prefix;
        }
    }
    f->runs[f->nruns] = f->n;
}

/* ---- parsing ---- */

/* "[a.b.c.d]" -> "a.b.c.d", "IPv6:x" -> "x", into BUF. */
static const char *strip_decoration(const char *s, char *buf, size_t len)
{
    size_t n = strlen(s);

    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
        s++;
        n -= 2;
    }
    if (n >= 5 && strncasecmp(s, "IPv6:", 5) == 0) {
        s += 5;
        n -= 5;
    }
    if (n >= len)
        return NULL;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
}

/* Text address -> family and 16 bytes (IPv4 in the first 4; mapped
 * IPv6 becomes IPv4). Returns AF_INET, AF_INET6 or -1. */
static int parse_addr(const char *text, unsigned char out[16])
{
    struct in6_addr a6;

    memset(out, 0, 16);
    if (inet_pton(AF_INET, text, out) == 1)
        return AF_INET;
    if (inet_pton(AF_INET6, text, &a6) != 1)
        return -1;
    if (IN6_IS_ADDR_V4MAPPED(&a6)) {
        memcpy(out, a6.s6_addr + 12, 4);
        return AF_INET;
    }
    memcpy(out, a6.s6_addr, 16);
    return AF_INET6;
}

static int parse_entry(const char *text, entry_t *e, int *af, char *err, size_t errlen)
{
    char buf[80];
    char *slash, *end;
    unsigned char orig[16];
    unsigned max;

    memset(e, 0, sizeof(*e));
    if ((e->negate = *text == '!'))
        text++;
    if (strlen(text) >= sizeof(buf)) {
        snprintf(err, errlen, "'%.40s...': too long for an address", text);
        return -1;
    }
    strcpy(buf, text);
    if ((slash = strchr(buf, '/')) != NULL)
        *slash++ = '\0';
    char clean[80];
    /* Brackets are for bare addresses only ("[::1]/128" is not a form). */
    const char *addr = slash ? buf : strip_decoration(buf, clean, sizeof(clean));
    if (addr == NULL || (*af = parse_addr(addr, e->addr)) < 0) {
        snprintf(err, errlen, "'%s': not an IPv4 or IPv6 address", text);
        return -1;
    }
    max = *af == AF_INET ? 32 : 128;
    e->prefix = max;
    if (slash != NULL) {
        errno = 0;
        unsigned long p = strtoul(slash, &end, 10);
        if (*slash < '0' || *slash > '9' || *end != '\0' || errno != 0 || p > max) {
            snprintf(err, errlen, "'%s': bad prefix length (0-%u)", text, max);
            return -1;
        }
        e->prefix = (unsigned) p;
    }
    memcpy(orig, e->addr, 16);
    mask(e->addr, *af == AF_INET ? 4 : 16, e->prefix);
    if (memcmp(orig, e->addr, 16) != 0) {
        char net[INET6_ADDRSTRLEN];
        inet_ntop(*af, e->addr, net, sizeof(net));
        snprintf(err, errlen, "'%s': address has bits set past the prefix "
                 "(the network is %s/%u)", text, net, e->prefix);
        return -1;
    }
    return 0;
}

static int append(netlist_t *nl, const char *text, char *err, size_t errlen)
{
    entry_t e;
    int af;
    family_t *f;

    if (parse_entry(text, &e, &af, err, errlen) < 0)
        return -1;
    f = af == AF_INET ? &nl->f4 : &nl->f6;
    if (netlist_count(nl) >= NETLIST_MAX_ENTRIES) {
        snprintf(err, errlen, "more than %d entries", NETLIST_MAX_ENTRIES);
        return -1;
    }
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        entry_t *v = realloc(f->v, cap * sizeof(entry_t));
        if (v == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        f->v = v;
        f->cap = cap;
    }
    e.order = nl->next_order++;
    f->v[f->n++] = e;
    return 0;
}

/* Undo a partial list: entries past the marks go. */
static void truncate_to(netlist_t *nl, size_t n4, size_t n6, size_t order)
{
    nl->f4.n = n4;
    nl->f6.n = n6;
    nl->next_order = order;
}

static void rebuild_all(netlist_t *nl)
{
    rebuild(&nl->f4);
    rebuild(&nl->f6);
}

int netlist_add(netlist_t *nl, const char *entry, char *err, size_t errlen)
{
    int rc = append(nl, entry, err, errlen);

    rebuild_all(nl);
    return rc;
}

static int load_stream(netlist_t *nl, FILE *f, const char *path, char *err, size_t errlen)
{
    char line[512], why[256];
    unsigned long lineno = 0;

    while (fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            snprintf(err, errlen, "%s:%lu: line too long", path, lineno);
            return -1;
        }
        line[strcspn(line, "#\r\n")] = '\0';
        char *p = line + strspn(line, " \t");
        p[strcspn(p, " \t")] = '\0';
        if (*p == '\0')
            continue;
        if (append(nl, p, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "%s:%lu: %s", path, lineno, why);
            return -1;
        }
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        return -1;
    }
    return 0;
}

static int load_file_entries(netlist_t *nl, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    int rc;

    if (f == NULL) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    rc = load_stream(nl, f, path, err, errlen);
    fclose(f);
    return rc;
}

int netlist_load_file(netlist_t *nl, const char *path, char *err, size_t errlen)
{
    size_t n4 = nl->f4.n, n6 = nl->f6.n, order = nl->next_order;
    int rc = load_file_entries(nl, path, err, errlen);

    if (rc < 0)
        truncate_to(nl, n4, n6, order);
    rebuild_all(nl);
    return rc;
}

int netlist_add_list(netlist_t *nl, const char *text, char *err, size_t errlen)
{
    size_t n4 = nl->f4.n, n6 = nl->f6.n, order = nl->next_order;
    char item[512];
    int rc = 0;

    while (rc == 0) {
        text += strspn(text, ", \t\r\n");
        size_t len = strcspn(text, ", \t\r\n");
        if (len == 0)
            break;
        if (len >= sizeof(item)) {
            snprintf(err, errlen, "'%.40s...': entry too long", text);
            rc = -1;
            break;
        }
        memcpy(item, text, len);
        item[len] = '\0';
        text += len;
        rc = item[0] == '/' ? load_file_entries(nl, item, err, errlen)
                            : append(nl, item, err, errlen);
    }
    if (rc < 0)
        truncate_to(nl, n4, n6, order);
    rebuild_all(nl);
    return rc;
}

/* ---- matching ---- */

static const entry_t *search_run(const family_t *f, size_t k, const unsigned char *a)
{
    size_t lo = f->runs[k], hi = f->runs[k + 1];

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(f->v[mid].addr, a, 16);
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* lo is the first entry >= a; equal entries are sorted by order. */
    return lo < f->runs[k + 1] && memcmp(f->v[lo].addr, a, 16) == 0 ? &f->v[lo] : NULL;
}

static bool match_family(const family_t *f, const unsigned char *addr, size_t len)
{
    const entry_t *best = NULL;
    unsigned char a[16];

    for (size_t k = 0; k < f->nruns; k++) {
        memset(a, 0, 16);
        memcpy(a, addr, len);
        mask(a, len, f->run_prefix[k]);
        const entry_t *e = search_run(f, k, a);
        if (e != NULL && (best == NULL || e->order < best->order))
            best = e;
    }
    return best != NULL && !best->negate;
}

bool netlist_match(const netlist_t *nl, int af, const void *addr)
{
    const unsigned char *b = addr;

    if (nl == NULL || addr == NULL)
        return false;
    if (af == AF_INET)
        return match_family(&nl->f4, b, 4);
    if (af != AF_INET6)
        return false;
    if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *) addr))
        return match_family(&nl->f4, b + 12, 4);
    return match_family(&nl->f6, b, 16);
}

bool netlist_match_str(const netlist_t *nl, const char *text)
{
    char buf[INET6_ADDRSTRLEN + 8];
    unsigned char a[16];
    const char *clean;
    int af;

    if (text == NULL || (clean = strip_decoration(text, buf, sizeof(buf))) == NULL
        || (af = parse_addr(clean, a)) < 0)
        return false;
    return netlist_match(nl, af, a);
}

bool netlist_match_sockaddr(const netlist_t *nl, const struct sockaddr *sa)
{
    if (sa == NULL)
        return false;
    if (sa->sa_family == AF_INET)
        return netlist_match(nl, AF_INET, &((const struct sockaddr_in *) sa)->sin_addr);
    if (sa->sa_family == AF_INET6)
        return netlist_match(nl, AF_INET6, &((const struct sockaddr_in6 *) sa)->sin6_addr);
    return false;
}
