/*
 * procstat.h - CPU time and memory of another process, from /proc, so the
 * benchmark can charge the milter (not the generator) per message.
 *
 * NAME
 *	procstat - read utime+stime and VmHWM/VmRSS of a pid
 *
 * SYNOPSIS
 *	procstat_t a, b;
 *	procstat_read(pid, &a, err, sizeof err);  ...run...
 *	procstat_read(pid, &b, err, sizeof err);
 *	cpu = b.cpu_seconds - a.cpu_seconds;  peak = b.hwm_kb;
 *
 * DESCRIPTION
 *	CPU is utime + stime of /proc/PID/stat (all threads of the process)
 *	converted with sysconf(_SC_CLK_TCK). Memory is VmHWM (peak resident
 *	set) and VmRSS from /proc/PID/status, in KiB.
 *
 *	procstat_pidfile() reads a decimal pid from a pid file.
 *
 * RETURNS
 *	0, or -1 with err filled (no such process, unreadable or
 *	unparsable file).
 */
#ifndef POSTERN_PROCSTAT_H
#define POSTERN_PROCSTAT_H

#include <stddef.h>
#include <sys/types.h>

typedef struct {
    double cpu_seconds;     /* utime + stime */
    long hwm_kb;            /* VmHWM, -1 when not reported */
    long rss_kb;            /* VmRSS, -1 when not reported */
} procstat_t;

int procstat_read(pid_t pid, procstat_t *out, char *err, size_t errlen);

/* Parses the text of /proc/PID/stat (len bytes, need not be
 * NUL-terminated) into *cpu_ticks = utime + stime. 0 or -1 (err filled). */
int procstat_parse_stat(const char *text, size_t len,
                        unsigned long long *cpu_ticks, char *err,
                        size_t errlen);

int procstat_pidfile(const char *path, pid_t *pid, char *err, size_t errlen);

#endif
