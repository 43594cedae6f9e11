/*
 * acontent.h - what bytes really are: the true type of decoded
 * attachment content (libmagic) and the entries of archives
 * (libarchive), recursively. The MIME walker (awalk.c) calls it for
 * each part; it knows nothing of MIME or mail.
 *
 * NAME
 *	acontent - true types and archive listings
 *
 * SYNOPSIS
 *	acontent_t *c = acontent_new(err, sizeof(err));
 *	char type[ACONTENT_MAX_TYPE];
 *	acontent_type(c, buf, len, type, sizeof(type));
 *	if (acontent_is_archive(type))
 *		acontent_list(c, buf, len, type, id, &limits, on_entry, arg, &flags);
 *	acontent_free(c);
 *
 * DESCRIPTION
 *	A magic_t (libmagic) must not be used by two threads at once; the
 *	acontent_t keeps a small pool of them, one taken per call, so
 *	libmilter's worker threads never share one and never wait on a
 *	lock while a type is being worked out. Only the first
 *	ACONTENT_MAGIC_BYTES of a buffer are shown to libmagic: type
 *	signatures sit at the start, and this keeps the time per part
 *	bounded.
 *
 *	acontent_list() reads an archive (zip, rar, 7z, tar, cpio, iso9660,
 *	cab, and gzip/bzip2/xz/lzma/zstd compressed files, whatever the
 *	Debian libarchive reads) from memory and calls ON_ENTRY for each
 *	entry: its name, size as the archive declares it, encryption, and
 *	its true type from the first bytes of its data. An entry that is
 *	itself an archive is read (at most LIMITS.max_read bytes) and
 *	listed in turn, down to LIMITS.max_depth archive levels; its
 *	entries come right after it. Every entry at every level counts
 *	against *LIMITS.budget; when it reaches zero the listing stops.
 *
 *	Flags returned in *FLAGS: ACONTENT_ENCRYPTED (some entry or the
 *	archive's header is encrypted), ACONTENT_UNREADABLE (libarchive
 *	gave up: damaged or unsupported), ACONTENT_LIMIT (depth, budget or
 *	read size reached: the listing is incomplete).
 *
 * RETURNS
 *	acontent_new: a handle, or NULL with ERR (libmagic database).
 *	acontent_type: 0, or -1 (OUT is then "application/octet-stream").
 *	acontent_list: 0; -1 when out of memory or ON_ENTRY returned -1.
 */
#ifndef POSTERN_ACONTENT_H
#define POSTERN_ACONTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACONTENT_MAX_TYPE 128
#define ACONTENT_MAGIC_BYTES (256 * 1024)

enum {
    ACONTENT_ENCRYPTED = 1u << 0,
    ACONTENT_UNREADABLE = 1u << 1,
    ACONTENT_LIMIT = 1u << 2,
};

typedef struct acontent acontent_t;

typedef struct acontent_limits {
    unsigned max_depth;         /* archive levels listed (1: no nesting) */
    size_t max_read;            /* bytes read from one nested archive */
    unsigned *budget;           /* entries left to report, all levels */
} acontent_limits_t;

typedef struct acontent_entry {
    const char *name;           /* as stored (UTF-8 when the archive says so) */
    uint64_t size;              /* declared, 0 when unknown */
    const char *type;           /* true type; "" when encrypted or unread */
    bool encrypted;
    unsigned depth;             /* 1: entry of the outer archive */
    unsigned index;             /* 1-based within its archive */
    int parent;                 /* caller's id of the containing archive */
} acontent_entry_t;

/* Returns the caller's id for the entry (used as PARENT of its own
 * entries), or -1 to stop the listing. */
typedef int (*acontent_entry_fn)(void *arg, const acontent_entry_t *e);

acontent_t *acontent_new(char *err, size_t errlen);
void acontent_free(acontent_t *c);

int acontent_type(acontent_t *c, const void *data, size_t len, char *out,
                  size_t outlen);
/* True for the types acontent_list() opens. */
bool acontent_is_archive(const char *type);

/* TYPE is the archive's true type (from acontent_type); PARENT the
 * caller's id of the archive itself. */
int acontent_list(acontent_t *c, const void *data, size_t len, const char *type,
                  int parent, const acontent_limits_t *limits, acontent_entry_fn on_entry,
                  void *arg, unsigned *flags);

#endif
