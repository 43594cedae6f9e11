/*
 * audit.h - the JSON-lines audit log: one record per decision, each
 * carrying the SHA-256 of the record before it.
 *
 * NAME
 *	audit - tamper-evident decision log shared by all components
 *
 * SYNOPSIS
 *	audit_t *a = audit_open("/var/log/postern/audit.jsonl", "dkim",
 *	                        err, sizeof(err));
 *	audit_record_t r = { .qid = "3F2A11C0", .step = "verify",
 *	                     .result = "fail", .reason = "body hash mismatch",
 *	                     .action = "reject", .ms = 1.25 };
 *	audit_write(a, &r, err, sizeof(err));
 *	audit_close(a);
 *
 * DESCRIPTION
 *	A record is one line of JSON with its keys in a fixed order: ts,
 *	host, component, pid, qid, conn, client_ip, helo, from, rcpt,
 *	msgid (when known), step, result, reason, action, ms, extra (when
 *	given) and prev, the hex
 *	SHA-256 of the previous line's bytes (without its newline); the
 *	first record of a file has 64 zeros. docs/audit-log.md has the
 *	whole format.
 *
 *	Many processes and threads append to one file. A write takes a
 *	process mutex and then flock() on the file, reads the hash of the
 *	last complete line (cached when this process wrote it), and appends
 *	the new line with one write(2) on an O_APPEND descriptor, so lines
 *	never interleave and the chain stays linear.
 *
 *	A crash in the middle of write(2) can leave a final line without a
 *	newline. The next writer ends that fragment with a newline and
 *	chains to the last complete record before it; the verifier reports
 *	the fragment as torn, not as tampering. Any edited, removed,
 *	inserted or reordered complete line breaks the chain.
 *
 *	When the file at the path is replaced (log rotation), the next
 *	write reopens it; the first record of the new file carries the hash
 *	of the old file's last record, so the chain runs on across files
 *	(the old file's lock is held while that hash is read, so no record
 *	can slip in behind it). A process that opens an empty file without
 *	having seen the old one starts a new chain (64 zeros).
 *
 *	Strings come from the network and may hold any bytes: invalid UTF-8
 *	is replaced by U+FFFD so that a record is always written.
 *
 * RETURNS
 *	audit_open: a handle, or NULL with ERR set. A NULL or empty path
 *	gives a disabled log whose writes do nothing and succeed.
 *	audit_write: 0, or -1 with ERR set (the caller logs it; the mail
 *	decision does not depend on it).
 */
#ifndef POSTERN_AUDIT_H
#define POSTERN_AUDIT_H

#include <stddef.h>

#include <jansson.h>

/* Longest line we write or accept; longer fields are cut. */
#define AUDIT_MAX_RECORD 65536
#define AUDIT_HASH_HEX 64

typedef struct audit audit_t;

typedef struct audit_record {
    const char *component;      /* NULL: the one given to audit_open */
    const char *qid;            /* MTA queue id, NULL while unknown */
    const char *conn;           /* per-connection id */
    const char *client_ip, *helo, *from;
    const char *const *rcpt;
    size_t nrcpt;
    const char *msgid;          /* Message-ID field, NULL when not seen */
    const char *step;           /* which check or stage */
    const char *result, *reason, *action;
    double ms;                  /* time the decision took */
    json_t *extra;              /* optional object, borrowed */
} audit_record_t;

audit_t *audit_open(const char *path, const char *component, char *err,
                    size_t errlen);
int audit_write(audit_t *a, const audit_record_t *r, char *err, size_t errlen);
/* fdatasync()s the file: records are not synced one by one. */
int audit_flush(audit_t *a);
void audit_close(audit_t *a);

/* Builds the JSON text of R (without prev and newline) into a malloc'd
 * string; exposed for tests. Caller frees. */
char *audit_format(const audit_record_t *r, const char *component,
                   const char *prev_hex);

/*
 * Verification, streaming in constant memory.
 */
typedef struct audit_verify_result {
    unsigned long records;          /* complete records checked */
    unsigned long torn;             /* torn fragments skipped */
    unsigned long first_bad_line;   /* 0 when intact */
    unsigned long first_torn_line;
    char why[256];
    char first_prev[AUDIT_HASH_HEX + 1];   /* prev of the first record: 64
                                              zeros, or the last hash of
                                              the file rotated before it */
    char last_hash[AUDIT_HASH_HEX + 1];
} audit_verify_result_t;

/* True when FIRST_PREV starts a new chain (64 zeros). */
int audit_hash_is_zero(const char *hex);

/* 0 intact, 1 broken (first_bad_line and why set), -1 read error. */
int audit_verify_fd(int fd, audit_verify_result_t *out);
int audit_verify_file(const char *path, audit_verify_result_t *out,
                      char *err, size_t errlen);

/* SHA-256 of LEN bytes as 64 lower-case hex digits plus NUL. */
void audit_hash_hex(const void *data, size_t len, char out[AUDIT_HASH_HEX + 1]);

#endif
