/*
 * acollect.h - one message's bytes as the MTA hands them over, kept in
 * memory while small and in a private unlinked temporary file above a
 * threshold, with a hard upper bound; the walker then sees one
 * contiguous buffer (memory, or the file mapped read-only).
 *
 * NAME
 *	acollect - bounded message collection with spill to disk
 *
 * SYNOPSIS
 *	acollect_t *c = acollect_new(2 << 20, 64 << 20, "/var/tmp");
 *	acollect_header(c, "Subject", "hello", err, sizeof(err));
 *	acollect_add(c, "\r\n", 2, err, sizeof(err));    (end of header)
 *	acollect_add(c, chunk, len, err, sizeof(err));   (body chunks)
 *	if (!acollect_over(c)) acollect_map(c, &data, &len, err, sizeof(err));
 *	acollect_reset(c);                               (next message)
 *	acollect_free(c);
 *
 * DESCRIPTION
 *	Bytes past MAX are counted (acollect_size) but not kept, and
 *	acollect_over() turns true: memory and disk use per message never
 *	pass MAX. The temporary file is created with mkstemp(3) (mode
 *	0600) in TMPDIR and unlinked at once, so it disappears with its
 *	descriptor even if the process dies.
 *
 * RETURNS
 *	acollect_new: NULL when out of memory.
 *	acollect_add, acollect_header, acollect_map: 0, or -1 with ERR (the
 *	temporary file could not be created or written, out of memory).
 */
#ifndef POSTERN_ACOLLECT_H
#define POSTERN_ACOLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct acollect acollect_t;

/* TMPDIR is copied. SPILL 0: always a file. */
acollect_t *acollect_new(size_t spill, size_t max, const char *tmpdir);
void acollect_free(acollect_t *c);
void acollect_reset(acollect_t *c);

int acollect_add(acollect_t *c, const void *data, size_t len, char *err, size_t errlen);
/* Adds "NAME: VALUE\r\n". */
int acollect_header(acollect_t *c, const char *name, const char *value, char *err,
                    size_t errlen);

uint64_t acollect_size(const acollect_t *c);
bool acollect_over(const acollect_t *c);
bool acollect_spilled(const acollect_t *c);

/* The kept bytes as one buffer, valid until reset or free. */
int acollect_map(acollect_t *c, const void **data, size_t *len, char *err, size_t errlen);

#endif
