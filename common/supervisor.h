/*
 * supervisor.h - start child daemons, restart the ones that die, stop all.
 *
 * NAME
 *	supervisor - the process supervisor behind "postern run"
 *
 * SYNOPSIS
 *	sup_t *s = sup_new();
 *	sup_add(s, "dkim", argv);          (argv copied, argv[0] is a path)
 *	sup_run(s, &opts);                 (blocks until SIGTERM/SIGINT or
 *	                                    sup_request_stop)
 *	sup_free(s);
 *
 * DESCRIPTION
 *	sup_run() starts every child, then waits. A child that exits while
 *	the supervisor is not stopping is restarted after a back-off that
 *	doubles with each quick failure (sup_backoff_ms) so a component that
 *	cannot start does not spin; one that ran for a while restarts at once.
 *	SIGHUP is passed on to every child (each reloads its config).
 *	SIGTERM or SIGINT, or sup_request_stop(), stops the children with
 *	SIGTERM so they drain in-flight messages, then SIGKILL after
 *	opts.stop_timeout_ms, and sup_run() returns 0.
 *
 *	sup_run() blocks SIGCHLD, SIGTERM, SIGINT and SIGHUP in the calling
 *	thread and reads them through a signalfd: call it from the main
 *	thread before any other thread exists (threads inherit the mask), or
 *	block those signals in every thread. Children get the default mask.
 *
 *	sup_request_stop() is async-signal-safe and thread-safe.
 *
 * RETURNS
 *	sup_add: 0, or -1 (too many children, bad argv).
 *	sup_run: 0 after a clean stop, -1 when it cannot set up (err filled).
 */
#ifndef POSTERN_SUPERVISOR_H
#define POSTERN_SUPERVISOR_H

#include <stddef.h>
#include <sys/types.h>

#define SUP_MAX_CHILDREN 32

typedef struct sup sup_t;

typedef struct {
    unsigned stop_timeout_ms;   /* SIGTERM -> SIGKILL grace; 0 = 30 s */
    unsigned quick_exit_ms;     /* a run shorter than this is a failure;
                                   0 = 10 s */
} sup_opts_t;

sup_t *sup_new(void);
int sup_add(sup_t *s, const char *name, char *const argv[]);
int sup_run(sup_t *s, const sup_opts_t *opts, char *err, size_t errlen);
void sup_request_stop(sup_t *s);
void sup_free(sup_t *s);

/* Number of times child i has been started (for status and tests). */
unsigned sup_starts(const sup_t *s, size_t i);

/* Delay before restart number n of a child that keeps failing quickly:
 * 0 for the first failure, then 1 s, 2 s, 4 s ... capped at 60 s. */
unsigned sup_backoff_ms(unsigned quick_failures);

#endif
