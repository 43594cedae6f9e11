/*
 * audit_gen.c - write a large audit log like a busy mail server's, to
 * measure "postern why" on it (docs/audit-log.md, "postern why on a large
 * log"). Not installed.
 *
 *   audit-gen OUT MEGABYTES [SEED]
 *
 * Every record is made by the audit module itself (audit_format) and
 * chained with its hash, so "postern audit verify" accepts the file; only
 * the clock is simulated: about two seconds between messages, from
 * 2026-11-01T00:00:00Z on, so a gigabyte covers about a week. Each message
 * has the records the components write: spf, dkim verify (one signature
 * or none), dmarc, av scan and attach; an SPF fail is refused at RCPT
 * and has only its spf record, under the connection id and no queue id;
 * a few hit a policyd limit first. The queue id, Message-ID and sender of
 * the message in the middle of the file are printed, with a --since time
 * that selects the last hour, for the queries to time.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "audit.h"

#define TS_LEN 27               /* 2026-11-25T06:01:02.123456Z */
#define TS_AT 7                 /* after {"ts":" */

typedef struct gen {
    FILE *out;
    uint64_t rng, bytes, target, records;
    uint64_t usec;              /* simulated clock, since the epoch */
    char prev[AUDIT_HASH_HEX + 1];
} gen_t;

typedef struct msg {
    uint64_t conn;              /* connection number */
    char qid[16], ip[16], helo[64], from[80], rcpt[2][64], msgid[96];
    const char *rcpts[2];
    size_t nrcpt;
} msg_t;

static uint32_t rnd(gen_t *g, uint32_t n)
{
    g->rng ^= g->rng << 13;
    g->rng ^= g->rng >> 7;
    g->rng ^= g->rng << 17;
    return (uint32_t) ((g->rng >> 11) % n);
}

static void ts_of(uint64_t usec, char out[TS_LEN + 1])
{
    time_t t = (time_t) (usec / 1000000);
    struct tm tm;
    size_t n;

    gmtime_r(&t, &tm);
    n = strftime(out, TS_LEN + 1, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, TS_LEN + 1 - n, ".%06uZ", (unsigned) (usec % 1000000) % 1000000u);
}

/* Each milter is a process of its own and names connections "PID.N"
 * (menv.c), so one connection has a different id in each component. */
static unsigned pid_of(const char *component)
{
    unsigned h = 0;

    while (*component)
        h = h * 31 + (unsigned char) *component++;
    return 1000 + h % 30000;
}

/* One record as the audit module formats it, at the simulated time. */
static int put(gen_t *g, const msg_t *m, const char *component, audit_record_t r)
{
    char ts[TS_LEN + 1], conn[32];
    char *line;
    size_t len;

    snprintf(conn, sizeof(conn), "%u.%" PRIu64, pid_of(component), m->conn);
    r.qid = m->qid[0] ? m->qid : NULL;
    r.conn = conn;
    r.client_ip = m->ip;
    r.helo = m->helo;
    r.from = m->from;
    r.rcpt = m->rcpts;
    r.nrcpt = m->nrcpt;
    if ((line = audit_format(&r, component, g->prev)) == NULL
        || strncmp(line, "{\"ts\":\"", TS_AT) != 0) {
        free(line);
        return -1;
    }
    g->usec += 1000 + rnd(g, 40000);
    ts_of(g->usec, ts);
    memcpy(line + TS_AT, ts, TS_LEN);
    len = strlen(line);
    audit_hash_hex(line, len, g->prev);
    fwrite(line, 1, len, g->out);
    fputc('\n', g->out);
    g->bytes += len + 1;
    g->records++;
    free(line);
    return 0;
}

static void new_message(gen_t *g, uint64_t i, msg_t *m)
{
    unsigned dom = rnd(g, 5000), user = rnd(g, 100000);

    memset(m, 0, sizeof(*m));
    snprintf(m->qid, sizeof(m->qid), "%010" PRIX64, (uint64_t) ((i + 1) * 0x9E3779B97F4A7C15ULL) >> 24);
    m->conn = i + 1;
    snprintf(m->ip, sizeof(m->ip), "203.0.%u.%u", rnd(g, 256), 1 + rnd(g, 254));
    snprintf(m->helo, sizeof(m->helo), "mail%u.example%u.net", rnd(g, 9), dom);
    snprintf(m->from, sizeof(m->from), "user%u@example%u.net", user, dom);
    snprintf(m->msgid, sizeof(m->msgid), "<%016" PRIx64 ".%u@example%u.net>",
             g->rng, user, dom);
    m->nrcpt = 1 + rnd(g, 2);
    for (size_t k = 0; k < m->nrcpt; k++) {
        snprintf(m->rcpt[k], sizeof(m->rcpt[k]), "staff%u@example.org", rnd(g, 2000));
        m->rcpts[k] = m->rcpt[k];
    }
}

static const char *spf_result(gen_t *g)
{
    uint32_t x = rnd(g, 100);

    return x < 80 ? "pass" : x < 88 ? "none" : x < 94 ? "softfail" : "fail";
}

/* The records of one message, in the order the milter chain makes them:
 * 1 when it was accepted, 0 refused, -1 out of memory. */
static int message(gen_t *g, uint64_t i, msg_t *m)
{
    const char *spf = spf_result(g);
    bool signed_ = rnd(g, 10) < 7;
    char dom[80];
    json_t *x;
    int rc = 0;

    new_message(g, i, m);
    snprintf(dom, sizeof(dom), "%s", strchr(m->from, '@') + 1);
    if (rnd(g, 50) == 0) {
        x = json_pack("{s:s,s:i,s:s}", "key", m->from, "used", 101, "rate", "100/1h");
        rc |= put(g, m, "policyd", (audit_record_t) { .step = "per-sender", .result = "over",
                  .reason = "101 of 100/1h", .action = "defer", .ms = 0.2, .extra = x });
        json_decref(x);
    }
    x = json_pack("{s:b,s:s,s:s,s:s,s:s,s:s,s:i,s:i,s:s}", "monitor", 0, "identity", "mailfrom",
                  "domain", dom, "mechanism", strcmp(spf, "pass") ? "-all" : "ip4:203.0.0.0/16",
                  "explanation", "", "rule", "", "dns_terms", 1 + rnd(g, 4), "void_lookups", 0,
                  "helo_result", "none");
    if (strcmp(spf, "fail") == 0) {
        char qid[sizeof(m->qid)];
        memcpy(qid, m->qid, sizeof(qid));
        m->qid[0] = '\0';       /* refused at RCPT: no queue id yet */
        rc |= put(g, m, "spf", (audit_record_t) { .step = "spf", .result = spf, .reason = "-all",
                  .action = "reject", .ms = 3.1, .extra = x });
        memcpy(m->qid, qid, sizeof(qid));
        json_decref(x);
        return rc < 0 ? -1 : 0;
    }
    rc |= put(g, m, "spf", (audit_record_t) { .step = "spf", .result = spf,
              .reason = x ? json_string_value(json_object_get(x, "mechanism")) : "",
              .action = "tag", .ms = 2.4, .msgid = m->msgid, .extra = x });
    json_decref(x);
    x = json_pack("{s:s,s:s,s:s,s:i}", "domain", dom, "selector", "s2026", "algorithm",
                  "rsa-sha256", "bits", 2048);
    rc |= put(g, m, "dkim", (audit_record_t) { .step = "verify",
              .result = signed_ ? "pass" : "none", .reason = signed_ ? "" : "no signature",
              .action = "accept", .ms = 1.7, .msgid = m->msgid, .extra = signed_ ? x : NULL });
    json_decref(x);
    x = json_pack("{s:s,s:s,s:{s:s,s:s,s:s,s:b},s:[{s:s,s:s,s:s,s:b}],s:{s:b,s:s,s:s,s:s,s:i},"
                  "s:s,s:b,s:b,s:s,s:s,s:s,s:s,s:n,s:s}",
                  "authors", "one", "header_from", dom,
                  "spf", "domain", dom, "scope", "mfrom", "result", spf, "aligned", 1,
                  "dkim", "domain", dom, "selector", "s2026", "result",
                  signed_ ? "pass" : "none", "aligned", signed_,
                  "record", "found", 1, "domain", dom, "org_domain", dom, "p", "quarantine",
                  "pct", 100, "policy", "quarantine", "used_sp", 0, "sampled_out", 0,
                  "result", "pass", "disposition", "none", "action", "accept", "applied",
                  "accept", "override", "reason", "aligned SPF or DKIM pass");
    rc |= put(g, m, "dmarc", (audit_record_t) { .step = "dmarc", .result = "pass",
              .reason = "aligned SPF or DKIM pass", .action = "accept", .ms = 0.9,
              .msgid = m->msgid, .extra = x });
    json_decref(x);
    x = json_pack("{s:s,s:I,s:f}", "backend", "clamav", "size", (json_int_t) 4000 + rnd(g, 90000),
                  "scan_ms", 4.2);
    rc |= put(g, m, "av", (audit_record_t) { .step = "scan", .result = "clean", .reason = "",
              .action = "accept", .ms = 5.0, .msgid = m->msgid, .extra = x });
    json_decref(x);
    x = json_pack("{s:b,s:s,s:b,s:n,s:i,s:i,s:s,s:[]}", "monitor", 0, "cause", "clean",
                  "strip", 0, "rule", "size", 4000 + rnd(g, 90000), "parts", 1 + rnd(g, 3),
                  "walk", "", "hits");
    rc |= put(g, m, "attach", (audit_record_t) { .step = "attach", .result = "clean",
              .reason = "no rule matched", .action = "accept", .ms = 1.1, .msgid = m->msgid,
              .extra = x });
    json_decref(x);
    return rc < 0 ? -1 : 1;
}

int main(int argc, char **argv)
{
    gen_t g = { .rng = 88172645463325252ULL, .usec = 1793491200ULL * 1000000 };
    msg_t m, needle = { 0 };
    char since[TS_LEN + 1];

    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: audit-gen OUT MEGABYTES [SEED]\n");
        return 64;
    }
    g.target = strtoull(argv[2], NULL, 10) << 20;
    if (argc == 4)
        g.rng ^= strtoull(argv[3], NULL, 10) * 0x9E3779B97F4A7C15ULL;
    memset(g.prev, '0', AUDIT_HASH_HEX);
    if ((g.out = fopen(argv[1], "w")) == NULL) {
        perror(argv[1]);
        return 73;
    }
    for (uint64_t i = 0; g.bytes < g.target; i++) {
        g.usec += rnd(&g, 4000000);
        int rc = message(&g, i, &m);
        if (rc < 0) {
            fprintf(stderr, "audit-gen: out of memory\n");
            return 70;
        }
        /* An accepted message halfway through: the one to look for. */
        if (rc == 1 && needle.qid[0] == '\0' && g.bytes >= g.target / 2)
            needle = m;
    }
    if (fclose(g.out) != 0) {
        perror(argv[1]);
        return 74;
    }
    ts_of(g.usec - 3600ULL * 1000000, since);
    since[13] = '\0';           /* the hour: 2026-11-08T13 */
    printf("records=%" PRIu64 "\nbytes=%" PRIu64 "\nqid=%s\nmsgid=%s\nfrom=%s\nsince=%s\n",
           g.records, g.bytes, needle.qid, needle.msgid, needle.from, since);
    return 0;
}
