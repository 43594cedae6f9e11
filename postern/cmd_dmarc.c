/*
 * cmd_dmarc.c - "postern dmarc report": build the RFC 7489 aggregate
 * reports of a period from the DMARC history, write them to a directory
 * and optionally hand each to the local sendmail for its rua addresses.
 * "postern dmarc lookup DOMAIN": which DMARC policy applies to a domain.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "config.h"
#include "dns.h"

#include "cmdconf.h"
#include "commands.h"
#include "dmarc_hist.h"
#include "dmarc_lib.h"
#include "dmarc_psl.h"
#include "dmarc_record.h"
#include "dmarc_report.h"
#include "dmarc_rua.h"

#define MAX_REPORT (16 * 1024 * 1024)

typedef struct send_ctx {
    bool send;
    const char *sendmail;
    dmarc_psl_t *psl;
    dnsr_t *dns;
    dmarc_source_t src;         /* authorization records (7.1) */
    const char *from, *receiver;
    int failures;
} send_ctx_t;

static int dmarc_usage(void)
{
    fprintf(stderr,
            "usage: postern dmarc lookup [-c FILE] DOMAIN\n"
            "       postern dmarc report [-c FILE] [--period P] [--out DIR]\n"
            "                            [--receiver DOMAIN] [--send]\n"
            "  --period P   yesterday (default), today, YYYY-MM-DD or BEGIN-END (epoch)\n"
            "  --out DIR    where the .xml.gz files go (default: .)\n"
            "  --receiver D our domain, first part of the file names (default: host name)\n"
            "  --send       also mail each report to its rua addresses (report_sendmail)\n");
    return EX_USAGE;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = malloc(MAX_REPORT);

    *len = 0;
    if (f != NULL && buf != NULL)
        *len = fread(buf, 1, MAX_REPORT, f);
    if (f != NULL)
        fclose(f);
    if (*len == 0 || *len == MAX_REPORT) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Writes the report mail (RFC 7489 7.2.1.1) for PATH to the pipe OUT. */
static void write_mail(FILE *out, const send_ctx_t *s, const char *to, const char *path,
                       const char *domain, const char *data, size_t len)
{
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    unsigned char line[80];

    fprintf(out, "From: %s\nTo: %s\nSubject: Report Domain: %s Submitter: %s Report-ID: <%s>\n"
                 "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"postern-rua\"\n\n"
                 "--postern-rua\nContent-Type: text/plain; charset=us-ascii\n\n"
                 "DMARC aggregate report for %s from %s.\n\n"
                 "--postern-rua\nContent-Type: application/gzip\n"
                 "Content-Transfer-Encoding: base64\n"
                 "Content-Disposition: attachment; filename=\"%s\"\n\n",
            s->from, to, domain, s->receiver, name, domain, s->receiver, name);
    for (size_t i = 0; i < len; i += 57) {
        size_t n = len - i < 57 ? len - i : 57;
        EVP_EncodeBlock(line, (const unsigned char *)data + i, (int)n);
        fprintf(out, "%s\n", line);
    }
    fprintf(out, "--postern-rua--\n");
}

/* Runs sendmail without a shell: the addresses come from DNS. */
static int mail_one(const send_ctx_t *s, const char *to, const char *path, const char *domain)
{
    size_t len;
    char *data = slurp(path, &len);
    int fds[2], status = 1;

    if (data == NULL || pipe(fds) < 0) {
        free(data);
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[0], 0);
        close(fds[0]);
        close(fds[1]);
        execl(s->sendmail, "sendmail", "-oi", "-f", s->from, "--", to, (char *)NULL);
        _exit(127);
    }
    close(fds[0]);
    FILE *out = fdopen(fds[1], "w");
    if (out != NULL) {
        write_mail(out, s, to, path, domain, data, len);
        fclose(out);
    } else {
        close(fds[1]);
    }
    free(data);
    if (pid < 0 || waitpid(pid, &status, 0) < 0)
        return -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* RFC 7489 7.1: a rua outside the policy domain's organization gets
 * the report only when it publishes an authorization record. A lookup
 * failure counts as a failure of the run (try again later); a missing
 * record does not (the destination never asked for these reports). */
static bool authorized(send_ctx_t *s, const char *domain, const char *addr)
{
    char why[600];
    dmarc_rua_status_t st = dmarc_rua_check(&s->src, s->psl, domain, addr, why, sizeof why);

    if (st == DMARC_RUA_SAME_ORG || st == DMARC_RUA_AUTHORIZED)
        return true;
    fprintf(stderr, "postern: %s: not sent to %s\n", domain, why);
    if (st == DMARC_RUA_TEMPFAIL)
        s->failures++;
    return false;
}

static void send_to(send_ctx_t *s, const char *path, const char *domain, const char *addr)
{
    if (!authorized(s, domain, addr))
        return;
    if (mail_one(s, addr, path, domain) < 0) {
        fprintf(stderr, "postern: %s: sending to %s failed\n", domain, addr);
        s->failures++;
    } else {
        printf("  sent to %s\n", addr);
    }
}

static void on_file(void *arg, const char *path, const char *domain, const char *rua)
{
    send_ctx_t *s = arg;
    char addr[256];

    printf("%s\n", path);
    for (const char *u = rua; s->send && *u != '\0';) {
        size_t n = strcspn(u, ",");
        if (dmarc_report_rua_address(u, n, addr, sizeof addr) < 0)
            fprintf(stderr, "postern: %s: rua \"%.*s\" is not a usable mailto: URI\n",
                    domain, (int)n, u);
        else
            send_to(s, path, domain, addr);
        u += n + (u[n] == ',');
    }
}

/* What --send needs besides the reports: the PSL and a resolver. */
static int send_open(const config_t *cfg, send_ctx_t *s, char *err, size_t errlen)
{
    if (!s->send)
        return 0;
    if ((s->psl = dmarc_psl_load(config_str(cfg, "dmarc", "psl_file"), err, errlen)) == NULL ||
        (s->dns = dnsr_new_from_config(cfg, err, errlen)) == NULL)
        return -1;
    s->src = dmarc_source_dns(s->dns);
    return 0;
}

static void send_close(send_ctx_t *s)
{
    dnsr_free(s->dns);
    dmarc_psl_free(s->psl);
}

static int report(const config_t *cfg, const char *period, const char *outdir,
                  const char *receiver, bool send)
{
    char host[256] = "localhost", email[300], err[512];
    int64_t begin, end;

    if (dmarc_report_period(period, (int64_t)time(NULL), &begin, &end) < 0) {
        fprintf(stderr, "postern: bad period \"%s\"\n", period);
        return EX_USAGE;
    }
    gethostname(host, sizeof host - 1);
    const char *org = config_str(cfg, "dmarc", "report_org_name");
    const char *mail = config_str(cfg, "dmarc", "report_email");
    snprintf(email, sizeof email, "%s%s", mail && *mail ? "" : "postmaster@",
             mail && *mail ? mail : host);
    dmarc_report_meta_t m = { org && *org ? org : host, email,
                              receiver ? receiver : host, begin, end };
    dmarc_hist_t *h = dmarc_hist_open(config_str(cfg, "dmarc", "history"),
                                      config_str(cfg, "dmarc", "history_db"), err, sizeof err);
    send_ctx_t s = { .send = send, .sendmail = config_str(cfg, "dmarc", "report_sendmail"),
                     .from = email, .receiver = m.receiver };
    if (h == NULL || send_open(cfg, &s, err, sizeof err) < 0) {
        fprintf(stderr, "postern: %s\n", err);
        dmarc_hist_close(h);
        send_close(&s);
        return EX_UNAVAILABLE;
    }
    int n = dmarc_report_write_all(h, &m, outdir, on_file, &s, err, sizeof err);
    dmarc_hist_close(h);
    send_close(&s);
    if (n < 0) {
        fprintf(stderr, "postern: %s\n", err);
        return 1;
    }
    fprintf(stderr, "postern: %d report(s) for %lld-%lld in %s\n", n, (long long)begin,
            (long long)end, outdir);
    return s.failures ? 1 : 0;
}

/* "postern dmarc lookup DOMAIN": policy discovery and the parsed
 * record, through the same resolver, PSL and checks as the milter. */
static int lookup(const config_t *cfg, const char *domain)
{
    char err[512];
    dmarc_record_t rec;
    dmarc_tags_t t;
    dnsr_t *r = dmarc_lib_init(err, sizeof err) == 0
                ? dnsr_new_from_config(cfg, err, sizeof err) : NULL;
    dmarc_psl_t *psl = r ? dmarc_psl_load(config_str(cfg, "dmarc", "psl_file"), err,
                                          sizeof err) : NULL;

    if (r == NULL || psl == NULL) {
        fprintf(stderr, "postern: %s\n", err);
        dnsr_free(r);
        return EX_UNAVAILABLE;
    }
    dmarc_source_t src = dmarc_source_dns(r);
    dmarc_record_discover(&src, psl, domain, &rec);
    printf("domain: %s\norganizational domain: %s\nrecord: %s (%s)\n", domain,
           rec.org_domain, dmarc_rec_status_name(rec.status), rec.why);
    int rc = rec.status == DMARC_REC_FOUND ? 0 : rec.status == DMARC_REC_TEMPERROR ? EX_TEMPFAIL : 1;
    if (rec.status == DMARC_REC_FOUND) {
        printf("text: %s\n", rec.text);
        if (dmarc_lib_parse(rec.text, rec.domain, rec.org_domain, &t, err, sizeof err) < 0) {
            printf("parse: permerror (%s)\n", err);
            rc = 1;
        } else {
            printf("policy domain: %s\np: %s\nsp: %s\npct: %d\nadkim: %c\naspf: %c\n"
                   "fo: %s\nrua: %s\n%s", rec.domain, dmarc_p_name(t.p), dmarc_p_name(t.sp),
                   t.pct, t.adkim, t.aspf, t.fo, t.rua,
                   t.p_from_rua ? "note: no valid p=, read as p=none (RFC 7489 6.6.3)\n" : "");
        }
    }
    dmarc_psl_free(psl);
    dnsr_free(r);
    return rc;
}

static int run_lookup(int argc, char **argv)
{
    const char *path = cmdconf_default_path();
    int c;

    optind = 2;
    while ((c = getopt(argc, argv, "c:")) != -1) {
        if (c != 'c')
            return dmarc_usage();
        path = optarg;
    }
    if (optind != argc - 1)
        return dmarc_usage();
    config_t *cfg = cmdconf_load(path);
    if (cfg == NULL)
        return EX_CONFIG;
    int rc = lookup(cfg, argv[optind]);
    config_unref(cfg);
    return rc;
}

int cmd_dmarc(int argc, char **argv)
{
    static const struct option longs[] = {
        { "period", required_argument, NULL, 'p' }, { "out", required_argument, NULL, 'o' },
        { "receiver", required_argument, NULL, 'r' }, { "send", no_argument, NULL, 's' },
        { NULL, 0, NULL, 0 }
    };
    const char *path = cmdconf_default_path(), *period = "yesterday", *out = ".";
    const char *receiver = NULL;
    bool send = false;
    int c;

    if (argc >= 2 && strcmp(argv[1], "lookup") == 0)
        return run_lookup(argc, argv);
    if (argc < 2 || strcmp(argv[1], "report") != 0)
        return dmarc_usage();
    optind = 2;
    while ((c = getopt_long(argc, argv, "c:p:o:r:s", longs, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'p': period = optarg; break;
        case 'o': out = optarg; break;
        case 'r': receiver = optarg; break;
        case 's': send = true; break;
        default: return dmarc_usage();
        }
    }
    if (optind != argc)
        return dmarc_usage();
    config_t *cfg = cmdconf_load(path);
    if (cfg == NULL)
        return EX_CONFIG;
    int rc = report(cfg, period, out, receiver, send);
    config_unref(cfg);
    return rc;
}
