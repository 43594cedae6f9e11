/*
 * aname.h - what an attachment's file name really says: the name as a
 * mail client or Windows would treat it, its extensions, and the tricks
 * used to hide them. Pure string work; the caller has already decoded
 * RFC 2231 / RFC 2047 (GMime does that) and passes UTF-8.
 *
 * NAME
 *	aname - attachment file name analysis
 *
 * SYNOPSIS
 *	aname_t a;
 *	aname_analyze("Invoice.PDF.exe. ", 16, &a);
 *	aname_has_ext(&a, "exe", false);     -> true (last extension)
 *	aname_has_ext(&a, "pdf", false);     -> true (any extension)
 *	aname_has_ext(&a, "pdf", true);      -> false
 *
 * DESCRIPTION
 *	aname_analyze() cleans NAME the way the attack needs it cleaned:
 *	- anything up to the last '/' or '\' is dropped (clients save the
 *	  base name only);
 *	- Unicode bidirectional controls (U+061C, U+200E, U+200F,
 *	  U+202A..U+202E, U+2066..U+2069) are removed and flag ANAME_BIDI:
 *	  "invoice<RLO>fdp.exe" shows as "invoiceexe.pdf" but is an .exe;
 *	- zero-width characters (U+200B..U+200D, U+2060, U+FEFF) are
 *	  removed and flag ANAME_HIDDEN;
 *	- NUL, C0 and C1 controls and DEL are removed and flag ANAME_CTRL
 *	  ("evil.exe\0.txt" must not pass as .txt);
 *	- dot look-alikes U+2024 and U+FF0E become '.' and flag ANAME_HIDDEN;
 *	- invalid UTF-8 bytes become '?' and flag ANAME_BADUTF8;
 *	- trailing dots and blanks are stripped (Windows ignores them:
 *	  "setup.exe. ." runs as setup.exe) and flag ANAME_TRAILING.
 *	Extensions are the dot-separated segments after the first, each
 *	stripped of blanks and lower-cased (ASCII); a leading dot as in
 *	".bashrc" starts no extension. At most ANAME_MAX_EXT are kept (the
 *	last ones, which are what the system acts on); a longer name flags
 *	ANAME_TRUNCATED.
 *
 * RETURNS
 *	aname_analyze: 0; -1 when NAME is NULL or empty after cleaning (A
 *	is still filled, with an empty name).
 */
#ifndef POSTERN_ANAME_H
#define POSTERN_ANAME_H

#include <stdbool.h>
#include <stddef.h>

#define ANAME_MAX 255            /* bytes of the cleaned name kept */
#define ANAME_MAX_EXT 8          /* extensions kept, counted from the end */
#define ANAME_MAX_EXTLEN 31

enum {
    ANAME_BIDI = 1u << 0,
    ANAME_HIDDEN = 1u << 1,
    ANAME_CTRL = 1u << 2,
    ANAME_BADUTF8 = 1u << 3,
    ANAME_TRAILING = 1u << 4,
    ANAME_TRUNCATED = 1u << 5,
};
/* Flags that only an attempt to deceive produces. */
#define ANAME_TRICKS (ANAME_BIDI | ANAME_HIDDEN | ANAME_CTRL)

typedef struct aname {
    char name[ANAME_MAX + 1];                    /* cleaned, UTF-8 */
    char ext[ANAME_MAX_EXT][ANAME_MAX_EXTLEN + 1];   /* lower case, in order */
    size_t next;
    unsigned flags;
} aname_t;

int aname_analyze(const char *name, size_t len, aname_t *a);
/* EXT without the dot, any case. LAST_ONLY: only the last extension. */
bool aname_has_ext(const aname_t *a, const char *ext, bool last_only);
/* The last extension, "" when none. */
const char *aname_last_ext(const aname_t *a);
/* "bidi,ctrl" style list of the flags set, for logs; BUF is returned. */
const char *aname_flags_str(unsigned flags, char *buf, size_t buflen);

#endif
