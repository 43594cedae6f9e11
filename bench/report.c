/*
 * report.c - merges milter-load's per-thread tallies and prints the result
 * as a table for people and as JSON for scripts.
 */
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <libmilter/mfdef.h>

#include "mproto.h"
#include "report.h"

int report_tally_init(report_tally_t *t)
{
    memset(t, 0, sizeof *t);
    t->lat = stats_new();
    t->setup = stats_new();
    if (t->lat != NULL && t->setup != NULL)
        return 0;
    report_tally_free(t);
    return -1;
}

void report_tally_free(report_tally_t *t)
{
    stats_free(t->lat);
    stats_free(t->setup);
    t->lat = t->setup = NULL;
}

void report_tally_merge(report_tally_t *dst, const report_tally_t *src)
{
    for (int i = 0; i < 256; i++) {
        dst->finals[i] += src->finals[i];
        dst->mods[i] += src->mods[i];
    }
    for (int i = 0; i < REPORT_MAX_CODE; i++)
        dst->codes[i] += src->codes[i];
    dst->msgs_done += src->msgs_done;
    dst->conns += src->conns;
    dst->err_connect += src->err_connect;
    dst->err_proto += src->err_proto;
    dst->err_timeout += src->err_timeout;
    dst->err_io += src->err_io;
    dst->rcpt_rejects += src->rcpt_rejects;
    stats_merge(dst->lat, src->lat);
    stats_merge(dst->setup, src->setup);
}

void report_tally_error(report_tally_t *t, report_err_t kind)
{
    uint64_t *counter[] = {&t->err_connect, &t->err_proto, &t->err_timeout,
                           &t->err_io};
    if ((unsigned)kind < sizeof counter / sizeof counter[0])
        (*counter[kind])++;
}

uint64_t report_error_count(const report_tally_t *t)
{
    return t->err_connect + t->err_proto + t->err_timeout + t->err_io;
}

static const char final_cmds[] = {SMFIR_ACCEPT, SMFIR_CONTINUE, SMFIR_REJECT,
    SMFIR_TEMPFAIL, SMFIR_DISCARD, SMFIR_SKIP, SMFIR_CONN_FAIL,
    SMFIR_SHUTDOWN};
static const char mod_cmds[] = {SMFIR_ADDHEADER, SMFIR_INSHEADER,
    SMFIR_CHGHEADER, SMFIR_REPLBODY, SMFIR_ADDRCPT, SMFIR_ADDRCPT_PAR,
    SMFIR_DELRCPT, SMFIR_CHGFROM, SMFIR_QUARANTINE};

static json_t *latency_json(const stats_t *h)
{
    return json_pack("{s:I, s:f, s:f, s:f, s:f, s:f}",
        "count", (json_int_t)stats_count(h),
        "p50_ms", stats_percentile(h, 50) / 1000.0,
        "p90_ms", stats_percentile(h, 90) / 1000.0,
        "p99_ms", stats_percentile(h, 99) / 1000.0,
        "max_ms", stats_max(h) / 1000.0,
        "mean_ms", stats_mean(h) / 1000.0);
}

static json_t *counts_json(const report_tally_t *t, const uint64_t *v,
                           const char *cmds, size_t n, int codes)
{
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(o, mproto_reply_name(cmds[i]),
                            json_integer((json_int_t)v[(unsigned char)cmds[i]]));
    for (int c = 400; codes && c < 600; c++)
        if (t->codes[c]) {
            char k[32];
            snprintf(k, sizeof k, "replycode:%d", c);
            json_object_set_new(o, k, json_integer((json_int_t)t->codes[c]));
        }
    return o;
}

/* SMTP flavour: {"250": n, "451": n, ...} for the codes seen. */
static json_t *smtp_codes_json(const report_tally_t *t)
{
    json_t *o = json_object();
    for (int c = 200; c < REPORT_MAX_CODE; c++)
        if (t->codes[c]) {
            char k[8];
            snprintf(k, sizeof k, "%d", c);
            json_object_set_new(o, k, json_integer((json_int_t)t->codes[c]));
        }
    return o;
}

int report_json(const char *path, const report_tally_t *t,
                const report_run_t *run, char *err, size_t errlen)
{
    double msgs = (double)t->msgs_done;
    json_t *root = json_pack(
        "{s:s, s:i, s:i, s:f, s:I, s:I, s:f, s:o, s:o, s:o, s:o,"
        " s:{s:I, s:I, s:I, s:I}, s:I, s:{s:f, s:f}, s:s, s:s}",
        "socket", run->sockspec, "concurrency", (int)run->concurrency,
        "msgs_per_conn", (int)run->per_conn, "elapsed_s", run->elapsed,
        "messages", (json_int_t)t->msgs_done,
        "connections", (json_int_t)t->conns,
        "msgs_per_s", run->elapsed > 0 ? msgs / run->elapsed : 0.0,
        "latency", latency_json(t->lat),
        "conn_setup", latency_json(t->setup),
        "finals", run->smtp ? smtp_codes_json(t)
                  : counts_json(t, t->finals, final_cmds, sizeof final_cmds, 1),
        "modifications", run->smtp ? json_object()
                  : counts_json(t, t->mods, mod_cmds, sizeof mod_cmds, 0),
        "errors", "connect", (json_int_t)t->err_connect,
        "protocol", (json_int_t)t->err_proto,
        "timeout", (json_int_t)t->err_timeout, "io", (json_int_t)t->err_io,
        "rcpt_rejects", (json_int_t)t->rcpt_rejects,
        "generator", "cpu_s", run->gen_cpu,
        "cpu_share", run->elapsed > 0 ? run->gen_cpu / run->elapsed : 0.0,
        "tcp_quickack", run->quickack ? "on" : "off",
        "tcp_nodelay", run->nodelay ? "on" : "off");
    if (root == NULL) {
        snprintf(err, errlen, "cannot build the JSON report");
        return -1;
    }
    json_object_set_new(root, "mode", json_string(run->smtp ? "smtp"
                                                            : "milter"));
    if (run->have_milter)
        json_object_set_new(root, "milter", json_pack("{s:i, s:f, s:f, s:I}",
            "pid", (int)run->pid, "cpu_s", run->milter_cpu,
            "cpu_ms_per_msg", msgs > 0 ? run->milter_cpu * 1000.0 / msgs : 0.0,
            "peak_rss_kb", (json_int_t)run->milter_hwm_kb));
    if (run->first_mods)
        json_object_set_new(root, "first_message_mods",
                            json_string(run->first_mods));
    size_t flags = JSON_INDENT(2) | JSON_REAL_PRECISION(6);
    int rc = strcmp(path, "-") == 0 ? json_dumpf(root, stdout, flags)
                                    : json_dump_file(root, path, flags);
    json_decref(root);
    if (rc < 0)
        snprintf(err, errlen, "cannot write %s", path);
    return rc < 0 ? -1 : 0;
}

static void print_latency(FILE *f, const char *label, const stats_t *h)
{
    fprintf(f, "%-18s n=%llu  p50 %.3f  p90 %.3f  p99 %.3f  max %.3f ms\n", label,
           (unsigned long long)stats_count(h),
           stats_percentile(h, 50) / 1000.0, stats_percentile(h, 90) / 1000.0,
           stats_percentile(h, 99) / 1000.0, stats_max(h) / 1000.0);
}

static void print_counts(FILE *f, const char *label, const uint64_t *v,
                         const char *cmds, size_t n, const uint64_t *codes)
{
    fprintf(f, "%-18s", label);
    int any = 0;
    for (size_t i = 0; i < n; i++)
        if (v[(unsigned char)cmds[i]]) {
            fprintf(f, " %s %llu", mproto_reply_name(cmds[i]),
                   (unsigned long long)v[(unsigned char)cmds[i]]);
            any = 1;
        }
    for (int c = 400; codes && c < 600; c++)
        if (codes[c]) {
            fprintf(f, " replycode:%d %llu", c, (unsigned long long)codes[c]);
            any = 1;
        }
    fprintf(f, "%s\n", any ? "" : " none");
}

static void print_smtp_codes(FILE *f, const report_tally_t *t)
{
    fprintf(f, "%-18s", "final replies");
    int any = 0;
    for (int c = 200; c < REPORT_MAX_CODE; c++)
        if (t->codes[c]) {
            fprintf(f, " %d %llu", c, (unsigned long long)t->codes[c]);
            any = 1;
        }
    fprintf(f, "%s\n", any ? "" : " none");
}

void report_print(FILE *f, const report_tally_t *t, const report_run_t *run)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    double msgs = (double)t->msgs_done;
    fprintf(f, "%s %s  concurrency %u  msgs/conn %u  %zu-byte messages"
           "  quickack %s  nodelay %s\n", run->smtp ? "smtp-load" : "milter-load",
           run->sockspec, run->concurrency,
           run->per_conn, run->avg_bytes, run->quickack ? "on" : "off",
           run->nodelay ? "on" : "off");
    fprintf(f, "%-18s %llu in %.3f s over %llu connections\n", "messages",
           (unsigned long long)t->msgs_done, run->elapsed,
           (unsigned long long)t->conns);
    fprintf(f, "%-18s %.1f msgs/s\n", "throughput",
           run->elapsed > 0 ? msgs / run->elapsed : 0.0);
    print_latency(f, run->smtp ? "latency MAIL..250" : "latency MAIL..EOM",
                  t->lat);
    print_latency(f, run->smtp ? "session setup" : "connection setup",
                  t->setup);
    if (run->smtp) {
        print_smtp_codes(f, t);
    } else {
        print_counts(f, "final replies", t->finals, final_cmds,
                     sizeof final_cmds, t->codes);
        print_counts(f, "modifications", t->mods, mod_cmds, sizeof mod_cmds,
                     NULL);
    }
    fprintf(f, "%-18s connect %llu  protocol %llu  timeout %llu  io %llu"
           "  (rcpt rejects %llu)\n", "errors",
           (unsigned long long)t->err_connect,
           (unsigned long long)t->err_proto,
           (unsigned long long)t->err_timeout, (unsigned long long)t->err_io,
           (unsigned long long)t->rcpt_rejects);
    if (run->have_milter)
        fprintf(f, "%-18s pid %ld  cpu %.3f s = %.3f ms/msg  peak RSS %ld KiB\n",
               "milter", run->pid, run->milter_cpu,
               msgs > 0 ? run->milter_cpu * 1000.0 / msgs : 0.0,
               run->milter_hwm_kb);
    fprintf(f, "%-18s cpu %.3f s = %.1f%% of one core (%ld cores online)\n",
           "generator", run->gen_cpu,
           run->elapsed > 0 ? 100.0 * run->gen_cpu / run->elapsed : 0.0, ncpu);
    if (run->show_mods)
        fprintf(f, "modifications of the first message:\n%s",
                run->first_mods && run->first_mods[0] ? run->first_mods
                                                      : "  none\n");
}

