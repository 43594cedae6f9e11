/*
 * test_attach_aname.c - file name cleaning: last and any extension, case,
 * trailing dots and blanks, bidi overrides, zero-width characters, NUL,
 * dot look-alikes, paths, invalid UTF-8, limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "aname.h"

typedef struct {
    const char *in;
    size_t len;                 /* 0: strlen(in) */
    const char *clean;
    const char *last;           /* last extension */
    const char *any;            /* an extension that must be found (any position) */
    unsigned flags;
} name_case_t;

static const name_case_t cases[] = {
    { "report.pdf", 0, "report.pdf", "pdf", "pdf", 0 },
    { "Invoice.PDF.EXE", 0, "Invoice.PDF.EXE", "exe", "pdf", 0 },
    { "invoice.pdf.exe", 0, "invoice.pdf.exe", "exe", "pdf", 0 },
    { "setup.exe. . .", 0, "setup.exe", "exe", "exe", ANAME_TRAILING },
    { "setup.exe   ", 0, "setup.exe", "exe", "exe", ANAME_TRAILING },
    /* U+202E RIGHT-TO-LEFT OVERRIDE: shows as "invoiceexe.pdf". */
    { "invoice\xE2\x80\xAE" "fdp.exe", 0, "invoicefdp.exe", "exe", "exe", ANAME_BIDI },
    /* U+2067 RIGHT-TO-LEFT ISOLATE and U+200F RLM. */
    { "a\xE2\x81\xA7" "gpj.scr\xE2\x80\x8F", 0, "agpj.scr", "scr", "scr", ANAME_BIDI },
    /* Zero-width space inside the extension. */
    { "doc.e\xE2\x80\x8Bxe", 0, "doc.exe", "exe", "exe", ANAME_HIDDEN },
    /* One-dot leader and fullwidth full stop posing as dots. */
    { "photo\xE2\x80\xA4" "exe", 0, "photo.exe", "exe", "exe", ANAME_HIDDEN },
    { "photo\xEF\xBC\x8E" "scr", 0, "photo.scr", "scr", "scr", ANAME_HIDDEN },
    /* NUL: C string handling would see "evil.exe" end there... or not. */
    { "evil.exe\0.txt", 13, "evil.exe.txt", "txt", "exe", ANAME_CTRL },
    { "tab\there.js", 0, "tabhere.js", "js", "js", ANAME_CTRL },
    { "C:\\Users\\x\\run.bat", 0, "run.bat", "bat", "bat", 0 },
    { "../../etc/x.sh", 0, "x.sh", "sh", "sh", 0 },
    { ".bashrc", 0, ".bashrc", "", NULL, 0 },
    { "noext", 0, "noext", "", NULL, 0 },
    { "r\xC3\xA9sum\xC3\xA9.docx", 0, "r\xC3\xA9sum\xC3\xA9.docx", "docx", "docx", 0 },
    { "bad\xFF.exe", 0, "bad?.exe", "exe", "exe", ANAME_BADUTF8 },
    /* Overlong encoding of '.' is not a dot. */
    { "x\xC0\xAE" "exe", 0, "x??exe", "", NULL, ANAME_BADUTF8 },
    { "archive.tar.gz", 0, "archive.tar.gz", "gz", "tar", 0 },
    { "a.pdf .exe", 0, "a.pdf .exe", "exe", "pdf", 0 },
};

static void names_are_cleaned_and_split(void **state)
{
    (void) state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const name_case_t *c = &cases[i];
        aname_t a;
        aname_analyze(c->in, c->len ? c->len : strlen(c->in), &a);
        if (strcmp(a.name, c->clean) != 0)
            fail_msg("case %zu: clean \"%s\", want \"%s\"", i, a.name, c->clean);
        if (strcmp(aname_last_ext(&a), c->last) != 0)
            fail_msg("case %zu: last ext \"%s\", want \"%s\"", i, aname_last_ext(&a), c->last);
        if (a.flags != c->flags)
            fail_msg("case %zu: flags %#x, want %#x", i, a.flags, c->flags);
        if (c->any != NULL && !aname_has_ext(&a, c->any, false))
            fail_msg("case %zu: extension %s not found", i, c->any);
        if (c->last[0] && !aname_has_ext(&a, c->last, true))
            fail_msg("case %zu: last-only match of %s failed", i, c->last);
    }
}

static void last_only_ignores_inner_extensions(void **state)
{
    aname_t a;

    (void) state;
    aname_analyze("invoice.exe.pdf", 15, &a);
    assert_true(aname_has_ext(&a, "EXE", false));
    assert_false(aname_has_ext(&a, "exe", true));
    assert_true(aname_has_ext(&a, "pdf", true));
}

static void empty_and_null_names(void **state)
{
    aname_t a;

    (void) state;
    assert_int_equal(aname_analyze(NULL, 0, &a), -1);
    assert_int_equal(aname_analyze("", 0, &a), -1);
    assert_int_equal(aname_analyze(" . .", 4, &a), -1);
    assert_string_equal(a.name, "");
    assert_false(aname_has_ext(&a, "exe", false));
}

static void long_names_keep_the_last_extensions(void **state)
{
    char name[600];
    aname_t a;
    size_t n = 0;

    (void) state;
    for (int i = 0; i < 20; i++)
        n += (size_t) snprintf(name + n, sizeof(name) - n, "x.e%d", i);
    n += (size_t) snprintf(name + n, sizeof(name) - n, ".exe");
    aname_analyze(name, n, &a);
    assert_int_equal(a.next, ANAME_MAX_EXT);
    assert_string_equal(aname_last_ext(&a), "exe");

    memset(name, 'a', 400);
    memcpy(name + 396, ".exe", 4);
    aname_analyze(name, 400, &a);
    assert_true(a.flags & ANAME_TRUNCATED);
    assert_true(strlen(a.name) <= ANAME_MAX);
}

static void flags_are_named(void **state)
{
    char buf[64];

    (void) state;
    assert_string_equal(aname_flags_str(ANAME_BIDI | ANAME_CTRL, buf, sizeof(buf)), "bidi,ctrl");
    assert_string_equal(aname_flags_str(0, buf, sizeof(buf)), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_are_cleaned_and_split),
        cmocka_unit_test(last_only_ignores_inner_extensions),
        cmocka_unit_test(empty_and_null_names),
        cmocka_unit_test(long_names_keep_the_last_extensions),
        cmocka_unit_test(flags_are_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
