/*
 * spf_check_load.c - spf-check-load: how many SPF checks a second the
 * evaluation of postern-spf (spf_core) does with no milter around it,
 * through the same shared resolver (common/dns) the daemon uses.
 *
 * Each of N threads checks the HELO identity and then the MAIL FROM
 * identity of one message, again and again, for a fixed time; every
 * check must give the expected result. The first pair is made before
 * the clock starts, so with a record TTL above the run's length every
 * timed check is answered from the resolver's cache (warm); with TTL 0
 * every check asks the DNS server (cold). bench/run's spf section runs it
 * beside the milter figures: the gap between the two is the cost of the
 * milter protocol, not of SPF.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sysexits.h>
#include <time.h>

#include <jansson.h>

#include "dns.h"

#include "spf_dnsr.h"
#include "spf_eval.h"

#define MAX_THREADS 64

static struct {
    const char *upstream, *ip, *helo, *from;
    spf_result_t expect;
    double seconds;
    unsigned threads;
} opt = { NULL, "192.0.2.10", "client.example.net", "sender@example.org",
          SPF_RESULT_PASS, 2.0, 1 };

typedef struct worker {
    pthread_t tid;
    const spf_eval_t *ev;
    unsigned long checks, wrong;
} worker_t;

static atomic_int stop_flag;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double) ru.ru_utime.tv_sec + (double) ru.ru_utime.tv_usec / 1e6
           + (double) ru.ru_stime.tv_sec + (double) ru.ru_stime.tv_usec / 1e6;
}

/* One message's checks, as postern-spf makes them; 2, or -1 when a result
 * is not the expected one. */
static int check_pair(const spf_eval_t *ev)
{
    spf_verdict_t v;
    int ok = spf_eval_helo(ev, opt.ip, opt.helo, &v) == opt.expect;

    ok &= spf_eval_mailfrom(ev, opt.ip, opt.helo, opt.from, &v) == opt.expect;
    return ok ? 2 : -1;
}

static void *work(void *arg)
{
    worker_t *w = arg;

    while (!atomic_load_explicit(&stop_flag, memory_order_relaxed)) {
        if (check_pair(w->ev) < 0)
            w->wrong += 2;
        w->checks += 2;
    }
    return NULL;
}

static void usage(FILE *f)
{
    fprintf(f,
"usage: spf-check-load -u UPSTREAM [options]\n"
"Checks HELO and MAIL FROM with postern-spf's evaluation through the\n"
"shared resolver, in N threads, and prints checks/s and CPU per check as JSON.\n"
"\n"
"  -u ADDR@PORT     DNS server to ask (e.g. 127.0.0.1@5353)\n"
"  -c N             threads (default 1, at most %d)\n"
"  -t SECONDS       how long to run (default 2)\n"
"  --ip IP          client address (default %s)\n"
"  --helo NAME      HELO name (default %s)\n"
"  --from ADDR      MAIL FROM (default %s)\n"
"  --expect RESULT  the result every check must give (default pass)\n"
"  -h, --help       this text\n", MAX_THREADS, opt.ip, opt.helo, opt.from);
}

static int parse_args(int argc, char **argv)
{
    enum { O_IP = 256, O_HELO, O_FROM, O_EXPECT };
    static const struct option lo[] = {
        {"ip", required_argument, NULL, O_IP},
        {"helo", required_argument, NULL, O_HELO},
        {"from", required_argument, NULL, O_FROM},
        {"expect", required_argument, NULL, O_EXPECT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}
    };
    int c;

    while ((c = getopt_long(argc, argv, "u:c:t:h", lo, NULL)) != -1) {
        switch (c) {
        case 'u': opt.upstream = optarg; break;
        case 'c': opt.threads = (unsigned) atoi(optarg); break;
        case 't': opt.seconds = atof(optarg); break;
        case O_IP: opt.ip = optarg; break;
        case O_HELO: opt.helo = optarg; break;
        case O_FROM: opt.from = optarg; break;
        case O_EXPECT:
            if (spf_result_parse(optarg, &opt.expect) < 0) {
                fprintf(stderr, "spf-check-load: unknown result %s\n", optarg);
                return -1;
            }
            break;
        case 'h': usage(stdout); exit(0);
        default: return -1;
        }
    }
    if (opt.upstream == NULL || opt.threads < 1 || opt.threads > MAX_THREADS
        || opt.seconds <= 0) {
        usage(stderr);
        return -1;
    }
    return 0;
}

static int run(const spf_eval_t *ev)
{
    static worker_t w[MAX_THREADS];
    unsigned long checks = 0, wrong = 0;
    double t0, c0, elapsed, cpu;
    struct timespec d;
    unsigned n = 0;

    if (check_pair(ev) < 0) {
        fprintf(stderr, "spf-check-load: the first check did not give %s\n",
                spf_result_name(opt.expect));
        return EX_DATAERR;
    }
    t0 = now_s();
    c0 = cpu_s();
    for (; n < opt.threads; n++) {
        w[n].ev = ev;
        if (pthread_create(&w[n].tid, NULL, work, &w[n]) != 0)
            break;
    }
    d.tv_sec = (time_t) opt.seconds;
    d.tv_nsec = (long) ((opt.seconds - (double) d.tv_sec) * 1e9);
    nanosleep(&d, NULL);
    atomic_store(&stop_flag, 1);
    for (unsigned i = 0; i < n; i++) {
        pthread_join(w[i].tid, NULL);
        checks += w[i].checks;
        wrong += w[i].wrong;
    }
    elapsed = now_s() - t0;
    cpu = cpu_s() - c0;
    json_t *out = json_pack("{s:i, s:f, s:I, s:I, s:f, s:f, s:f}",
                            "threads", (int) n, "elapsed_s", elapsed,
                            "checks", (json_int_t) checks, "wrong", (json_int_t) wrong,
                            "checks_per_s", elapsed > 0 ? (double) checks / elapsed : 0.0,
                            "cpu_s", cpu,
                            "cpu_ms_per_check", checks ? cpu * 1e3 / (double) checks : 0.0);
    json_dumpf(out, stdout, JSON_INDENT(2));
    putchar('\n');
    json_decref(out);
    return n == opt.threads && wrong == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *ups[1];
    dnsr_opts_t dopts = { .upstreams = ups, .nupstreams = 1, .timeout_ms = 2000 };
    spf_eval_opts_t eopts = { .receiver = "bench.invalid" };
    spf_dns_source_t src;
    spf_eval_t *ev;
    dnsr_t *r;
    char err[256];
    int rc;

    if (parse_args(argc, argv) < 0)
        return EX_USAGE;
    ups[0] = opt.upstream;
    if ((r = dnsr_new(&dopts, err, sizeof(err))) == NULL) {
        fprintf(stderr, "spf-check-load: %s\n", err);
        return EX_UNAVAILABLE;
    }
    spf_dnsr_source(&src, r);
    if ((ev = spf_eval_new(&eopts, &src, err, sizeof(err))) == NULL) {
        fprintf(stderr, "spf-check-load: %s\n", err);
        dnsr_free(r);
        return EX_SOFTWARE;
    }
    rc = run(ev);
    spf_eval_free(ev);
    dnsr_free(r);
    return rc;
}
