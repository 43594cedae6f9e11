/*
 * dmarc_report.c - aggregate report XML with libxml2's xmlwriter over
 * the grouped history, and the gzip files (zlib) named as RFC 7489
 * 7.2.1.1 says. Used by "postern dmarc report".
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libxml/xmlwriter.h>
#include <zlib.h>

#include "dmarc_report.h"

#define NS_URI "http://dmarc.org/dmarc-xml/0.1"

typedef struct build {
    xmlTextWriterPtr w;
    unsigned long unknown_ip;   /* messages not listed */
    int rc;                     /* first xmlwriter failure */
} build_t;

/* Text from the network, made printable ASCII for the document. */
static void put(build_t *b, const char *name, const char *value)
{
    char clean[DMARC_URIS_MAX];
    size_t i;

    for (i = 0; value[i] != '\0' && i < sizeof clean - 1; i++) {
        unsigned char c = (unsigned char)value[i];
        clean[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
    }
    clean[i] = '\0';
    if (xmlTextWriterWriteElement(b->w, BAD_CAST name, BAD_CAST clean) < 0)
        b->rc = -1;
}

static void put_num(build_t *b, const char *name, long long v)
{
    char num[32];

    snprintf(num, sizeof num, "%lld", v);
    put(b, name, num);
}

static void open_el(build_t *b, const char *name)
{
    if (xmlTextWriterStartElement(b->w, BAD_CAST name) < 0)
        b->rc = -1;
}

static void close_el(build_t *b)
{
    if (xmlTextWriterEndElement(b->w) < 0)
        b->rc = -1;
}

/* The source address as the schema's IPAddress type wants it; -1 for
 * an address that is not one ("unknown"). */
static int schema_ip(const char *ip, char *buf, size_t buflen)
{
    struct in6_addr a6;
    struct in_addr a4;

    if (inet_pton(AF_INET, ip, &a4) == 1)
        return inet_ntop(AF_INET, &a4, buf, (socklen_t)buflen) ? 0 : -1;
    if (inet_pton(AF_INET6, ip, &a6) != 1)
        return -1;
    if (IN6_IS_ADDR_V4MAPPED(&a6))
        return inet_ntop(AF_INET, &a6.s6_addr[12], buf, (socklen_t)buflen) ? 0 : -1;
    int n = 0;
    for (int i = 0; i < 8 && n >= 0 && (size_t)n < buflen; i++)
        n += snprintf(buf + n, buflen - (size_t)n, "%s%x", i ? ":" : "",
                      (unsigned)(a6.s6_addr[2 * i] << 8 | a6.s6_addr[2 * i + 1]));
    return (size_t)n < buflen ? 0 : -1;
}

static int write_group(void *arg, const dmarc_hist_row_t *g, unsigned long count)
{
    build_t *b = arg;
    char ip[64];

    if (schema_ip(g->source_ip, ip, sizeof ip) < 0) {
        b->unknown_ip += count;
        return 0;
    }
    open_el(b, "record");
    open_el(b, "row");
    put(b, "source_ip", ip);
    put_num(b, "count", (long long)count);
    open_el(b, "policy_evaluated");
    put(b, "disposition", dmarc_p_name(g->disposition));
    put(b, "dkim", g->dkim_aligned ? "pass" : "fail");
    put(b, "spf", g->spf_aligned ? "pass" : "fail");
    if (g->override[0] != '\0') {
        open_el(b, "reason");
        put(b, "type", g->override);
        close_el(b);
    }
    close_el(b);
    close_el(b);
    open_el(b, "identifiers");
    put(b, "header_from", g->header_from);
    close_el(b);
    open_el(b, "auth_results");
    for (size_t i = 0; i < g->ndkim; i++) {
        open_el(b, "dkim");
        put(b, "domain", g->dkim[i].domain);
        if (g->dkim[i].selector[0] != '\0')
            put(b, "selector", g->dkim[i].selector);
        put(b, "result", dmarc_auth_name(g->dkim[i].result));
        close_el(b);
    }
    /* The schema wants one SPF result; without a checked domain it is
     * "none" for the author domain. */
    open_el(b, "spf");
    put(b, "domain", g->spf_domain[0] ? g->spf_domain : g->header_from);
    put(b, "scope", g->spf_helo ? "helo" : "mfrom");
    put(b, "result", g->spf_domain[0] && g->spf_result != DMARC_AUTH_POLICY
                     ? dmarc_auth_name(g->spf_result) : "none");
    close_el(b);
    close_el(b);
    close_el(b);
    return b->rc;
}

static void write_head(build_t *b, const char *domain, const dmarc_report_meta_t *m,
                       const dmarc_hist_row_t *pol, unsigned long unknown)
{
    char id[DMARC_DOMAIN_MAX + 64];

    snprintf(id, sizeof id, "%s.%lld.%lld", domain, (long long)m->begin, (long long)m->end);
    if (xmlTextWriterStartDocument(b->w, NULL, "UTF-8", NULL) < 0 ||
        xmlTextWriterStartElementNS(b->w, BAD_CAST "dmarc", BAD_CAST "feedback",
                                    BAD_CAST NS_URI) < 0)
        b->rc = -1;
    put(b, "version", "1.0");
    open_el(b, "report_metadata");
    put(b, "org_name", m->org_name);
    put(b, "email", m->email);
    put(b, "report_id", id);
    open_el(b, "date_range");
    put_num(b, "begin", (long long)m->begin);
    put_num(b, "end", (long long)m->end);
    close_el(b);
    if (unknown > 0) {
        char msg[96];
        snprintf(msg, sizeof msg, "%lu messages from unknown source addresses not listed",
                 unknown);
        put(b, "error", msg);
    }
    close_el(b);
    open_el(b, "policy_published");
    put(b, "domain", domain);
    put(b, "adkim", pol->adkim == 's' ? "s" : "r");
    put(b, "aspf", pol->aspf == 's' ? "s" : "r");
    put(b, "p", dmarc_p_name(pol->p));
    put(b, "sp", dmarc_p_name(pol->sp));
    put_num(b, "pct", pol->pct);
    put(b, "fo", pol->fo[0] ? pol->fo : "0");
    close_el(b);
}

/* report_metadata must come first, but the unknown-address count is
 * known only at the end: it is written in a second pass. */
static int render(dmarc_hist_t *h, const char *domain, const dmarc_report_meta_t *m,
                  const dmarc_hist_row_t *pol, unsigned long unknown, xmlBufferPtr buf,
                  unsigned long *unknown_out, char *err, size_t errlen)
{
    build_t b = { xmlNewTextWriterMemory(buf, 0), 0, 0 };

    if (b.w == NULL) {
        snprintf(err, errlen, "report: out of memory");
        return -1;
    }
    xmlTextWriterSetIndent(b.w, 1);
    write_head(&b, domain, m, pol, unknown);
    int ret = dmarc_hist_groups(h, domain, m->begin, m->end, write_group, &b, err, errlen);
    if (xmlTextWriterEndDocument(b.w) < 0)
        b.rc = -1;
    xmlFreeTextWriter(b.w);
    *unknown_out = b.unknown_ip;
    if (ret == 0 && b.rc < 0) {
        snprintf(err, errlen, "report: XML writer failed");
        ret = -1;
    }
    return ret;
}

int dmarc_report_xml(dmarc_hist_t *h, const char *domain, const dmarc_report_meta_t *m,
                     char **xml, size_t *len, char *err, size_t errlen)
{
    dmarc_hist_row_t pol;
    unsigned long unknown = 0;

    *xml = NULL;
    *len = 0;
    int found = dmarc_hist_latest(h, domain, m->begin, m->end, &pol, err, errlen);
    if (found <= 0)
        return found;
    xmlBufferPtr buf = xmlBufferCreate();
    if (buf == NULL) {
        snprintf(err, errlen, "report: out of memory");
        return -1;
    }
    int ret = render(h, domain, m, &pol, 0, buf, &unknown, err, errlen);
    if (ret == 0 && unknown > 0) {
        xmlBufferEmpty(buf);
        ret = render(h, domain, m, &pol, unknown, buf, &unknown, err, errlen);
    }
    if (ret == 0) {
        size_t n = (size_t)xmlBufferLength(buf);
        if ((*xml = malloc(n + 1)) == NULL) {
            snprintf(err, errlen, "report: out of memory");
            ret = -1;
        } else {
            memcpy(*xml, xmlBufferContent(buf), n);
            (*xml)[n] = '\0';
            *len = n;
        }
    }
    xmlBufferFree(buf);
    return ret < 0 ? -1 : 1;
}

int dmarc_report_filename(const dmarc_report_meta_t *m, const char *domain, char *buf,
                          size_t buflen)
{
    int n = snprintf(buf, buflen, "%s!%s!%lld!%lld.xml.gz", m->receiver, domain,
                     (long long)m->begin, (long long)m->end);
    return n < 0 || (size_t)n >= buflen ? -1 : n;
}

static int write_gz(const char *path, const char *data, size_t len, char *err, size_t errlen)
{
    char tmp[4200];

    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    gzFile gz = gzopen(tmp, "wb9");
    if (gz == NULL || gzwrite(gz, data, (unsigned)len) != (int)len ||
        gzclose(gz) != Z_OK || rename(tmp, path) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : EIO));
        unlink(tmp);
        return -1;
    }
    return 0;
}

typedef struct all {
    dmarc_hist_t *h;
    const dmarc_report_meta_t *m;
    const char *outdir;
    dmarc_report_file_fn each;
    void *arg;
    char *err;
    size_t errlen;
    int files;
} all_t;

/* One domain's file; domains that ask for no aggregate reports (no rua
 * in their latest record, RFC 7489 7.2) get none. */
static int one_domain(void *arg, const char *domain)
{
    all_t *a = arg;
    char name[1024], path[4096];
    char *xml;
    size_t len;
    dmarc_hist_row_t pol;

    int r = dmarc_hist_latest(a->h, domain, a->m->begin, a->m->end, &pol, a->err, a->errlen);
    if (r <= 0 || pol.rua[0] == '\0')
        return r < 0 ? -1 : 0;
    r = dmarc_report_xml(a->h, domain, a->m, &xml, &len, a->err, a->errlen);
    if (r <= 0)
        return r;
    if (dmarc_report_filename(a->m, domain, name, sizeof name) < 0 ||
        snprintf(path, sizeof path, "%s/%s", a->outdir, name) >= (int)sizeof path) {
        snprintf(a->err, a->errlen, "report: file name too long for %s", domain);
        free(xml);
        return -1;
    }
    r = write_gz(path, xml, len, a->err, a->errlen);
    free(xml);
    if (r < 0)
        return -1;
    a->files++;
    if (a->each != NULL)
        a->each(a->arg, path, domain, pol.rua);
    return 0;
}

int dmarc_report_write_all(dmarc_hist_t *h, const dmarc_report_meta_t *m,
                           const char *outdir, dmarc_report_file_fn each, void *arg,
                           char *err, size_t errlen)
{
    all_t a = { h, m, outdir, each, arg, err, errlen, 0 };

    if (dmarc_hist_domains(h, m->begin, m->end, one_domain, &a, err, errlen) < 0)
        return -1;
    return a.files;
}

#define DAY 86400

static int parse_digits(const char *s, size_t n, long long *out)
{
    long long v = 0;

    if (n == 0 || n > 18)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Days since the epoch of a proleptic Gregorian date (civil calendar). */
static long long days_from_civil(long long y, long long m, long long d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int dmarc_report_period(const char *spec, int64_t now, int64_t *begin, int64_t *end)
{
    long long y, m, d, b, e;
    size_t n = strlen(spec);
    const char *dash = strchr(spec, '-');

    if (strcmp(spec, "yesterday") == 0 || strcmp(spec, "today") == 0) {
        int64_t today = now - now % DAY;
        *begin = spec[0] == 'y' ? today - DAY : today;
        *end = spec[0] == 'y' ? today : now + 1;
        return 0;
    }
    if (n == 10 && spec[4] == '-' && spec[7] == '-' && parse_digits(spec, 4, &y) == 0 &&
        parse_digits(spec + 5, 2, &m) == 0 && parse_digits(spec + 8, 2, &d) == 0) {
        if (m < 1 || m > 12 || d < 1 || d > 31)
            return -1;
        *begin = days_from_civil(y, m, d) * DAY;
        *end = *begin + DAY;
        return 0;
    }
    if (dash != NULL && parse_digits(spec, (size_t)(dash - spec), &b) == 0 &&
        parse_digits(dash + 1, strlen(dash + 1), &e) == 0 && b < e) {
        *begin = b;
        *end = e;
        return 0;
    }
    return -1;
}

int dmarc_report_rua_address(const char *uri, size_t len, char *buf, size_t buflen)
{
    size_t i = 0, n = 0, at = 0;

    if (len < 7 || strncasecmp(uri, "mailto:", 7) != 0)
        return -1;
    for (i = 7; i < len && uri[i] != '!'; i++) {
        char c = uri[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || (c != '\0' && strchr(".-_+=@", c) != NULL);
        if (!ok || n + 1 >= buflen)
            return -1;
        at += c == '@';
        buf[n++] = c;
    }
    buf[n] = '\0';
    if (at != 1 || buf[0] == '-' || buf[0] == '@' || buf[n - 1] == '@')
        return -1;
    return (int)n;
}
