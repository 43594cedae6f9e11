/*
 * audit_write.c - append N audit records through audit_write() the way a
 * milter does at the end of a message, to count the CPU and system calls
 * one record costs (docs/audit-log.md, "The cost of a record"). Not
 * installed.
 *
 *   audit-write OUT N [THREADS]
 *
 * Each record looks like postern-spf's: envelope from the connection, a
 * Message-ID, and an "extra" object the caller builds per message. The
 * caller's own work (building "extra") is done outside audit_write() so a
 * profile can tell the two apart. With THREADS > 1 the records are split
 * over that many threads sharing one handle, as libmilter's workers do.
 * Prints the records written; exits non-zero on the first failed write.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "audit.h"

#define MAX_THREADS 64

typedef struct worker {
    audit_t *a;
    unsigned long first, count;
    int failed;
    pthread_t tid;
} worker_t;

/* The "extra" object postern-spf builds for a checked message. */
static json_t *spf_extra(unsigned long i)
{
    return json_pack("{s:b,s:s,s:s,s:s,s:s,s:s,s:i,s:i,s:s}", "monitor", 0, "identity",
                     "mailfrom", "domain", "example.net", "mechanism", "ip4:203.0.0.0/16",
                     "explanation", "", "rule", "", "dns_terms", (int) (1 + i % 4),
                     "void_lookups", 0, "helo_result", "none");
}

static void *run(void *p)
{
    worker_t *w = p;
    const char *rcpt[] = { "staff17@example.org", "staff1024@example.org" };
    char qid[16], conn[32], err[256];

    for (unsigned long i = w->first; i < w->first + w->count; i++) {
        json_t *extra = spf_extra(i);
        snprintf(qid, sizeof(qid), "%010lX", (i + 1) * 2654435761UL % 0xFFFFFFFFFFUL);
        snprintf(conn, sizeof(conn), "4711.%lu", i + 1);
        audit_record_t r = { .qid = qid, .conn = conn, .client_ip = "203.0.113.45",
                             .helo = "mail3.example.net", .from = "user815@example.net",
                             .rcpt = rcpt, .nrcpt = 1 + i % 2,
                             .msgid = "<5f3a9c0e17b2d4a6.815@example.net>", .step = "spf",
                             .result = "pass", .reason = "ip4:203.0.0.0/16", .action = "accept",
                             .ms = 2.4, .extra = extra };
        if (audit_write(w->a, &r, err, sizeof(err)) != 0) {
            fprintf(stderr, "audit-write: %s\n", err);
            w->failed = 1;
            json_decref(extra);
            break;
        }
        json_decref(extra);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    worker_t w[MAX_THREADS];
    unsigned long n, nthreads = 1;
    char err[256];
    audit_t *a;
    int failed = 0;

    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: audit-write OUT N [THREADS]\n");
        return 64;
    }
    n = strtoul(argv[2], NULL, 10);
    if (argc == 4)
        nthreads = strtoul(argv[3], NULL, 10);
    if (nthreads < 1 || nthreads > MAX_THREADS) {
        fprintf(stderr, "audit-write: THREADS must be 1 to %d\n", MAX_THREADS);
        return 64;
    }
    if ((a = audit_open(argv[1], "spf", err, sizeof(err))) == NULL) {
        fprintf(stderr, "audit-write: %s\n", err);
        return 73;
    }
    for (unsigned long t = 0; t < nthreads; t++) {
        w[t] = (worker_t) { .a = a, .first = n * t / nthreads,
                            .count = n * (t + 1) / nthreads - n * t / nthreads };
        if (nthreads == 1)
            run(&w[t]);
        else if (pthread_create(&w[t].tid, NULL, run, &w[t]) != 0) {
            fprintf(stderr, "audit-write: cannot start a thread\n");
            return 71;
        }
    }
    for (unsigned long t = 0; t < nthreads; t++) {
        if (nthreads > 1)
            pthread_join(w[t].tid, NULL);
        failed |= w[t].failed;
    }
    audit_close(a);
    if (failed)
        return 1;
    printf("records=%lu\n", n);
    return 0;
}
