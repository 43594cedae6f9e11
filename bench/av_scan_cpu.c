/*
 * av_scan_cpu.c - the CPU one postern-av scan costs, without the milter:
 * loads a signature directory once with postern-av's own libclamav back
 * end (scan cache off, as in bench/run), collects each message file in
 * a spool as the milter does, scans it N times and prints CPU ms per
 * scan. Splits a milter's cost per message into engine and the rest.
 *
 *	av-scan-cpu DBDIR N FILE...
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "avscan.h"
#include "avspool.h"

#define SPOOL_MEM (1u << 20)            /* postern-av's spool_memory default */
#define SPOOL_MAX (64u << 20)

static double cpu_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static avspool_t *spool_file(const char *path, char *err, size_t errlen)
{
    avspool_t *s = avspool_new(SPOOL_MEM, SPOOL_MAX, "/tmp", err, errlen);
    FILE *f = fopen(path, "rb");
    char buf[65536];
    size_t n;
    int rc = 0;

    if (s == NULL || f == NULL) {
        if (f == NULL)
            snprintf(err, errlen, "%s: cannot open", path);
        avspool_free(s);
        if (f != NULL)
            fclose(f);
        return NULL;
    }
    while (rc == 0 && (n = fread(buf, 1, sizeof(buf), f)) > 0)
        rc = avspool_append(s, buf, n, err, errlen);
    fclose(f);
    if (rc != 0) {
        avspool_free(s);
        return NULL;
    }
    return s;
}

int main(int argc, char **argv)
{
    avscan_clamav_opts_t o = {
        .max_scansize = 400ULL << 20, .max_filesize = 100ULL << 20,
        .max_recursion = 17, .max_files = 10000, .no_cache = true, .max_scans = 1,
    };
    char err[512];
    avscan_t *sc;
    double t0;
    int n;

    if (argc < 4 || (n = atoi(argv[2])) < 1) {
        fprintf(stderr, "usage: av-scan-cpu DBDIR N FILE...\n");
        return 2;
    }
    o.dbdir = argv[1];
    t0 = cpu_ms();
    if ((sc = avscan_clamav_new(&o, err, sizeof(err))) == NULL) {
        fprintf(stderr, "av-scan-cpu: %s\n", err);
        return 1;
    }
    sc->ops->describe(sc, err, sizeof(err));
    printf("loaded: %s, %.0f ms of CPU\n", err, cpu_ms() - t0);
    for (int i = 3; i < argc; i++) {
        avspool_t *s = spool_file(argv[i], err, sizeof(err));
        avscan_result_t r;

        if (s == NULL) {
            fprintf(stderr, "av-scan-cpu: %s\n", err);
            continue;
        }
        t0 = cpu_ms();
        for (int k = 0; k < n; k++)
            sc->ops->scan(sc, s, &r);
        printf("%s: %s%s%s, %.2f ms of CPU per scan (%d scans)\n", argv[i],
               avscan_status_name(r.status), r.name[0] ? " " : "", r.name,
               (cpu_ms() - t0) / n, n);
        avspool_free(s);
    }
    sc->ops->free(sc);
    return 0;
}
