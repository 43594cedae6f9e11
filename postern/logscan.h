/*
 * logscan.h - the lines of a log file that hold one of a few byte
 * strings, found by searching whole blocks before any line is looked at.
 *
 * NAME
 *	logscan - needle search over a large JSON-lines file
 *
 * SYNOPSIS
 *	const char *needles[] = { "3F2A11C0", "4711.12" };
 *	logscan_file("/var/log/postern/audit.jsonl", needles, 2, false,
 *	             on_line, arg, err, sizeof(err));
 *
 * DESCRIPTION
 *	"postern why" asks for a few messages out of millions of records.
 *	Parsing every line as JSON costs microseconds a line; memmem() over
 *	a 4 MB block costs a fraction of a nanosecond a byte. So the file
 *	is read in blocks of LOGSCAN_MAX_LINE bytes, each needle is searched in the block, and only
 *	the lines around the hits go to FN (without their newline). With
 *	no needles every line goes to FN.
 *
 *	With NOCASE, needles match regardless of ASCII case: the block is
 *	folded to lower case into a second buffer and searched there (the
 *	needles are folded too), and FN still gets the line as written.
 *
 *	A line longer than LOGSCAN_MAX_LINE is skipped (the audit module
 *	never writes one); a last line without a newline (a torn record)
 *	is passed like the others.
 *
 * RETURNS
 *	0; -1 with ERR when the file cannot be read or memory is short; or
 *	the first non-zero value FN returned, which stops the scan.
 */
#ifndef POSTERN_LOGSCAN_H
#define POSTERN_LOGSCAN_H

#include <stdbool.h>
#include <stddef.h>

#define LOGSCAN_MAX_LINE (4u << 20)   /* also the block size */
#define LOGSCAN_MAX_NEEDLES 128

typedef int (*logscan_fn)(void *arg, const char *line, size_t len);

int logscan_file(const char *path, const char *const *needles, size_t nneedles, bool nocase,
                 logscan_fn fn, void *arg, char *err, size_t errlen);

#endif
