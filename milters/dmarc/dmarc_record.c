/*
 * dmarc_record.c - policy discovery over a record source, and the
 * common/dns source. Feeds dmarc_eval with one record or a reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"

#include "dmarc_record.h"

typedef struct collect {
    size_t ndmarc;              /* records that start with v=DMARC1 */
    bool bad;                   /* one of them too long or with NUL */
    char *text;                 /* DMARC_RECORD_MAX + 1 bytes */
} collect_t;

/* dmarc-version = "v" *WSP "=" *WSP "DMARC1" (RFC 7489 6.4): "v" is
 * case-insensitive, "DMARC1" is not; it must end there. */
bool dmarc_record_is_dmarc(const char *t, size_t n)
{
    size_t i = 0;

    if (n == 0 || (t[0] != 'v' && t[0] != 'V'))
        return false;
    for (i = 1; i < n && (t[i] == ' ' || t[i] == '\t'); i++)
        ;
    if (i >= n || t[i++] != '=')
        return false;
    while (i < n && (t[i] == ' ' || t[i] == '\t'))
        i++;
    if (n - i < 6 || memcmp(t + i, "DMARC1", 6) != 0)
        return false;
    i += 6;
    return i == n || t[i] == ';' || t[i] == ' ' || t[i] == '\t';
}

static void collect_each(void *cbarg, const char *txt, size_t len)
{
    collect_t *c = cbarg;

    if (!dmarc_record_is_dmarc(txt, len))
        return;
    if (++c->ndmarc > 1)
        return;
    if (len > DMARC_RECORD_MAX || memchr(txt, '\0', len) != NULL) {
        c->bad = true;
        return;
    }
    memcpy(c->text, txt, len);
    c->text[len] = '\0';
}

/* One step of discovery at DOMAIN; NONE means "try the next step". */
static dmarc_rec_status_t ask(const dmarc_source_t *src, const char *domain,
                              dmarc_record_t *out)
{
    char name[DMARC_DOMAIN_MAX + 16];
    collect_t c = { 0, false, out->text };

    snprintf(name, sizeof name, "_dmarc.%s", domain);
    dmarc_src_status_t st = src->txt(src->arg, name, collect_each, &c);
    if (st == DMARC_SRC_TEMPFAIL) {
        snprintf(out->why, sizeof out->why, "DNS lookup of %s failed", name);
        return DMARC_REC_TEMPERROR;
    }
    if (c.ndmarc == 0) {
        snprintf(out->why, sizeof out->why, "no DMARC record at %s", name);
        return DMARC_REC_NONE;
    }
    if (c.ndmarc > 1) {
        snprintf(out->why, sizeof out->why, "%zu DMARC records at %s", c.ndmarc, name);
        return DMARC_REC_MULTIPLE;
    }
    if (c.bad) {
        snprintf(out->why, sizeof out->why,
                 "DMARC record at %s too long or holds a NUL byte", name);
        return DMARC_REC_INVALID;
    }
    snprintf(out->domain, sizeof out->domain, "%s", domain);
    snprintf(out->why, sizeof out->why, "record at %s", name);
    return DMARC_REC_FOUND;
}

int dmarc_record_discover(const dmarc_source_t *src, const dmarc_psl_t *psl,
                          const char *from_domain, dmarc_record_t *out)
{
    memset(out, 0, sizeof *out);
    if (strlen(from_domain) > DMARC_DOMAIN_MAX ||
        dmarc_psl_org_domain(psl, from_domain, out->org_domain,
                             sizeof out->org_domain) < 0) {
        out->status = DMARC_REC_INVALID;
        snprintf(out->why, sizeof out->why, "author domain cannot be queried");
        return -1;
    }
    out->status = ask(src, from_domain, out);
    if (out->status == DMARC_REC_NONE && strcmp(out->org_domain, from_domain) != 0) {
        out->status = ask(src, out->org_domain, out);
        out->at_org = out->status == DMARC_REC_FOUND;
    }
    return 0;
}

const char *dmarc_rec_status_name(dmarc_rec_status_t st)
{
    static const char *const names[] = {
        "found", "none", "multiple", "temperror", "invalid"
    };
    return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "unknown";
}

/* A TXT record is at most 64 KB (one rdata); the buffer is taken per
 * query so that an oversized record is seen, measured and refused by
 * collect_each rather than skipped as unreadable. */
#define TXT_BUF 65536

static dmarc_src_status_t dns_txt(void *arg, const char *name,
                                  dmarc_txt_each_fn each, void *cbarg)
{
    dnsr_answer_t *a = NULL;
    dnsr_status_t st = dnsr_query(arg, name, DNSR_TXT, &a);
    dmarc_src_status_t ret = DMARC_SRC_FOUND;
    char *buf = NULL;

    if (st == DNSR_NXDOMAIN || st == DNSR_NODATA)
        ret = DMARC_SRC_NONE;
    else if (st != DNSR_OK || (buf = malloc(TXT_BUF)) == NULL)
        ret = DMARC_SRC_TEMPFAIL;
    for (size_t i = 0; ret == DMARC_SRC_FOUND && i < dnsr_answer_count(a); i++) {
        int n = dnsr_answer_txt(a, i, buf, TXT_BUF);
        if (n >= 0)
            each(cbarg, buf, (size_t)n);
    }
    free(buf);
    dnsr_answer_free(a);
    return ret;
}

dmarc_source_t dmarc_source_dns(dnsr_t *r)
{
    dmarc_source_t s = { dns_txt, r };
    return s;
}
