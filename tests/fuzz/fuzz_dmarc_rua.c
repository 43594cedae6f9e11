/*
 * fuzz_dmarc_rua.c - report destinations from arbitrary bytes: the first
 * line is a rua URI as a DMARC record would carry it, every further line
 * a TXT record answering the RFC 7489 7.1 authorization lookup. The URI
 * goes through the same address check as "postern dmarc report", then
 * the authorization check; a destination is authorized only when an
 * answer carries the DMARC version tag, and nothing crashes or leaks.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc_psl.h"
#include "dmarc_record.h"
#include "dmarc_report.h"
#include "dmarc_rua.h"

typedef struct answers {
    const char *data;
    size_t len;
    bool any_dmarc;
} answers_t;

static dmarc_src_status_t fuzz_txt(void *arg, const char *name, dmarc_txt_each_fn each,
                                   void *cbarg)
{
    answers_t *a = arg;

    (void) name;
    if (a->len == 0)
        return DMARC_SRC_NONE;
    for (size_t at = 0; at < a->len;) {
        const char *nl = memchr(a->data + at, '\n', a->len - at);
        size_t n = nl ? (size_t)(nl - (a->data + at)) : a->len - at;
        a->any_dmarc |= dmarc_record_is_dmarc(a->data + at, n);
        each(cbarg, a->data + at, n);
        at += n + 1;
    }
    return DMARC_SRC_FOUND;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char psl_text[] = "com\nexample\nco.uk\n*.ck\n!www.ck\n";
    static dmarc_psl_t *psl;
    char err[256], addr[256], why[700];

    if (psl == NULL && (psl = dmarc_psl_load_text(psl_text, sizeof psl_text - 1, err,
                                                  sizeof err)) == NULL)
        abort();
    const char *text = (const char *)data;
    const char *nl = memchr(text, '\n', size);
    size_t ulen = nl ? (size_t)(nl - text) : size;
    answers_t a = { nl ? nl + 1 : "", nl ? size - ulen - 1 : 0, false };
    dmarc_source_t src = { fuzz_txt, &a };

    if (dmarc_report_rua_address(text, ulen, addr, sizeof addr) < 0)
        return 0;
    dmarc_rua_status_t st = dmarc_rua_check(&src, psl, "example.com", addr, why, sizeof why);
    if (st == DMARC_RUA_AUTHORIZED && !a.any_dmarc)
        abort();
    if (why[0] == '\0')
        abort();
    return 0;
}
