/*
 * msgfile.h - the test messages milter-load sends: RFC 5322 files split
 * once, at start-up, into the header fields and body a milter receives.
 *
 * NAME
 *	msgfile - load and split messages for the milter load generator
 *
 * SYNOPSIS
 *	msgfile_t *m[MSGFILE_MAX];  size_t n = 0;
 *	msgfile_load_path("tests/data/mail", m, MSGFILE_MAX, &n, err, sizeof err);
 *	m[n++] = msgfile_builtin();
 *	... m[i]->hdr[j].name, m[i]->hdr[j].value, m[i]->body ...
 *	msgfile_free(m[i]);
 *
 * DESCRIPTION
 *	A message is split at the first empty line. Header fields keep the
 *	text after the colon as the value (with its leading space; the
 *	sender strips it unless the milter asked for SMFIP_HDR_LEADSPC);
 *	folded lines are joined with "\n" and their leading white space
 *	kept. The body gets CRLF line ends, as an MTA sends it to milters.
 *
 *	Splitting happens once so that sending a message costs the
 *	generator no parsing.
 *
 * RETURNS
 *	msgfile_parse, msgfile_builtin: a message the caller frees with
 *	msgfile_free, or NULL (err filled for parse: no header section,
 *	too many fields, out of memory).
 *	msgfile_load_path: 0, or -1 with err filled; messages loaded before
 *	the error stay in out[] and are counted in *n.
 */
#ifndef POSTERN_MSGFILE_H
#define POSTERN_MSGFILE_H

#include <stddef.h>

#define MSGFILE_MAX 1024            /* files per run */
#define MSGFILE_MAX_HEADERS 512
#define MSGFILE_MAX_BYTES (64u * 1024u * 1024u)

typedef struct {
    char *name;
    char *value;
} msgfile_header_t;

typedef struct {
    msgfile_header_t hdr[MSGFILE_MAX_HEADERS];
    size_t nhdr;
    char *body;
    size_t bodylen;
} msgfile_t;

msgfile_t *msgfile_parse(const char *text, size_t len, char *err,
                         size_t errlen);

/* A plain-text message of about 4 KB. */
msgfile_t *msgfile_builtin(void);

/* Loads path, or every regular file of the directory path in name
 * order, appending to out[*n] (at most max in all). */
int msgfile_load_path(const char *path, msgfile_t **out, size_t max,
                      size_t *n, char *err, size_t errlen);

/* Size in SMTP: every "name:value" CRLF, the empty line, the body. */
size_t msgfile_size(const msgfile_t *m);

void msgfile_free(msgfile_t *m);

#endif
