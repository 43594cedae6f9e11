/*
 * smtpreply.h - the client side of an SMTP reply (RFC 5321 4.2): finds one
 * complete, possibly multi-line reply in the bytes received so far.
 *
 * NAME
 *	smtpreply - parse SMTP server replies for the SMTP load generator
 *
 * SYNOPSIS
 *	int code;  size_t used;
 *	r = smtpreply_parse(buf, len, &code, &used, err, sizeof err);
 *	r == 1: one reply with this code took the first `used` bytes
 *	r == 0: incomplete, read more and call again with everything
 *	r < 0:  malformed, close the session
 *
 * DESCRIPTION
 *	A reply is one or more lines "DDD-text" ended by a line "DDD text"
 *	or a bare "DDD"; every line ends with LF (CR before it optional) and
 *	every line carries the same three-digit code, the first digit 2 to
 *	5. The server is not trusted: a line longer than
 *	SMTPREPLY_MAX_LINE or a reply of more than SMTPREPLY_MAX_LINES lines
 *	is an error, so a hostile or broken server cannot make the client
 *	buffer without bound. The function keeps no state and reads only
 *	the len bytes it is given (no NUL needed).
 *
 *	smtpreply_class() says what a code means for a transaction.
 *
 * RETURNS
 *	smtpreply_parse: 1 (reply found; *code and *used set), 0 (need more
 *	bytes), -1 (err filled: not a reply line, mixed codes, too long).
 */
#ifndef POSTERN_SMTPREPLY_H
#define POSTERN_SMTPREPLY_H

#include <stddef.h>

/* RFC 5321 4.5.3.1.5 allows 512 octets per reply line; Postfix stays
 * within that. Four times as much leaves room for odd servers. */
#define SMTPREPLY_MAX_LINE 2048
/* EHLO replies are the longest in practice (about 10-20 lines). */
#define SMTPREPLY_MAX_LINES 100

int smtpreply_parse(const char *buf, size_t len, int *code, size_t *used,
                    char *err, size_t errlen);

/* 2 for 2xx (done), 3 for 3xx (go on: 354 after DATA), 4 for a
 * temporary and 5 for a permanent failure; 0 for anything else. */
int smtpreply_class(int code);

#endif
