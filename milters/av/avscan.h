/*
 * avscan.h - the scanner back ends of postern-av behind one small table
 * of operations: libclamav in process (avscan_clamav.c) and a running
 * clamd over its socket (avscan_clamd.c), chosen by [av] backend.
 *
 * NAME
 *	avscan - virus scanner back ends
 *
 * SYNOPSIS
 *	avscan_t *s = avscan_clamav_new(&opts, err, sizeof(err));
 *	avscan_result_t r;
 *	s->ops->scan(s, spool, &r);       (any thread, concurrently)
 *	s->ops->free(s);
 *
 * DESCRIPTION
 *	scan() looks at the whole RFC 5322 message in SPOOL and fills R:
 *	AVSCAN_CLEAN, AVSCAN_INFECTED with the signature name,
 *	AVSCAN_LIMIT when the message or something inside it was over a
 *	scan limit, AVSCAN_ERROR with the reason, or AVSCAN_UNSCANNED when
 *	the back end runs without a database by configuration. Many
 *	threads may call scan() at once.
 *
 *	The libclamav back end holds one compiled engine shared by every
 *	scan. A thread checks the database directory every CHECK_MS; when
 *	a file there changed it builds a new engine beside the old one and
 *	swaps it in. Each scan holds a reference to the engine it started
 *	with, so scans in flight finish on the old engine, which is freed
 *	when the last of them ends. A failed load keeps the old engine and
 *	is reported through NOTE. At most MAX_SCANS scans run at once; more
 *	wait for a slot, so many large messages arriving together do not
 *	multiply the engine's working memory or thrash the CPUs (clamd does
 *	the same with MaxThreads). While no database is loaded
 *	(ALLOW_NO_DB), each scan also checks the directory, so a database
 *	that appears is used from the next message on.
 *
 *	The clamd back end opens one connection per message and sends it
 *	with INSTREAM in chunks; every read and write has the deadline
 *	TIMEOUT_MS from the start of the scan.
 */
#ifndef POSTERN_AVSCAN_H
#define POSTERN_AVSCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "avspool.h"

typedef enum {
    AVSCAN_CLEAN = 0, AVSCAN_INFECTED, AVSCAN_LIMIT, AVSCAN_ERROR, AVSCAN_UNSCANNED
} avscan_status_t;

#define AVSCAN_MAX_NAME 128
#define AVSCAN_MAX_REASON 256

typedef struct avscan_result {
    avscan_status_t status;
    char name[AVSCAN_MAX_NAME];     /* signature, when infected or limit */
    char reason[AVSCAN_MAX_REASON]; /* error or limit text */
} avscan_result_t;

/* "clean", "infected", "limit", "error", "unscanned". */
const char *avscan_status_name(avscan_status_t st);

/* Sets R from a signature name of LEN bytes (not NUL-terminated): a
 * "Heuristics.Limits.Exceeded.*" name is AVSCAN_LIMIT, any other
 * AVSCAN_INFECTED. Bytes outside printable ASCII become '?'. */
void avscan_found(avscan_result_t *r, const char *name, size_t len);
/* Sets R to ST (error, limit or unscanned) with REASON. */
void avscan_fail(avscan_result_t *r, avscan_status_t st, const char *reason);

typedef struct avscan avscan_t;

typedef struct avscan_ops {
    const char *name;           /* "clamav", "clamd" */
    void (*scan)(avscan_t *s, const avspool_t *msg, avscan_result_t *r);
    /* One line on the loaded signatures, for logs: "1234 signatures". */
    void (*describe)(avscan_t *s, char *buf, size_t buflen);
    void (*free)(avscan_t *s);
} avscan_ops_t;

struct avscan {
    const avscan_ops_t *ops;
};

/* Reports from a back end's own thread (database reloads). LEVEL is a
 * log_level_t. */
typedef void (*avscan_note_fn)(void *arg, int level, const char *msg);
/* Called after each rebuild of the engine for a changed database
 * directory (not the first load): OK false when the old one was kept. */
typedef void (*avscan_reload_fn)(void *arg, bool ok);

typedef struct avscan_clamav_opts {
    const char *dbdir;
    const char *tmpdir;         /* libclamav's unpacking; NULL: its default */
    bool allow_no_db;           /* run unscanned until a database appears */
    long long check_ms;         /* database directory poll; 0: never */
    unsigned long long max_scansize, max_filesize;
    unsigned max_recursion, max_files;
    bool no_cache;              /* rescan files seen clean before */
    unsigned max_scans;         /* scans at once, others wait; 0: CPUs */
    avscan_note_fn note;
    avscan_reload_fn reloaded;  /* may be NULL; gets NOTE_ARG too */
    void *note_arg;
} avscan_clamav_opts_t;

/* Loads and compiles the databases in OPTS.dbdir. Without a usable
 * database: NULL with ERR, unless OPTS.allow_no_db. */
avscan_t *avscan_clamav_new(const avscan_clamav_opts_t *opts, char *err, size_t errlen);

/* Builds a new engine now if the directory changed (what the poll
 * thread does); 1 swapped, 0 unchanged, -1 failed (ERR). For tests. */
int avscan_clamav_check(avscan_t *s, char *err, size_t errlen);

/* SOCKET: "unix:PATH" or "inet:PORT@HOST"; CHUNK: INSTREAM chunk size. */
avscan_t *avscan_clamd_new(const char *socket, long long timeout_ms, size_t chunk,
                           char *err, size_t errlen);

#endif
