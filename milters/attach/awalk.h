/*
 * awalk.h - every part of a message, as the rules see it: MIME parts
 * (GMime), nested messages and multiparts to a depth, the true type of
 * each part's decoded content and the entries of archives (acontent.h),
 * with limits on everything. Also rewrites the message with some parts
 * replaced by a text notice (the "strip" action).
 *
 * NAME
 *	awalk - MIME part walker
 *
 * SYNOPSIS
 *	awalk_t *w = awalk_new(&limits, err, sizeof(err));
 *	awalk_result_t *r = awalk_run(w, msg, len);
 *	for (size_t i = 0; i < awalk_count(r); i++)
 *		use awalk_item(r, i)->path, ->name, ->true_type ...
 *	awalk_strip(r, idx, notices, n, &body, &bodylen, &root, err, sizeof(err));
 *	awalk_result_free(r);
 *	awalk_free(w);
 *
 * DESCRIPTION
 *	awalk_run() parses MSG (header and body, as the MTA received it)
 *	with GMime in its lenient modes and lists the leaf parts in order.
 *	Part paths follow IMAP (RFC 3501): "1" for a single-part message,
 *	"2.1" for the first child of the second part; the content of an
 *	attached message/rfc822 at "3" is "3.1", "3.2", ... Archive entries
 *	get the path of their archive, a '/', and their 1-based index:
 *	"2/4", "2/4/1" for an entry of an archive inside it.
 *
 *	For each part: the file name (Content-Disposition filename or
 *	Content-Type name, RFC 2231 and RFC 2047 decoded by GMime, as
 *	UTF-8; cleaning is aname.h's job; when both are given and differ,
 *	the second is kept too), the declared type, the true type
 *	of the decoded content (libmagic; for the message text - text/plain
 *	or text/html without a file name or attachment disposition, which
 *	mail programs display rather than save - the declared type), the
 *	decoded size, and for archives their entries (acontent.h).
 *
 *	Broken MIME is not an error: GMime reads what it can, and what it
 *	complains about is summed up in the flags. AWALK_MALFORMED: the
 *	structure is damaged (missing boundaries, truncation, bad encoded
 *	words). AWALK_SUSPECT: damage that makes mail programs disagree
 *	about the parts, the stuff of filter evasion (conflicting
 *	Content-Type headers or parameters, a multipart without boundary,
 *	parts without headers or content, nesting deeper than GMime allows).
 *	AWALK_LIMIT: a limit stopped the walk, so some content was not
 *	seen. AWALK_NOT_MIME: nothing could be parsed at all.
 *
 *	Memory: the message is read in place, so MSG must stay as it is
 *	until awalk_result_free(). Of one
 *	part at a time, the first ACONTENT_MAGIC_BYTES of its decoded
 *	content are held (what libmagic is shown) and the rest only
 *	counted (base64 from its characters, without decoding); only an
 *	archive is held whole, plus at most limits.max_archive_read for an
 *	archive inside it. Items are counted against limits.max_items.
 *
 *	An awalk_t is shared by threads (it holds the libmagic pool); a
 *	result belongs to one thread.
 *
 * RETURNS
 *	awalk_new: NULL with ERR when libmagic cannot load its database.
 *	awalk_run: NULL only when out of memory.
 *	awalk_strip: 0 with *BODY (caller frees with free()), or -1 with ERR.
 */
#ifndef POSTERN_AWALK_H
#define POSTERN_AWALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acontent.h"

#define AWALK_MAX_PATH 64
#define AWALK_MAX_NAME 256

enum {
    AWALK_MALFORMED = 1u << 0,
    AWALK_SUSPECT = 1u << 1,
    AWALK_LIMIT = 1u << 2,
    AWALK_NOT_MIME = 1u << 3,
};

typedef struct awalk_limits {
    unsigned max_items;         /* MIME parts and archive entries */
    unsigned max_depth;         /* multipart/message nesting looked into */
    unsigned max_archive_depth; /* archive levels listed */
    size_t max_archive_read;    /* bytes read from one nested archive */
    unsigned max_ms;            /* time for one message */
} awalk_limits_t;

typedef struct awalk_item {
    bool entry;                 /* an archive entry, not a MIME part */
    char path[AWALK_MAX_PATH];
    char name[AWALK_MAX_NAME];  /* "" when none */
    char altname[AWALK_MAX_NAME];   /* Content-Type name when it differs
                                       from the filename (clients differ
                                       in which one they show), else "" */
    char declared[ACONTENT_MAX_TYPE];   /* lower case; "" for entries */
    char true_type[ACONTENT_MAX_TYPE];  /* "" when unknown (encrypted) */
    uint64_t size;              /* decoded bytes; entries: as declared */
    unsigned depth;             /* archive levels: 0 for MIME parts */
    bool attachment;            /* disposition attachment or a file name */
    bool archive;               /* listed as an archive */
    bool encrypted;             /* archive: some entry encrypted; entry: itself */
    bool unreadable;            /* archive type libarchive could not read */
    int part;                   /* index of the MIME part holding it */
} awalk_item_t;

typedef struct awalk awalk_t;
typedef struct awalk_result awalk_result_t;

awalk_t *awalk_new(const awalk_limits_t *limits, char *err, size_t errlen);
void awalk_free(awalk_t *w);

awalk_result_t *awalk_run(awalk_t *w, const void *msg, size_t len);
void awalk_result_free(awalk_result_t *r);

size_t awalk_count(const awalk_result_t *r);
const awalk_item_t *awalk_item(const awalk_result_t *r, size_t i);
unsigned awalk_flags(const awalk_result_t *r);
/* GMime's first complaint, for the log ("" when none). */
const char *awalk_warning(const awalk_result_t *r);

/* Replaces the MIME parts at item indexes IDX[0..N-1] (entries stand for
 * the part that holds them) by text/plain parts holding NOTICES[i]
 * (ASCII), and writes the new message body, CRLF line ends, without the
 * top-level header. *ROOT is set when the top-level part itself was
 * replaced: then the top-level Content-Type must become
 * AWALK_NOTICE_TYPE, Content-Transfer-Encoding 7bit, and any
 * Content-Disposition go. The result can be stripped only once. */
#define AWALK_NOTICE_TYPE "text/plain; charset=us-ascii"
int awalk_strip(awalk_result_t *r, const size_t *idx, const char *const *notices,
                size_t n, char **body, size_t *bodylen, bool *root, char *err,
                size_t errlen);

#endif
