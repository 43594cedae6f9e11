/*
 * avspool.h - one message collected for scanning: in memory while
 * small, in a private temporary file once it grows, never past a hard
 * limit.
 *
 * NAME
 *	avspool - bounded message spool
 *
 * SYNOPSIS
 *	avspool_t *s = avspool_new(1 << 20, 64 << 20, "/tmp", err, sizeof(err));
 *	rc = avspool_append(s, "Subject: x\r\n", 12, err, sizeof(err));
 *	if (avspool_mem(s, &len) != NULL) ... else fd = avspool_fd(s);
 *	n = avspool_read(s, off, buf, sizeof(buf));
 *	avspool_reset(s);                     (next message)
 *	avspool_free(s);
 *
 * DESCRIPTION
 *	Bytes are kept in one growing buffer up to MEM_MAX. The append that
 *	would pass MEM_MAX moves everything to a file opened in DIR with
 *	O_TMPFILE (no name ever exists; mkstemp + unlink where the file
 *	system lacks it), mode 0600, so no other user reads the mail and
 *	nothing is left behind after a crash. MEM_MAX 0 always uses a file.
 *
 *	HARD_MAX bounds the message: an append past it keeps nothing more,
 *	sets the over flag and returns 1; later appends are counted in
 *	avspool_total() but not stored, so the caller still learns the size.
 *
 *	One avspool_t belongs to one milter session: no locking.
 *
 * RETURNS
 *	avspool_new: NULL with ERR on a bad DIR or no memory.
 *	avspool_append: 0 stored, 1 over HARD_MAX (not stored), -1 I/O or
 *	memory error (ERR; the spool is then unusable until reset).
 */
#ifndef POSTERN_AVSPOOL_H
#define POSTERN_AVSPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct avspool avspool_t;

/* DIR is copied. */
avspool_t *avspool_new(size_t mem_max, size_t hard_max, const char *dir, char *err,
                       size_t errlen);
void avspool_free(avspool_t *s);

/* Empties the spool for the next message (closes a file). */
void avspool_reset(avspool_t *s);

int avspool_append(avspool_t *s, const void *data, size_t len, char *err, size_t errlen);

/* Bytes stored. */
size_t avspool_size(const avspool_t *s);
/* Bytes offered, stored or not (the message size). */
unsigned long long avspool_total(const avspool_t *s);
bool avspool_over(const avspool_t *s);
bool avspool_failed(const avspool_t *s);

/* The bytes when held in memory (*LEN set), else NULL. */
const void *avspool_mem(const avspool_t *s, size_t *len);
/* The file descriptor when spilled to a file, else -1. Borrowed. */
int avspool_fd(const avspool_t *s);

/* Copies up to N bytes from offset OFF into BUF: the count, 0 at the
 * end, -1 on a read error. */
ssize_t avspool_read(const avspool_t *s, size_t off, void *buf, size_t n);

#endif
