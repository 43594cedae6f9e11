/*
 * pidcache.h - the process id without a system call per use.
 *
 * NAME
 *	pidcache - getpid() once per process
 *
 * SYNOPSIS
 *	pid_t pid = pidcache_pid();
 *
 * DESCRIPTION
 *	glibc no longer caches getpid(), and the audit record and the
 *	foreground log line carry the pid once per message. The first call
 *	asks the kernel; later calls read the cached value. A child made by
 *	fork() forgets it (pthread_atfork), so it never reports its parent's
 *	pid. A child made by a raw clone() without fork() is not covered;
 *	postern makes none. Thread-safe.
 */
#ifndef POSTERN_PIDCACHE_H
#define POSTERN_PIDCACHE_H

#include <sys/types.h>

pid_t pidcache_pid(void);

#endif
