/*
 * report.c - merges the load generators' per-thread tallies and prints
 * the result as a table for people and as JSON for scripts: the milter
 * flavour (final replies, modifications) and the policy one (actions).
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

/* The index of word in t->words, or t->nwords when it is not there. */
static size_t find_word(const report_tally_t *t, const char *word)
{
    size_t i = 0;
    while (i < t->nwords &&
           strncmp(t->words[i].word, word, REPORT_WORD_LEN - 1) != 0)
        i++;
    return i;
}

static void add_word(report_tally_t *t, const char *word, uint64_t n)
{
    size_t i = find_word(t, word);
    report_word_t *w = i < t->nwords ? &t->words[i] : NULL;
    if (w == NULL && t->nwords < REPORT_MAX_WORDS) {
        w = &t->words[t->nwords++];
        snprintf(w->word, sizeof w->word, "%s", word);
        w->n = 0;
    }
    if (w != NULL)
        w->n += n;
    else
        t->words_other += n;
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
    for (size_t i = 0; i < src->nwords; i++)
        add_word(dst, src->words[i].word, src->words[i].n);
    dst->words_other += src->words_other;
}

void report_tally_word(report_tally_t *t, const char *word)
{
    add_word(t, word, 1);
}

uint64_t report_tally_word_count(const report_tally_t *t, const char *word)
{
    size_t i = find_word(t, word);
    return i < t->nwords ? t->words[i].n : 0;
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

static json_t *errors_json(const report_tally_t *t)
{
    return json_pack("{s:I, s:I, s:I, s:I}",
        "connect", (json_int_t)t->err_connect,
        "protocol", (json_int_t)t->err_proto,
        "timeout", (json_int_t)t->err_timeout, "io", (json_int_t)t->err_io);
}

static json_t *generator_json(const report_run_t *run)
{
    return json_pack("{s:f, s:f}", "cpu_s", run->gen_cpu,
        "cpu_share", run->elapsed > 0 ? run->gen_cpu / run->elapsed : 0.0);
}

/* The measured process (milter or policy server); per_key names the CPU
 * cost per unit of work. */
static void add_server_json(json_t *root, const char *key, const char *per_key,
                            const report_tally_t *t, const report_run_t *run)
{
    double n = (double)t->msgs_done;
    if (run->have_milter)
        json_object_set_new(root, key, json_pack("{s:i, s:i, s:f, s:f, s:I}",
            "pid", (int)run->pid,
            "processes", (int)(run->npids > 0 ? run->npids : 1),
            "cpu_s", run->milter_cpu,
            per_key, n > 0 ? run->milter_cpu * 1000.0 / n : 0.0,
            "peak_rss_kb", (json_int_t)run->milter_hwm_kb));
}

static int write_json(json_t *root, const char *path, char *err,
                      size_t errlen)
{
    if (root == NULL) {
        snprintf(err, errlen, "cannot build the JSON report");
        return -1;
    }
    size_t flags = JSON_INDENT(2) | JSON_REAL_PRECISION(6);
    int rc = strcmp(path, "-") == 0 ? json_dumpf(root, stdout, flags)
                                    : json_dump_file(root, path, flags);
    json_decref(root);
    if (rc < 0)
        snprintf(err, errlen, "cannot write %s", path);
    return rc < 0 ? -1 : 0;
}

/* What both flavours report; the keys name their unit of work. */
static json_t *common_json(const report_tally_t *t, const report_run_t *run,
                           const char *per_conn, const char *count,
                           const char *rate)
{
    double n = (double)t->msgs_done;
    return json_pack("{s:s, s:i, s:i, s:f, s:I, s:I, s:f, s:o, s:o, s:o, s:o}",
        "socket", run->sockspec, "concurrency", (int)run->concurrency,
        per_conn, (int)run->per_conn, "elapsed_s", run->elapsed,
        count, (json_int_t)t->msgs_done, "connections", (json_int_t)t->conns,
        rate, run->elapsed > 0 ? n / run->elapsed : 0.0,
        "latency", latency_json(t->lat), "conn_setup", latency_json(t->setup),
        "errors", errors_json(t), "generator", generator_json(run));
}

int report_json(const char *path, const report_tally_t *t,
                const report_run_t *run, char *err, size_t errlen)
{
    json_t *root = common_json(t, run, "msgs_per_conn", "messages",
                               "msgs_per_s");
    if (root != NULL) {
        json_object_set_new(root, "mode", json_string(run->smtp ? "smtp" : "milter"));
        json_object_set_new(root, "finals", run->smtp ? smtp_codes_json(t)
            : counts_json(t, t->finals, final_cmds, sizeof final_cmds, 1));
        json_object_set_new(root, "modifications", run->smtp ? json_object()
            : counts_json(t, t->mods, mod_cmds, sizeof mod_cmds, 0));
        json_object_set_new(root, "rcpt_rejects",
                            json_integer((json_int_t)t->rcpt_rejects));
        if (!run->smtp)
            json_object_set_new(root, "milters", json_integer(
                (json_int_t)(run->nmilters > 0 ? run->nmilters : 1)));
        json_object_set_new(root, "tcp_quickack",
                            json_string(run->quickack ? "on" : "off"));
        json_object_set_new(root, "tcp_nodelay",
                            json_string(run->nodelay ? "on" : "off"));
        add_server_json(root, "milter", "cpu_ms_per_msg", t, run);
        if (run->first_mods)
            json_object_set_new(root, "first_message_mods",
                                json_string(run->first_mods));
    }
    return write_json(root, path, err, errlen);
}

static json_t *words_json(const report_tally_t *t)
{
    json_t *o = json_object();
    for (size_t i = 0; i < t->nwords; i++)
        json_object_set_new(o, t->words[i].word,
                            json_integer((json_int_t)t->words[i].n));
    if (t->words_other)
        json_object_set_new(o, "other", json_integer((json_int_t)t->words_other));
    return o;
}

int report_policy_json(const char *path, const report_tally_t *t,
                       const report_run_t *run, char *err, size_t errlen)
{
    json_t *root = common_json(t, run, "requests_per_conn", "requests",
                               "requests_per_s");
    if (root != NULL) {
        json_object_set_new(root, "stage", json_string(run->stage));
        json_object_set_new(root, "keys", json_pack("{s:i, s:i, s:i, s:i}",
            "senders", (int)run->senders, "clients", (int)run->clients,
            "recipients", (int)run->recipients,
            "sasl_users", (int)run->sasl_users));
        json_object_set_new(root, "actions", words_json(t));
        json_object_set_new(root, "tcp_nodelay",
                            json_string(run->nodelay ? "on" : "off"));
        add_server_json(root, "server", "cpu_ms_per_request", t, run);
    }
    return write_json(root, path, err, errlen);
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

static void print_errors(FILE *f, const report_tally_t *t, const char *more)
{
    fprintf(f, "%-18s connect %llu  protocol %llu  timeout %llu  io %llu%s\n",
           "errors", (unsigned long long)t->err_connect,
           (unsigned long long)t->err_proto,
           (unsigned long long)t->err_timeout, (unsigned long long)t->err_io,
           more);
}

/* The measured process and the generator: the two CPU lines that tell
 * who was the bottleneck. */
static void print_cpu(FILE *f, const char *label, const char *unit,
                      const report_tally_t *t, const report_run_t *run)
{
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    double n = (double)t->msgs_done;
    char more[32] = "";
    if (run->npids > 1)
        snprintf(more, sizeof more, " (+%zu more)", run->npids - 1);
    if (run->have_milter)
        fprintf(f, "%-18s pid %ld%s  cpu %.3f s = %.3f ms/%s  peak RSS %ld KiB\n",
               label, run->pid, more, run->milter_cpu,
               n > 0 ? run->milter_cpu * 1000.0 / n : 0.0, unit,
               run->milter_hwm_kb);
    fprintf(f, "%-18s cpu %.3f s = %.1f%% of one core (%ld cores online)\n",
           "generator", run->gen_cpu,
           run->elapsed > 0 ? 100.0 * run->gen_cpu / run->elapsed : 0.0, ncpu);
}

/* How much work in how long, and its latency. */
static void print_volume(FILE *f, const report_tally_t *t,
                         const report_run_t *run, const char *noun,
                         const char *rate, const char *lat_label)
{
    fprintf(f, "%-18s %llu in %.3f s over %llu connections\n", noun,
           (unsigned long long)t->msgs_done, run->elapsed,
           (unsigned long long)t->conns);
    fprintf(f, "%-18s %.1f %s\n", "throughput",
           run->elapsed > 0 ? (double)t->msgs_done / run->elapsed : 0.0, rate);
    print_latency(f, lat_label, t->lat);
    print_latency(f, "connection setup", t->setup);
}

void report_print(FILE *f, const report_tally_t *t, const report_run_t *run)
{
    char more[64];
    fprintf(f, "%s %s  concurrency %u  msgs/conn %u  %zu-byte messages"
           "  quickack %s  nodelay %s\n", run->smtp ? "smtp-load" : "milter-load",
           run->sockspec, run->concurrency,
           run->per_conn, run->avg_bytes, run->quickack ? "on" : "off",
           run->nodelay ? "on" : "off");
    print_volume(f, t, run, "messages", "msgs/s",
                 run->smtp ? "latency MAIL..250" : "latency MAIL..EOM");
    if (run->smtp) {
        print_smtp_codes(f, t);
    } else {
        print_counts(f, "final replies", t->finals, final_cmds, sizeof final_cmds,
                     t->codes);
        print_counts(f, "modifications", t->mods, mod_cmds, sizeof mod_cmds, NULL);
    }
    snprintf(more, sizeof more, "  (rcpt rejects %llu)",
             (unsigned long long)t->rcpt_rejects);
    print_errors(f, t, more);
    print_cpu(f, run->smtp ? "mta" : "milter", "msg", t, run);
    if (run->show_mods)
        fprintf(f, "modifications of the first message:\n%s",
                run->first_mods && run->first_mods[0] ? run->first_mods
                                                      : "  none\n");
}

void report_policy_print(FILE *f, const report_tally_t *t,
                         const report_run_t *run)
{
    fprintf(f, "policy-load %s  concurrency %u  requests/conn %u  stage %s"
           "  keys: senders %u clients %u recipients %u sasl %u\n",
           run->sockspec, run->concurrency, run->per_conn, run->stage,
           run->senders, run->clients, run->recipients, run->sasl_users);
    print_volume(f, t, run, "requests", "requests/s", "latency request");
    fprintf(f, "%-18s", "actions");
    for (size_t i = 0; i < t->nwords; i++)
        fprintf(f, " %s %llu", t->words[i].word,
                (unsigned long long)t->words[i].n);
    if (t->words_other)
        fprintf(f, " other %llu", (unsigned long long)t->words_other);
    fprintf(f, "%s\n", t->nwords ? "" : " none");
    print_errors(f, t, "");
    print_cpu(f, "server", "request", t, run);
}
