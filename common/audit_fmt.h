/*
 * audit_fmt.h - the bytes of one audit record, written straight into a
 * reusable buffer. Used by audit.c; not for components.
 *
 * NAME
 *	audit_fmt - format audit records without building a JSON tree
 *
 * SYNOPSIS
 *	audit_fmt_t *f = audit_fmt_new(host);
 *	size_t len;
 *	char *text = audit_fmt_record(f, &r, "spf", prev_hex, &len);
 *	audit_fmt_free(f);
 *
 * DESCRIPTION
 *	Every milter writes a record per message, so the record is made
 *	the cheap way: no jansson object per record, no temporary strings,
 *	one buffer kept from record to record, the host and the process id
 *	formatted once (the pid again after fork()), the date and time once
 *	a second. The output is byte for byte what jansson's json_dumps()
 *	gives for the same record built as an object (JSON_COMPACT, keys in
 *	insertion order, JSON_REAL_PRECISION(12)); tests/unit/test_audit.c
 *	checks that against jansson itself. docs/audit-log.md has the keys.
 *
 *	Strings are cut at 2048 bytes and invalid UTF-8 becomes U+FFFD, as
 *	the format says. The caller's "extra" object is walked as jansson
 *	would dump it; its reals are dumped by jansson itself.
 *
 *	A handle is not thread-safe: audit.c uses it under its mutex.
 *
 * RETURNS
 *	audit_fmt_new: a handle or NULL (out of memory); HOST is copied.
 *	audit_fmt_record: the record text (no newline, NUL-terminated),
 *	LEN bytes inside the handle's buffer and valid until the next call;
 *	text[-1] and text[LEN] may be overwritten by the caller (room for a
 *	newline on each side, so a line goes out in one write). NULL, as
 *	json_dumps() gave before, when out of memory, when "extra" holds a
 *	string that is not UTF-8 (made with json_string_nocheck), or when
 *	it nests deeper than 2048 levels (a cycle, which jansson refuses).
 */
#ifndef POSTERN_AUDIT_FMT_H
#define POSTERN_AUDIT_FMT_H

#include <stddef.h>

#include "audit.h"

typedef struct audit_fmt audit_fmt_t;

audit_fmt_t *audit_fmt_new(const char *host);
char *audit_fmt_record(audit_fmt_t *f, const audit_record_t *r, const char *component,
                       const char *prev_hex, size_t *len);
void audit_fmt_free(audit_fmt_t *f);

#endif
