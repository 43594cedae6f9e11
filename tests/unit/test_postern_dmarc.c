/*
 * test_postern_dmarc.c - "postern dmarc report": reports of a period
 * from a history database named in the config, one gzip file per
 * policy domain with the RFC 7489 name, valid against the Appendix C
 * schema (xmllint reads the .gz directly); sending, where an external
 * rua whose authorization cannot be looked up is not mailed and fails
 * the run (tests/integration/test_dmarc_report.py has the DNS answers);
 * usage errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "commands.h"
#include "dmarc_hist.h"

static char dir[] = "/tmp/test_postern_dmarc.XXXXXX";
static char conf[300];
static int deaf = -1;           /* a DNS "server" that never answers */

/* A loopback UDP port that takes queries and answers none: every
 * lookup times out, without touching any real DNS. */
static int deaf_port(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t len = sizeof a;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if ((deaf = socket(AF_INET, SOCK_DGRAM, 0)) < 0 ||
        bind(deaf, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(deaf, (struct sockaddr *)&a, &len) < 0)
        return -1;
    return ntohs(a.sin_port);
}

static void add_row(dmarc_hist_t *h, int64_t ts, const char *ip, const char *domain)
{
    dmarc_hist_row_t r;
    char err[256];

    memset(&r, 0, sizeof r);
    r.ts = ts;
    snprintf(r.source_ip, sizeof r.source_ip, "%s", ip);
    snprintf(r.header_from, sizeof r.header_from, "%s", domain);
    snprintf(r.policy_domain, sizeof r.policy_domain, "%s", domain);
    r.p = r.sp = DMARC_P_REJECT;
    r.pct = 100;
    r.adkim = r.aspf = 'r';
    if (strcmp(domain, "example.net") == 0)     /* outside its organization */
        snprintf(r.rua, sizeof r.rua, "mailto:agg@reports.example");
    else if (strcmp(domain, "norua.example") != 0)
        snprintf(r.rua, sizeof r.rua, "mailto:agg@%s!10m,mailto:-bad@%s", domain, domain);
    r.result = DMARC_RESULT_FAIL;
    r.disposition = DMARC_P_REJECT;
    snprintf(r.spf_domain, sizeof r.spf_domain, "%s", domain);
    r.spf_result = DMARC_AUTH_FAIL;
    if (dmarc_hist_add(h, &r, err, sizeof err) < 0)
        fail_msg("%s", err);
}

static int setup(void **state)
{
    char db[300], err[256];

    (void) state;
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(db, sizeof db, "%s/dmarc.db", dir);
    snprintf(conf, sizeof conf, "%s/postern.conf", dir);
    FILE *f = fopen(conf, "w");
    int port = deaf_port();
    if (f == NULL || port < 0)
        return -1;
    fprintf(f, "[global]\ndns_upstream = 127.0.0.1@%d\ndns_timeout = 1s\n", port);
    fprintf(f, "[dmarc]\nhistory_db = %s\nreport_org_name = Test Org\n"
               "report_email = dmarc@mx.test\nreport_sendmail = %s/sendmail.sh\n", db, dir);
    fclose(f);
    /* A sendmail that keeps its arguments and its input. */
    char script[400];
    snprintf(script, sizeof script, "%s/sendmail.sh", dir);
    if ((f = fopen(script, "w")) == NULL)
        return -1;
    fprintf(f, "#!/bin/sh\necho \"$@\" >> '%s/args'\ncat >> '%s/mail'\n", dir, dir);
    fclose(f);
    chmod(script, 0755);
    dmarc_hist_t *h = dmarc_hist_open("sqlite", db, err, sizeof err);
    if (h == NULL)
        return -1;
    add_row(h, 1100, "192.0.2.1", "example.com");
    add_row(h, 1200, "192.0.2.1", "example.com");
    add_row(h, 1300, "198.51.100.1", "example.net");
    add_row(h, 1400, "198.51.100.2", "norua.example");
    add_row(h, 3000, "198.51.100.1", "later.example");
    dmarc_hist_close(h);
    return 0;
}

static int teardown(void **state)
{
    char cmd[300];

    (void) state;
    if (deaf >= 0)
        close(deaf);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int run(const char *period)
{
    char *argv[] = { "dmarc", "report", "-c", conf, "--period", (char *)period,
                     "--out", dir, "--receiver", "mx.test", NULL };
    return cmd_dmarc(10, argv);
}

static void report_command_writes_valid_files(void **state)
{
    char path[512], cmd[1200];
    const char *data = getenv("POSTERN_TEST_DATA");

    (void) state;
    assert_int_equal(run("1000-2000"), 0);
    static const char *const domains[] = { "example.com", "example.net" };
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/mx.test!%s!1000!2000.xml.gz", dir, domains[i]);
        assert_int_equal(access(path, R_OK), 0);
        snprintf(cmd, sizeof cmd, "xmllint --noout --schema '%s/dmarc/rfc7489-appendix-c.xsd' "
                 "'%s' 2>&1", data, path);
        assert_int_equal(system(cmd), 0);
    }
    snprintf(path, sizeof path, "%s/mx.test!later.example!1000!2000.xml.gz", dir);
    assert_int_not_equal(access(path, R_OK), 0);
    snprintf(path, sizeof path, "%s/mx.test!norua.example!1000!2000.xml.gz", dir);
    assert_int_not_equal(access(path, R_OK), 0);
}

static char *slurp(const char *path)
{
    static char buf[65536];
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;

    if (f)
        fclose(f);
    buf[n] = '\0';
    return buf;
}

static void report_command_sends_to_rua(void **state)
{
    char *argv[] = { "dmarc", "report", "-c", conf, "--period", "1000-2000", "--out", dir,
                     "--receiver", "mx.test", "--send", NULL };
    char path[400];

    (void) state;
    /* example.net's rua is outside its organization and its
     * authorization record cannot be looked up: not sent, and the run
     * fails so that it is tried again */
    assert_int_equal(cmd_dmarc(11, argv), 1);
    snprintf(path, sizeof path, "%s/args", dir);
    /* one mail: the "-bad" address is refused */
    assert_string_equal(slurp(path), "-oi -f dmarc@mx.test -- agg@example.com\n");
    snprintf(path, sizeof path, "%s/mail", dir);
    const char *mail = slurp(path);
    static const char *const want[] = {
        "From: dmarc@mx.test\n", "To: agg@example.com\n",
        ("Subject: Report Domain: example.com Submitter: mx.test Report-ID: "
         "<mx.test!example.com!1000!2000.xml.gz>\n"),
        "Content-Type: application/gzip\n", "Content-Transfer-Encoding: base64\n",
        "filename=\"mx.test!example.com!1000!2000.xml.gz\"\n\nH4sI",
        "--postern-rua--\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (strstr(mail, want[i]) == NULL)
            fail_msg("no \"%s\" in:\n%s", want[i], mail);
}

static void report_command_usage_errors(void **state)
{
    char *bad[] = { "dmarc", "send", NULL };

    (void) state;
    assert_int_equal(run("last week"), EX_USAGE);
    assert_int_equal(cmd_dmarc(2, bad), EX_USAGE);
    assert_int_equal(cmd_dmarc(1, bad), EX_USAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(report_command_writes_valid_files),
        cmocka_unit_test(report_command_sends_to_rua),
        cmocka_unit_test(report_command_usage_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
