/*
 * cmd_why.c - "postern why": every step that touched a message, in order,
 * from the audit log(s), and the final outcome.
 *
 *   postern why [-c FILE] [-f LOG]... [--json] [--from ADDR] [--to ADDR]
 *               [--since TIME] [--message-id ID | QUEUEID]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"

#include "cmdconf.h"
#include "commands.h"
#include "logscan.h"
#include "why.h"

#define MAX_LOGS 16

typedef struct why_run {
    why_query_t q;
    const char *logs[MAX_LOGS];
    size_t nlogs;
    int json;
    json_t *found;              /* matching records, in log order */
    const char *msgid;          /* --message-id */
    char *found_qid;            /* its queue id, once found */
} why_run_t;

static int why_usage(void)
{
    fprintf(stderr, "usage: postern why [-c FILE] [-f AUDITLOG]... [--json] [--from ADDR]\n"
                    "                   [--to ADDR] [--since TIME] [--message-id ID | QUEUEID]\n");
    return EX_USAGE;
}

typedef struct pass {
    why_run_t *w;
    void (*fn)(why_run_t *, json_t *);
} pass_t;

/* A line the byte search found: parsed only when the prefilter agrees. */
static int candidate(void *arg, const char *line, size_t len)
{
    pass_t *p = arg;

    if (!why_prefilter(&p->w->q, line, len))
        return 0;
    json_t *r = json_loadb(line, len, 0, NULL);
    if (json_is_object(r))
        p->fn(p->w, r);
    json_decref(r);
    return 0;
}

/* Calls FN on every record of every log that matches the byte search
 * and the prefilter; FN asks why_match or learns from the record. */
static int scan(why_run_t *w, void (*fn)(why_run_t *, json_t *))
{
    const char *needles[WHY_MAX_CONNS + 1];
    bool nocase;
    size_t n = why_needles(&w->q, needles, WHY_MAX_CONNS + 1, &nocase);
    pass_t p = { w, fn };
    char err[256];

    for (size_t i = 0; i < w->nlogs; i++)
        if (logscan_file(w->logs[i], needles, n, nocase, candidate, &p, err, sizeof(err)) < 0) {
            fprintf(stderr, "postern: %s: %s\n", w->logs[i], err);
            return EX_NOINPUT;
        }
    return 0;
}

/* Pass zero, for --message-id: the queue id of the message. */
static void learn_qid(why_run_t *w, json_t *r)
{
    const char *msgid = json_string_value(json_object_get(r, "msgid"));
    const char *qid = json_string_value(json_object_get(r, "qid"));

    if (w->found_qid == NULL && msgid != NULL && qid != NULL && strcmp(msgid, w->msgid) == 0)
        w->found_qid = strdup(qid);
}

/* Pass one: the connections that carry the queue id. */
static void learn_conn(why_run_t *w, json_t *r)
{
    const char *qid = json_string_value(json_object_get(r, "qid"));
    const char *conn = json_string_value(json_object_get(r, "conn"));

    if (qid == NULL || conn == NULL || strcmp(qid, w->q.qid) != 0
        || w->q.nconns >= WHY_MAX_CONNS)
        return;
    for (size_t i = 0; i < w->q.nconns; i++)
        if (strcmp(w->q.conns[i], conn) == 0)
            return;
    w->q.conns[w->q.nconns++] = strdup(conn);
}

static void select_record(why_run_t *w, json_t *r)
{
    if (why_match(&w->q, r))
        json_array_append(w->found, r);
}

static const char *s(const json_t *r, const char *key)
{
    const char *v = json_string_value(json_object_get(r, key));

    return v ? v : "-";
}

/* The most severe action decides; ties go to the later step. */
static const json_t *outcome(const json_t *found)
{
    const json_t *best = NULL, *r;
    size_t i;

    json_array_foreach(found, i, r)
        if (best == NULL || why_severity(s(r, "action")) >= why_severity(s(best, "action")))
            best = r;
    return best;
}

static void print_text(const why_run_t *w)
{
    const json_t *r, *o = outcome(w->found);
    size_t i;

    if (w->q.qid)
        printf("%s: %zu step%s\n", w->q.qid, json_array_size(w->found),
               json_array_size(w->found) == 1 ? "" : "s");
    json_array_foreach(w->found, i, r)
        printf("%s  %-8s %-10s %-14s %-12s %-10s %s\n", s(r, "ts"), s(r, "qid"),
               s(r, "component"), s(r, "step"), s(r, "result"), s(r, "action"),
               s(r, "reason"));
    if (w->q.qid && o != NULL)
        printf("outcome: %s (%s, %s: %s)\n", s(o, "action"), s(o, "component"), s(o, "step"),
               s(o, "reason"));
}

static void print_json(const why_run_t *w)
{
    const json_t *o = outcome(w->found);
    json_t *out = json_pack("{s:O, s:O}", "records", w->found,
                            "outcome", o ? (json_t *) o : json_null());

    json_dumpf(out, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
    printf("\n");
    json_decref(out);
}

/* --message-id: which queue id carries it; then a queue id query. A
 * byte search by the Message-ID keeps the pass as fast as the others. */
static int find_message(why_run_t *w)
{
    why_query_t all = w->q;
    int rc;

    w->q.qid = w->msgid;
    rc = scan(w, learn_qid);
    w->q = all;
    if (rc != 0)
        return rc;
    if (w->found_qid == NULL) {
        fprintf(stderr, "postern: no audit record has Message-ID %s\n", w->msgid);
        return 1;
    }
    w->q.qid = w->found_qid;
    return 0;
}

static int parse_args(why_run_t *w, int argc, char **argv, const char **conf)
{
    static const struct option lo[] = {
        { "json", no_argument, NULL, 'j' }, { "from", required_argument, NULL, 'F' },
        { "to", required_argument, NULL, 'T' }, { "since", required_argument, NULL, 'S' },
        { "message-id", required_argument, NULL, 'M' },
        { NULL, 0, NULL, 0 }
    };
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "c:f:", lo, NULL)) != -1) {
        switch (c) {
        case 'c': *conf = optarg; break;
        case 'f':
            if (w->nlogs == MAX_LOGS)
                return -1;
            w->logs[w->nlogs++] = optarg;
            break;
        case 'j': w->json = 1; break;
        case 'F': w->q.from = optarg; break;
        case 'T': w->q.to = optarg; break;
        case 'S': w->q.since = optarg; break;
        case 'M': w->msgid = optarg; break;
        default: return -1;
        }
    }
    if (optind < argc)
        w->q.qid = argv[optind++];
    if (optind != argc || (w->q.qid && w->msgid)
        || (w->q.qid == NULL && !w->msgid && !w->q.from && !w->q.to && !w->q.since))
        return -1;
    return 0;
}

int cmd_why(int argc, char **argv)
{
    why_run_t w = { 0 };
    const char *conf = cmdconf_default_path();
    config_t *cfg = NULL;
    int rc;

    if (parse_args(&w, argc, argv, &conf) < 0)
        return why_usage();
    if (w.nlogs == 0) {
        if ((cfg = cmdconf_load(conf)) == NULL)
            return EX_CONFIG;
        w.logs[w.nlogs++] = config_str(cfg, "global", "audit_log");
    }
    w.found = json_array();
    rc = w.msgid ? find_message(&w) : 0;
    if (rc == 0 && w.q.qid)
        rc = scan(&w, learn_conn);
    if (rc == 0)
        rc = scan(&w, select_record);
    if (rc == 0) {
        if (w.json)
            print_json(&w);
        else
            print_text(&w);
        rc = json_array_size(w.found) > 0 ? 0 : 1;
        if (rc && !w.json)
            fprintf(stderr, "postern: no audit record matches\n");
    }
    for (size_t i = 0; i < w.q.nconns; i++)
        free((char *) w.q.conns[i]);
    json_decref(w.found);
    free(w.found_qid);
    config_unref(cfg);
    return rc;
}
