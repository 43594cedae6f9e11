/*
 * fuzz_spf_record.c - hostile SPF records through the evaluation the
 * milter uses. The input is up to four records separated by newlines,
 * served by the in-memory zone as the TXT records of fuzz.example and
 * x1..x3.fuzz.example (so include:, redirect= and exp= between them
 * recurse), evaluated for an IPv4 and an IPv6 client. Beyond "no crash,
 * no leak": the result is one of the seven, the limits hold, and the
 * explanation is set only for fail.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spf_eval.h"
#include "spf_header.h"
#include "spf_macro.h"
#include "spf_record.h"
#include "spf_zone.h"

static const char *const names[] = {
    "fuzz.example", "x1.fuzz.example", "x2.fuzz.example", "x3.fuzz.example"
};

static void fixed_records(spf_zone_t *z)
{
    spf_zone_add(z, "fuzz.example", SPF_ZONE_A, "192.0.2.1", 9);
    spf_zone_add(z, "fuzz.example", SPF_ZONE_AAAA, "2001:db8::1", 11);
    spf_zone_add(z, "fuzz.example", SPF_ZONE_MX, "x1.fuzz.example", 15);
    spf_zone_add(z, "x1.fuzz.example", SPF_ZONE_A, "192.0.2.2", 9);
    spf_zone_add(z, "1.2.0.192.in-addr.arpa", SPF_ZONE_PTR, "x1.fuzz.example", 15);
}

static void check(const spf_eval_t *ev, const char *ip)
{
    spf_verdict_t v;
    char buf[2048];

    spf_eval_mailfrom(ev, ip, "x2.fuzz.example", "user-name+tag@fuzz.example", &v);
    if ((unsigned) v.result >= SPF_RESULT_COUNT || v.dns_terms > 11 || v.void_lookups > 3)
        abort();
    if (v.result != SPF_RESULT_FAIL && v.explanation[0] != '\0')
        abort();
    if (spf_header_received(&v, "mx.test", ip, "x2.fuzz.example", "u@fuzz.example", buf,
                            sizeof(buf)) >= 0 && (strchr(buf, '\n') || strchr(buf, '\r')))
        abort();
    spf_eval_helo(ev, ip, "x3.fuzz.example", &v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    spf_zone_t *z = spf_zone_new();
    spf_dns_source_t src;
    spf_eval_opts_t o = { .receiver = "mx.test", .time_limit_ms = 2000 };
    spf_eval_t *ev;
    spf_record_t *rec;
    const char *p = (const char *) data, *end = p + size;
    char err[256], out[1024];
    spf_macro_env_t env = { .sender = "a@b.example", .local = "a", .sender_domain = "b.example",
                            .domain = "b.example", .ip = "192.0.2.1", .client = "192.0.2.1",
                            .helo = "h.example" };

    if (z == NULL || size > 8192) {
        spf_zone_free(z);
        return 0;
    }
    /* the parser and the expander alone, on the raw bytes */
    if (spf_record_parse(p, size, &rec, err, sizeof(err)) == 0)
        spf_record_free(rec);
    spf_macro_expand(&env, p, size, SPF_MACRO_EXPLAIN, out, sizeof(out), err, sizeof(err));
    for (size_t i = 0; i < 4 && p < end; i++) {
        const char *nl = memchr(p, '\n', (size_t) (end - p));
        size_t n = nl ? (size_t) (nl - p) : (size_t) (end - p);
        spf_zone_add(z, names[i], SPF_ZONE_TXT, p, n);
        p += n + (nl ? 1 : 0);
    }
    fixed_records(z);
    spf_zone_source(z, &src);
    ev = spf_eval_new(&o, &src, err, sizeof(err));
    if (ev != NULL) {
        check(ev, "192.0.2.1");
        check(ev, "2001:db8::1");
    }
    spf_eval_free(ev);
    spf_zone_free(z);
    return 0;
}
