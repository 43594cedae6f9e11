/*
 * avclamd.h - clamd's INSTREAM protocol, on a connected socket.
 *
 * NAME
 *	avclamd - talk INSTREAM to clamd
 *
 * SYNOPSIS
 *	avclamd_instream(fd, spool, 65536, deadline, &result);
 *	avclamd_parse_reply("stream: Eicar-Signature FOUND", 29, &result);
 *
 * DESCRIPTION
 *	The client sends "zINSTREAM\0", then the data as chunks, each a
 *	4-byte big-endian length and that many bytes, and a zero length to
 *	end. clamd answers with one NUL-terminated line: "stream: OK",
 *	"stream: NAME FOUND", "INSTREAM size limit exceeded. ERROR" (past
 *	its StreamMaxLength) or "... ERROR". clamd may answer and close
 *	before all chunks are sent (the size limit): the reply is read
 *	even when a write fails.
 *
 *	avclamd_instream never blocks past DEADLINE_MS (CLOCK_MONOTONIC,
 *	milliseconds): each write and read waits with poll() for the time
 *	left. The reply is read up to AVCLAMD_MAX_REPLY bytes.
 *
 * RETURNS
 *	Both fill R. avclamd_parse_reply returns 0, or -1 when the line is
 *	none of the above (R is then an error naming it).
 */
#ifndef POSTERN_AVCLAMD_H
#define POSTERN_AVCLAMD_H

#include <stddef.h>
#include <stdint.h>

#include "avscan.h"
#include "avspool.h"

#define AVCLAMD_MAX_REPLY 1024
#define AVCLAMD_MAX_CHUNK (1024 * 1024)

/* The 4-byte length prefix of a chunk of LEN bytes. */
void avclamd_chunk_header(uint32_t len, unsigned char out[4]);

int avclamd_parse_reply(const char *line, size_t len, avscan_result_t *r);

void avclamd_instream(int fd, const avspool_t *msg, size_t chunk, long long deadline_ms,
                      avscan_result_t *r);

/* Waits for EVENTS (POLLIN, POLLOUT) on FD until DEADLINE_MS: 1 ready,
 * 0 timed out, -1 error (errno). */
int avclamd_wait(int fd, short events, long long deadline_ms);

/* Milliseconds on CLOCK_MONOTONIC, for deadlines. */
long long avclamd_now_ms(void);

#endif
