/*
 * test_dmarc_rua.c - RFC 7489 7.1 authorization of external report
 * destinations, on records served from memory: same organization (no
 * lookup), authorized, missing or non-DMARC records, DNS failure, names
 * too long to exist, unusable addresses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dmarc_psl.h"
#include "dmarc_record.h"
#include "dmarc_rua.h"

#include "dmarc_memsrc.h"

static const char psl_text[] = "com\nexample\nco.uk\n";

static const dmarc_memzone_t zone[] = {
    { "example.com._report._dmarc.reports.example", { "v=DMARC1" } },
    { "example.com._report._dmarc.spaced.example", { "unrelated", "v = DMARC1;" } },
    { "example.com._report._dmarc.spf.example", { "v=spf1 -all" } },
    { "example.com._report._dmarc.lower.example", { "v=dmarc1" } },
    { "example.com._report._dmarc.temp.example", { "TEMPFAIL" } },
    { "shop.co.uk._report._dmarc.reports.example", { "v=DMARC1; rua=mailto:x@reports.example" } },
    { NULL, { NULL } }
};

static int lookups;

/* Counts the questions: same-organization destinations need none. */
static dmarc_src_status_t mem_txt(void *arg, const char *name,
                                  dmarc_txt_each_fn each, void *cbarg)
{
    lookups++;
    return dmarc_memsrc_txt(arg, name, each, cbarg);
}

typedef struct rua_case {
    const char *name;
    const char *policy_domain, *address;
    dmarc_rua_status_t want;
    int lookups;                /* DNS questions asked */
    const char *why;            /* a part of WHY */
} rua_case_t;

#define LONG63 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const rua_case_t cases[] = {
    { "rua_same_domain_needs_no_lookup", "example.com", "agg@example.com",
      DMARC_RUA_SAME_ORG, 0, "same organization" },
    { "rua_same_organization_needs_no_lookup", "mail.example.com", "agg@reports.example.com",
      DMARC_RUA_SAME_ORG, 0, "same organization" },
    { "rua_external_authorized", "example.com", "agg@reports.example",
      DMARC_RUA_AUTHORIZED, 1, "authorized by example.com._report._dmarc.reports.example" },
    { "rua_external_host_compared_in_lower_case", "example.com", "agg@Reports.EXAMPLE",
      DMARC_RUA_AUTHORIZED, 1, "authorized" },
    { "rua_external_one_dmarc_record_among_others", "example.com", "agg@spaced.example",
      DMARC_RUA_AUTHORIZED, 1, "authorized" },
    { "rua_external_policy_domain_is_where_the_record_was", "shop.co.uk",
      "agg@reports.example", DMARC_RUA_AUTHORIZED, 1, "shop.co.uk._report._dmarc" },
    { "rua_external_without_record", "example.com", "agg@elsewhere.example",
      DMARC_RUA_UNAUTHORIZED, 1, "without a \"v=DMARC1\" record" },
    { "rua_external_record_not_dmarc", "example.com", "agg@spf.example",
      DMARC_RUA_UNAUTHORIZED, 1, "without" },
    { "rua_external_version_is_case_sensitive", "example.com", "agg@lower.example",
      DMARC_RUA_UNAUTHORIZED, 1, "without" },
    { "rua_external_authorization_is_per_policy_domain", "other.com", "agg@reports.example",
      DMARC_RUA_UNAUTHORIZED, 1, "other.com._report._dmarc.reports.example" },
    { "rua_external_dns_failure_is_tempfail", "example.com", "agg@temp.example",
      DMARC_RUA_TEMPFAIL, 1, "DNS lookup" },
    { "rua_external_name_too_long_is_unauthorized",
      LONG63 "." LONG63 ".com", "agg@" LONG63 "." LONG63 ".example",
      DMARC_RUA_UNAUTHORIZED, 0, "name too long" },
    { "rua_address_without_domain_is_invalid", "example.com", "agg@",
      DMARC_RUA_INVALID, 0, "no usable domain" },
    { "rua_address_without_at_is_invalid", "example.com", "agg",
      DMARC_RUA_INVALID, 0, "no usable domain" },
};

static void rua_cases(void **state)
{
    char err[256], why[600];
    dmarc_psl_t *psl = dmarc_psl_load_text(psl_text, strlen(psl_text), err, sizeof err);
    dmarc_source_t src = { mem_txt, (void *)zone };

    (void) state;
    assert_non_null(psl);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const rua_case_t *c = &cases[i];
        lookups = 0;
        dmarc_rua_status_t st = dmarc_rua_check(&src, psl, c->policy_domain, c->address,
                                                why, sizeof why);
        if (st != c->want || lookups != c->lookups || strstr(why, c->why) == NULL)
            fail_msg("%s: %s after %d lookups (%s), want %s after %d with \"%s\"", c->name,
                     dmarc_rua_status_name(st), lookups, why, dmarc_rua_status_name(c->want),
                     c->lookups, c->why);
    }
    dmarc_psl_free(psl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rua_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
