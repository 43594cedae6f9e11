/*
 * procstat.c - CPU seconds and peak RSS of a process from /proc/PID/stat
 * and /proc/PID/status, for charging the milter per message.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procstat.h"

#define PROC_TEXT_MAX 8192

/* Reads at most PROC_TEXT_MAX - 1 bytes of path into buf, NUL-terminated. */
static ssize_t read_text(const char *path, char *buf, char *err,
                         size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    ssize_t n = read(fd, buf, PROC_TEXT_MAX - 1);
    int e = errno;
    close(fd);
    if (n < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return -1;
    }
    buf[n] = '\0';
    return n;
}

int procstat_parse_stat(const char *text, size_t len,
                        unsigned long long *cpu_ticks, char *err,
                        size_t errlen)
{
    /* The command name (field 2) may hold spaces and ')': fields are
     * counted from the last ')'. utime and stime are fields 14 and 15. */
    const char *end = text + len;
    const char *p = memrchr(text, ')', len);
    if (p == NULL) {
        snprintf(err, errlen, "stat: no command name");
        return -1;
    }
    p++;
    unsigned long long v[2] = {0, 0};
    for (int field = 3; field <= 15; field++) {
        while (p < end && *p == ' ')
            p++;
        if (p == end) {
            snprintf(err, errlen, "stat: only %d fields", field - 1);
            return -1;
        }
        unsigned long long x = 0;
        int digits = 0;
        for (; p < end && *p >= '0' && *p <= '9' && digits < 20; p++, digits++)
            x = x * 10 + (unsigned long long)(*p - '0');
        if (field >= 14)
            v[field - 14] = x;
        while (p < end && *p != ' ')
            p++;
    }
    *cpu_ticks = v[0] + v[1];
    return 0;
}

/* "Key:   1234 kB" -> 1234, or -1 when key is absent. */
static long status_kb(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    if (p == NULL)
        return -1;
    return strtol(p + strlen(key), NULL, 10);
}

int procstat_read(pid_t pid, procstat_t *out, char *err, size_t errlen)
{
    char path[64];
    char buf[PROC_TEXT_MAX];
    unsigned long long ticks;

    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    ssize_t n = read_text(path, buf, err, errlen);
    if (n < 0 || procstat_parse_stat(buf, (size_t)n, &ticks, err, errlen) < 0)
        return -1;
    long hz = sysconf(_SC_CLK_TCK);
    out->cpu_seconds = (double)ticks / (double)(hz > 0 ? hz : 100);

    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    if (read_text(path, buf, err, errlen) < 0)
        return -1;
    out->hwm_kb = status_kb(buf, "\nVmHWM:");
    out->rss_kb = status_kb(buf, "\nVmRSS:");
    return 0;
}

int procstat_pidfile(const char *path, pid_t *pid, char *err, size_t errlen)
{
    char buf[PROC_TEXT_MAX];
    if (read_text(path, buf, err, errlen) < 0)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(buf, &end, 10);
    if (errno != 0 || end == buf || v <= 0 || (*end != '\0' && *end != '\n')) {
        snprintf(err, errlen, "%s: no pid in file", path);
        return -1;
    }
    *pid = (pid_t)v;
    return 0;
}
