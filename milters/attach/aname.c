/*
 * aname.c - file name cleaning and extension analysis for the rules
 * (arule.c). Works on bytes with explicit lengths; never allocates.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "aname.h"

/* One UTF-8 sequence at S (N bytes left): code point, or -1 when the
 * bytes are not valid UTF-8 (overlong, surrogate, beyond U+10FFFF).
 * *USED is set to the bytes consumed (1 on error). */
static int32_t utf8_next(const unsigned char *s, size_t n, size_t *used)
{
    static const int32_t minval[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    size_t len;
    int32_t cp;

    *used = 1;
    if (s[0] < 0x80)
        return s[0];
    if ((s[0] & 0xE0) == 0xC0) {
        len = 2; cp = s[0] & 0x1F;
    } else if ((s[0] & 0xF0) == 0xE0) {
        len = 3; cp = s[0] & 0x0F;
    } else if ((s[0] & 0xF8) == 0xF0) {
        len = 4; cp = s[0] & 0x07;
    } else {
        return -1;
    }
    if (len > n)
        return -1;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return -1;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < minval[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    *used = len;
    return cp;
}

static bool is_bidi(int32_t cp)
{
    return cp == 0x061C || cp == 0x200E || cp == 0x200F
           || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

static bool is_zero_width(int32_t cp)
{
    return (cp >= 0x200B && cp <= 0x200D) || cp == 0x2060 || cp == 0xFEFF;
}

static bool is_ctrl(int32_t cp)
{
    return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F);
}

/* Appends LEN bytes to A->name unless full; false when cut. */
static bool put(aname_t *a, size_t *pos, const void *b, size_t len)
{
    if (*pos + len > ANAME_MAX)
        return false;
    memcpy(a->name + *pos, b, len);
    *pos += len;
    return true;
}

/* Copies NAME into A->name without the hiding characters. */
static void clean(const unsigned char *s, size_t n, aname_t *a)
{
    size_t pos = 0, used;

    for (size_t i = 0; i < n; i += used) {
        int32_t cp = utf8_next(s + i, n - i, &used);
        bool ok = true;

        if (cp < 0) {
            a->flags |= ANAME_BADUTF8;
            ok = put(a, &pos, "?", 1);
        } else if (is_bidi(cp)) {
            a->flags |= ANAME_BIDI;
        } else if (is_zero_width(cp)) {
            a->flags |= ANAME_HIDDEN;
        } else if (is_ctrl(cp)) {
            a->flags |= ANAME_CTRL;
        } else if (cp == 0x2024 || cp == 0xFF0E) {
            a->flags |= ANAME_HIDDEN;
            ok = put(a, &pos, ".", 1);
        } else {
            ok = put(a, &pos, s + i, used);
        }
        if (!ok) {
            a->flags |= ANAME_TRUNCATED;
            break;
        }
    }
    a->name[pos] = '\0';
}

static void strip_trailing(aname_t *a)
{
    size_t n = strlen(a->name);

    while (n > 0 && (a->name[n - 1] == '.' || a->name[n - 1] == ' '
                     || a->name[n - 1] == '\t')) {
        a->name[--n] = '\0';
        a->flags |= ANAME_TRAILING;
    }
}

/* Fills A->ext from the segments after the first dot, keeping the last
 * ANAME_MAX_EXT of them. */
static void split_ext(aname_t *a)
{
    const char *p = a->name;

    while (*p == '.')               /* ".bashrc": a hidden name, not an extension */
        p++;
    p = strchr(p, '.');
    while (p != NULL) {
        const char *seg = p + 1, *end = strchr(seg, '.');
        size_t len = end ? (size_t) (end - seg) : strlen(seg);

        while (len > 0 && (*seg == ' ' || *seg == '\t')) {
            seg++;
            len--;
        }
        while (len > 0 && (seg[len - 1] == ' ' || seg[len - 1] == '\t'))
            len--;
        if (len > 0) {
            if (a->next == ANAME_MAX_EXT) {
                memmove(a->ext[0], a->ext[1], sizeof(a->ext[0]) * (ANAME_MAX_EXT - 1));
                a->next--;
            }
            if (len > ANAME_MAX_EXTLEN)
                len = ANAME_MAX_EXTLEN;
            for (size_t i = 0; i < len; i++) {
                char c = seg[i];
                a->ext[a->next][i] = (c >= 'A' && c <= 'Z') ? (char) (c - 'A' + 'a') : c;
            }
            a->ext[a->next][len] = '\0';
            a->next++;
        }
        p = end;
    }
}

int aname_analyze(const char *name, size_t len, aname_t *a)
{
    memset(a, 0, sizeof(*a));
    if (name == NULL)
        return -1;
    /* The base name only: clients save "C:\x\evil.exe" as evil.exe. */
    for (size_t i = len; i > 0; i--) {
        if (name[i - 1] == '/' || name[i - 1] == '\\') {
            len -= i;
            name += i;
            break;
        }
    }
    clean((const unsigned char *) name, len, a);
    strip_trailing(a);
    split_ext(a);
    return a->name[0] ? 0 : -1;
}

bool aname_has_ext(const aname_t *a, const char *ext, bool last_only)
{
    if (a->next == 0)
        return false;
    if (last_only)
        return strcasecmp(a->ext[a->next - 1], ext) == 0;
    for (size_t i = 0; i < a->next; i++)
        if (strcasecmp(a->ext[i], ext) == 0)
            return true;
    return false;
}

const char *aname_last_ext(const aname_t *a)
{
    return a->next ? a->ext[a->next - 1] : "";
}

const char *aname_flags_str(unsigned flags, char *buf, size_t buflen)
{
    static const struct { unsigned bit; const char *name; } names[] = {
        { ANAME_BIDI, "bidi" }, { ANAME_HIDDEN, "hidden" }, { ANAME_CTRL, "ctrl" },
        { ANAME_BADUTF8, "badutf8" }, { ANAME_TRAILING, "trailing" },
        { ANAME_TRUNCATED, "truncated" },
    };
    size_t pos = 0;

    if (buflen == 0)
        return buf;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!(flags & names[i].bit))
            continue;
        int w = snprintf(buf + pos, buflen - pos, "%s%s", pos ? "," : "", names[i].name);
        if (w < 0 || (size_t) w >= buflen - pos)
            break;
        pos += (size_t) w;
    }
    return buf;
}
