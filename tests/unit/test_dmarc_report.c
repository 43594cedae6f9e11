/*
 * test_dmarc_report.c - the DMARC history in SQLite and the aggregate
 * reports built from it: grouping and counts, periods, per-domain
 * files with the RFC 7489 name, gzip, and validation of the XML against
 * the RFC 7489 Appendix C schema with xmllint.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "dmarc_hist.h"
#include "dmarc_report.h"

static char dir[] = "/tmp/test_dmarc_report.XXXXXX";
static char db[256];
static dmarc_hist_t *hist;

static dmarc_hist_row_t row(int64_t ts, const char *ip, const char *from,
                            const char *policy_domain, dmarc_p_t dis, bool dkim_ok)
{
    dmarc_hist_row_t r;

    memset(&r, 0, sizeof r);
    r.ts = ts;
    snprintf(r.source_ip, sizeof r.source_ip, "%s", ip);
    snprintf(r.header_from, sizeof r.header_from, "%s", from);
    snprintf(r.envelope_from, sizeof r.envelope_from, "bounce.%s", from);
    snprintf(r.policy_domain, sizeof r.policy_domain, "%s", policy_domain);
    r.p = DMARC_P_REJECT;
    r.sp = DMARC_P_QUARANTINE;
    r.pct = 100;
    r.adkim = 'r';
    r.aspf = 's';
    snprintf(r.fo, sizeof r.fo, "1");
    snprintf(r.rua, sizeof r.rua, "mailto:agg@%s", policy_domain);
    r.result = dkim_ok ? DMARC_RESULT_PASS : DMARC_RESULT_FAIL;
    r.disposition = dis;
    r.dkim_aligned = dkim_ok;
    snprintf(r.spf_domain, sizeof r.spf_domain, "bounce.%s", from);
    r.spf_result = DMARC_AUTH_PASS;
    r.ndkim = 1;
    snprintf(r.dkim[0].domain, sizeof r.dkim[0].domain, "%s", dkim_ok ? from : "other.example");
    snprintf(r.dkim[0].selector, sizeof r.dkim[0].selector, "s1<&>");
    r.dkim[0].result = DMARC_AUTH_PASS;
    return r;
}

static void add(const dmarc_hist_row_t *r)
{
    char err[256];

    if (dmarc_hist_add(hist, r, err, sizeof err) < 0)
        fail_msg("%s", err);
}

static int setup(void **state)
{
    char err[256];

    (void) state;
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(db, sizeof db, "%s/dmarc.db", dir);
    hist = dmarc_hist_open("sqlite", db, err, sizeof err);
    if (hist == NULL)
        return -1;
    for (int i = 0; i < 3; i++) {
        dmarc_hist_row_t r = row(1000 + i, "192.0.2.1", "example.com", "example.com",
                                 DMARC_P_NONE, true);
        add(&r);
    }
    dmarc_hist_row_t r = row(1500, "2001:db8::25", "example.com", "example.com",
                             DMARC_P_REJECT, false);
    add(&r);
    r = row(1600, "192.0.2.9", "news.example.com", "example.com", DMARC_P_QUARANTINE, false);
    snprintf(r.override, sizeof r.override, "trusted_forwarder");
    r.disposition = DMARC_P_NONE;
    add(&r);
    r = row(1700, "unknown", "example.com", "example.com", DMARC_P_REJECT, false);
    add(&r);
    r = row(1200, "198.51.100.4", "example.org", "example.org", DMARC_P_NONE, true);
    add(&r);
    r = row(5000, "198.51.100.5", "late.example", "late.example", DMARC_P_NONE, true);
    add(&r);
    r = row(1300, "198.51.100.6", "norecord.example", "", DMARC_P_NONE, false);
    add(&r);
    return 0;
}

static int teardown(void **state)
{
    char cmd[300];

    (void) state;
    dmarc_hist_close(hist);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int collect_domain(void *arg, const char *domain)
{
    char *list = arg;
    strcat(list, domain);
    strcat(list, " ");
    return 0;
}

static void history_lists_domains_of_the_period(void **state)
{
    char list[256] = "", err[256];

    (void) state;
    assert_int_equal(dmarc_hist_domains(hist, 1000, 2000, collect_domain, list, err,
                                        sizeof err), 0);
    assert_string_equal(list, "example.com example.org ");
}

typedef struct counts {
    unsigned long total, groups, max;
} counts_t;

static int count_group(void *arg, const dmarc_hist_row_t *g, unsigned long n)
{
    counts_t *c = arg;

    c->total += n;
    c->groups++;
    if (n > c->max)
        c->max = n;
    assert_string_equal(g->policy_domain, "example.com");
    return 0;
}

static int count_threads(void *arg, const dmarc_hist_row_t *g, unsigned long n)
{
    counts_t *c = arg;

    (void) g;
    c->total += n;
    c->groups++;
    return 0;
}

static void history_groups_identical_messages(void **state)
{
    counts_t c = { 0, 0, 0 };
    char err[256];

    (void) state;
    assert_int_equal(dmarc_hist_groups(hist, "example.com", 1000, 2000, count_group, &c,
                                       err, sizeof err), 0);
    assert_int_equal(c.total, 6);
    assert_int_equal(c.groups, 4);
    assert_int_equal(c.max, 3);
}

static void xmllint(const char *file)
{
    char cmd[1024];
    const char *data = getenv("POSTERN_TEST_DATA");

    if (data == NULL)
        fail_msg("POSTERN_TEST_DATA is not set");
    snprintf(cmd, sizeof cmd,
             "xmllint --noout --schema '%s/dmarc/rfc7489-appendix-c.xsd' '%s' 2>&1", data, file);
    if (system(cmd) != 0)
        fail_msg("%s does not validate", file);
}

static void report_xml_validates_and_holds_the_groups(void **state)
{
    dmarc_report_meta_t m = { "Test Org", "postmaster@mx.test", "mx.test", 1000, 2000 };
    char *xml, err[256], file[300];
    size_t len;

    (void) state;
    assert_int_equal(dmarc_report_xml(hist, "example.com", &m, &xml, &len, err, sizeof err), 1);
    assert_int_equal(strlen(xml), len);
    static const char *const want[] = {
        "<dmarc:feedback xmlns:dmarc=\"http://dmarc.org/dmarc-xml/0.1\">",
        "<source_ip>192.0.2.1</source_ip>", "<count>3</count>",
        "<source_ip>2001:db8:0:0:0:0:0:25</source_ip>", "<type>trusted_forwarder</type>",
        "<selector>s1&lt;&amp;&gt;</selector>", "<p>reject</p>", "<aspf>s</aspf>",
        "<error>1 messages from unknown source addresses not listed</error>",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (strstr(xml, want[i]) == NULL)
            fail_msg("no %s in the report", want[i]);
    assert_null(strstr(xml, "example.org"));
    snprintf(file, sizeof file, "%s/example.com.xml", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fwrite(xml, 1, len, f);
    fclose(f);
    free(xml);
    xmllint(file);
    assert_int_equal(dmarc_report_xml(hist, "nothing.example", &m, &xml, &len, err,
                                      sizeof err), 0);
    assert_null(xml);
}

typedef struct seen {
    int files;
    char rua[256];
} seen_t;

static void on_file(void *arg, const char *path, const char *domain, const char *rua)
{
    seen_t *s = arg;

    (void) path;
    s->files++;
    if (strcmp(domain, "example.org") == 0)
        snprintf(s->rua, sizeof s->rua, "%s", rua);
}

static void report_files_are_named_gzipped_and_valid(void **state)
{
    dmarc_report_meta_t m = { "Test Org", "postmaster@mx.test", "mx.test", 1000, 2000 };
    char err[256], path[512], plain[512], buf[65536];
    seen_t seen = { 0, "" };

    (void) state;
    assert_int_equal(dmarc_report_write_all(hist, &m, dir, on_file, &seen, err, sizeof err), 2);
    assert_int_equal(seen.files, 2);
    assert_string_equal(seen.rua, "mailto:agg@example.org");
    snprintf(path, sizeof path, "%s/mx.test!example.org!1000!2000.xml.gz", dir);
    gzFile gz = gzopen(path, "rb");
    assert_non_null(gz);
    int n = gzread(gz, buf, sizeof buf - 1);
    gzclose(gz);
    assert_true(n > 100);
    buf[n] = '\0';
    assert_non_null(strstr(buf, "<header_from>example.org</header_from>"));
    snprintf(plain, sizeof plain, "%s/example.org.xml", dir);
    FILE *f = fopen(plain, "w");
    assert_non_null(f);
    fwrite(buf, 1, (size_t)n, f);
    fclose(f);
    xmllint(plain);
    snprintf(path, sizeof path, "%s/mx.test!example.com!1000!2000.xml.gz", dir);
    assert_int_equal(access(path, R_OK), 0);
}

static void report_schema_rejects_a_broken_document(void **state)
{
    char file[300], cmd[1024];
    const char *data = getenv("POSTERN_TEST_DATA");

    (void) state;
    snprintf(file, sizeof file, "%s/broken.xml", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs("<dmarc:feedback xmlns:dmarc=\"http://dmarc.org/dmarc-xml/0.1\">"
          "<version>1.0</version></dmarc:feedback>\n", f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "xmllint --noout --schema '%s/dmarc/rfc7489-appendix-c.xsd' "
             "'%s' >/dev/null 2>&1", data, file);
    assert_int_not_equal(system(cmd), 0);
}

static void history_none_keeps_nothing(void **state)
{
    char err[256], list[64] = "";
    dmarc_hist_t *h = dmarc_hist_open("none", "", err, sizeof err);
    dmarc_hist_row_t r = row(1000, "192.0.2.1", "example.com", "example.com", DMARC_P_NONE, true);

    (void) state;
    assert_non_null(h);
    assert_int_equal(dmarc_hist_add(h, &r, err, sizeof err), 0);
    assert_int_equal(dmarc_hist_domains(h, 0, 10000, collect_domain, list, err, sizeof err), 0);
    assert_string_equal(list, "");
    dmarc_hist_close(h);
    assert_null(dmarc_hist_open("mysql", "", err, sizeof err));
    assert_null(dmarc_hist_open("sqlite", "/nonexistent/dir/x.db", err, sizeof err));
}

static void row_fill_copies_the_outcome(void **state)
{
    dmarc_outcome_t o;
    dmarc_dkim_in_t sig = { "example.com", "s1", DMARC_AUTH_PASS };
    dmarc_input_t in = { .from_domain = "example.com", .spf_domain = "example.net",
                         .spf_result = DMARC_AUTH_FAIL, .dkim = &sig, .ndkim = 1 };
    dmarc_hist_row_t r;

    (void) state;
    memset(&o, 0, sizeof o);
    o.evaluated = true;
    snprintf(o.from_domain, sizeof o.from_domain, "example.com");
    o.verdict.record_found = true;
    o.verdict.result = DMARC_RESULT_PASS;
    o.verdict.dkim_aligned = true;
    snprintf(o.verdict.policy_domain, sizeof o.verdict.policy_domain, "example.com");
    o.verdict.tags.p = DMARC_P_QUARANTINE;
    o.verdict.tags.pct = 50;
    o.action.override = "local_policy";
    dmarc_hist_row_fill(&r, &o, &in, "192.0.2.3", "example.net", "rcpt.example", 42);
    assert_int_equal(r.ts, 42);
    assert_string_equal(r.policy_domain, "example.com");
    assert_int_equal(r.p, DMARC_P_QUARANTINE);
    assert_int_equal(r.pct, 50);
    assert_true(r.dkim_aligned);
    assert_string_equal(r.override, "local_policy");
    assert_string_equal(r.spf_domain, "example.net");
    assert_int_equal(r.spf_result, DMARC_AUTH_FAIL);
    assert_int_equal(r.ndkim, 1);
    assert_string_equal(r.dkim[0].selector, "s1");
    assert_string_equal(r.envelope_to, "rcpt.example");
}

static void report_periods(void **state)
{
    int64_t b, e;
    const int64_t now = 1700003600;  /* 2023-11-14 23:13:20 UTC */

    (void) state;
    assert_int_equal(dmarc_report_period("yesterday", now, &b, &e), 0);
    assert_int_equal(b, 1699833600);
    assert_int_equal(e - b, 86400);
    assert_int_equal(e, now - now % 86400);
    assert_int_equal(dmarc_report_period("today", now, &b, &e), 0);
    assert_int_equal(b, now - now % 86400);
    assert_int_equal(dmarc_report_period("2024-02-29", now, &b, &e), 0);
    assert_int_equal(b, 1709164800);
    assert_int_equal(e, 1709164800 + 86400);
    assert_int_equal(dmarc_report_period("1970-01-01", now, &b, &e), 0);
    assert_int_equal(b, 0);
    assert_int_equal(dmarc_report_period("1000-2000", now, &b, &e), 0);
    assert_int_equal(b, 1000);
    assert_int_equal(e, 2000);
    assert_int_equal(dmarc_report_period("2000-1000", now, &b, &e), -1);
    assert_int_equal(dmarc_report_period("2024-13-01", now, &b, &e), -1);
    assert_int_equal(dmarc_report_period("last week", now, &b, &e), -1);
    assert_int_equal(dmarc_report_period("", now, &b, &e), -1);
}

static void report_rua_addresses_are_checked(void **state)
{
    static const char *const cases[][2] = {
        { "mailto:agg@example.com", "agg@example.com" },
        { "mailto:agg+dmarc@example.com!10m", "agg+dmarc@example.com" },
        { "MAILTO:a@b.example", "a@b.example" },
        { "mailto:-oQ/tmp@x.example", NULL },
        { "mailto:a b@example.com", NULL },
        { "mailto:a@b@example.com", NULL },
        { "mailto:noat.example.com", NULL },
        { "https://example.com/report", NULL },
        { "mailto:a@example.com\nBcc: x@evil.example", NULL },
    };
    char buf[256];

    (void) state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int n = dmarc_report_rua_address(cases[i][0], strlen(cases[i][0]), buf, sizeof buf);
        if (cases[i][1] == NULL) {
            if (n != -1)
                fail_msg("%s accepted as %s", cases[i][0], buf);
        } else {
            assert_int_equal(n, (int)strlen(cases[i][1]));
            assert_string_equal(buf, cases[i][1]);
        }
    }
}

typedef struct writer {
    int id;
    int failures;
} writer_t;

static void *write_many(void *arg)
{
    writer_t *w = arg;
    char err[256];

    for (int i = 0; i < 200; i++) {
        dmarc_hist_row_t r = row(10000 + i, "192.0.2.50", "threads.example", "threads.example",
                                 DMARC_P_NONE, true);
        r.dkim[0].result = (dmarc_auth_t)(w->id % 3);
        if (dmarc_hist_add(hist, &r, err, sizeof err) < 0)
            w->failures++;
    }
    return NULL;
}

static void history_takes_writes_from_many_threads(void **state)
{
    pthread_t t[4];
    writer_t w[4];
    counts_t c = { 0, 0, 0 };
    char err[256];

    (void) state;
    for (int i = 0; i < 4; i++) {
        w[i] = (writer_t){ i, 0 };
        assert_int_equal(pthread_create(&t[i], NULL, write_many, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    assert_int_equal(dmarc_hist_groups(hist, "threads.example", 10000, 10200, count_threads,
                                       &c, err, sizeof err), 0);
    assert_int_equal(c.total, 800);
    assert_int_equal(c.groups, 3);      /* three distinct DKIM results */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(history_lists_domains_of_the_period),
        cmocka_unit_test(history_groups_identical_messages),
        cmocka_unit_test(report_xml_validates_and_holds_the_groups),
        cmocka_unit_test(report_files_are_named_gzipped_and_valid),
        cmocka_unit_test(report_schema_rejects_a_broken_document),
        cmocka_unit_test(history_none_keeps_nothing),
        cmocka_unit_test(row_fill_copies_the_outcome),
        cmocka_unit_test(report_periods),
        cmocka_unit_test(history_takes_writes_from_many_threads),
        cmocka_unit_test(report_rua_addresses_are_checked),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
