/*
 * report.h - the load generators' results (milter-load, policy-load):
 * per-thread tallies, their merge, and the human table and JSON written
 * at the end of a run.
 *
 * NAME
 *	report - tally milter or policy replies and print the benchmark result
 *
 * SYNOPSIS
 *	report_tally_t t;  report_tally_init(&t);     (one per thread)
 *	t.finals[SMFIR_ACCEPT]++;  stats_add(t.lat, us);
 *	report_tally_merge(&total, &t);  report_tally_free(&t);
 *	report_print(stdout, &total, &run);
 *	report_json("out.json", &total, &run, err, sizeof err);
 *
 *	policy-load:  report_tally_word(&t, "REJECT");  t.msgs_done++;
 *	report_policy_print(stdout, &total, &run);
 *	report_policy_json("out.json", &total, &run, err, sizeof err);
 *
 * DESCRIPTION
 *	A tally is plain counters indexed by the reply command byte plus
 *	two latency histograms; each thread owns one, so counting takes no
 *	lock.
 *
 *	The same tally serves smtp-load (report_run_t.smtp set): codes[]
 *	then counts the SMTP code that ended each message (250, 451, 550),
 *	finals[] and mods[] stay empty, latency runs from MAIL FROM to that
 *	reply and setup from connect to the EHLO reply. report_run_t carries what the main thread measured (wall
 *	time, CPU of the generator and of the milter) and echoes the
 *	options, so the report is self-describing.
 *
 *	The policy flavour counts requests in msgs_done and tallies replies
 *	by action word (DUNNO, OK, REJECT, 450, ...) in a small fixed table:
 *	REPORT_MAX_WORDS distinct words, the rest under "other", so a
 *	server answering ever new words cannot grow the tally.
 *
 * RETURNS
 *	report_tally_init: 0, or -1 when memory runs out (nothing to free).
 *	report_json, report_policy_json: 0, or -1 with err filled (cannot
 *	build or write).
 */
#ifndef POSTERN_REPORT_H
#define POSTERN_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "stats.h"

#define REPORT_MAX_CODE 600
#define REPORT_MAX_WORDS 32
#define REPORT_WORD_LEN 24

typedef struct {
    char word[REPORT_WORD_LEN];
    uint64_t n;
} report_word_t;

typedef struct {
    uint64_t finals[256];       /* final reply per message, by command */
    uint64_t mods[256];         /* modifications, by command */
    uint64_t codes[REPORT_MAX_CODE];    /* replycode:CODE, 400..599;
                                           SMTP: final code, 200..599 */
    uint64_t msgs_done;
    uint64_t conns;
    uint64_t err_connect, err_proto, err_timeout, err_io;
    uint64_t rcpt_rejects;
    stats_t *lat;               /* MAIL -> final reply, microseconds */
    stats_t *setup;             /* connect -> HELO reply */
    report_word_t words[REPORT_MAX_WORDS];  /* policy actions, by word */
    size_t nwords;
    uint64_t words_other;       /* words that found no room */
} report_tally_t;

typedef struct {
    const char *sockspec;
    unsigned concurrency;
    unsigned per_conn;
    int quickack, nodelay, show_mods;
    int smtp;                   /* smtp-load's flavour, see DESCRIPTION */
    size_t avg_bytes;           /* mean message size */
    double elapsed;             /* wall seconds */
    double gen_cpu;             /* generator CPU seconds */
    int have_milter;            /* the milter (policy-load: server) fields
                                 * below are valid */
    long pid;                   /* the first of npids processes */
    size_t npids;               /* CPU and RSS are summed over them */
    size_t nmilters;            /* milters in the chain (sockspec lists
                                 * them, comma separated) */
    double milter_cpu;
    long milter_hwm_kb;
    const char *first_mods;     /* lines, or NULL when none were recorded */
    /* policy-load only */
    const char *stage;          /* protocol_state sent */
    unsigned senders, clients, recipients, sasl_users;  /* key space */
} report_run_t;

/* The error counters of a tally, for report_tally_error(). */
typedef enum {
    REPORT_ERR_CONNECT, REPORT_ERR_PROTO, REPORT_ERR_TIMEOUT, REPORT_ERR_IO
} report_err_t;

int report_tally_init(report_tally_t *t);
void report_tally_free(report_tally_t *t);      /* frees the histograms */
void report_tally_merge(report_tally_t *dst, const report_tally_t *src);

/* Counts one error of that kind; an unknown kind is ignored. */
void report_tally_error(report_tally_t *t, report_err_t kind);

/* All errors of the tally (connect, protocol, timeout, I/O). */
uint64_t report_error_count(const report_tally_t *t);

void report_print(FILE *f, const report_tally_t *t, const report_run_t *run);

/* Writes JSON to path, or to stdout when path is "-". */
int report_json(const char *path, const report_tally_t *t,
                const report_run_t *run, char *err, size_t errlen);

/* Counts one reply under word (cut to REPORT_WORD_LEN - 1 bytes). */
void report_tally_word(report_tally_t *t, const char *word);

/* The count of word, 0 when never seen. */
uint64_t report_tally_word_count(const report_tally_t *t, const char *word);

/* The policy flavour of report_print and report_json: requests, the
 * action words, "server" for the process measured. */
void report_policy_print(FILE *f, const report_tally_t *t,
                         const report_run_t *run);
int report_policy_json(const char *path, const report_tally_t *t,
                       const report_run_t *run, char *err, size_t errlen);

#endif
