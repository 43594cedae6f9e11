/*
 * attach_walk.c - the cost of postern-attach's examination alone: walks
 * one message file (awalk.h: MIME parse, true types, archive listings)
 * N times in one thread, with the daemon's default limits, and prints
 * CPU time per walk and MB of message per CPU second. No milter, no
 * socket: run it under valgrind --tool=callgrind for instruction counts
 * that other jobs on the machine do not disturb.
 *
 *	attach-walk FILE [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "awalk.h"

#define MAX_MESSAGE (64u << 20)     /* [attach] max_message_size default */

static double cpu_ms(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3
           + (double) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = malloc(MAX_MESSAGE);

    if (f == NULL || buf == NULL) {
        perror(path);
        exit(1);
    }
    *len = fread(buf, 1, MAX_MESSAGE, f);
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    /* max_items, max_depth, max_archive_depth, max_archive_read, max_time:
     * the [attach] defaults (attach_conf.c). */
    awalk_limits_t lim = { 1000, 20, 4, 32u << 20, 20000 };
    char err[256];
    size_t len, items = 0;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: attach-walk FILE [N]\n");
        return 2;
    }
    int n = argc == 3 ? atoi(argv[2]) : 10;
    char *msg = slurp(argv[1], &len);
    awalk_t *w = awalk_new(&lim, err, sizeof(err));
    if (w == NULL || n < 1) {
        fprintf(stderr, "attach-walk: %s\n", w ? "N must be at least 1" : err);
        return 1;
    }
    double t0 = cpu_ms();
    for (int i = 0; i < n; i++) {
        awalk_result_t *r = awalk_run(w, msg, len);
        if (r == NULL) {
            fprintf(stderr, "attach-walk: out of memory\n");
            return 1;
        }
        items = awalk_count(r);
        awalk_result_free(r);
    }
    double ms = (cpu_ms() - t0) / n;
    printf("%s: %zu bytes, %zu items, %d walks, cpu %.3f ms/walk, %.1f MB/s of one core\n",
           argv[1], len, items, n, ms, ms > 0 ? (double) len / ms / 1e3 : 0.0);
    awalk_free(w);
    free(msg);
    return 0;
}
