/*
 * test_attach_awalk.c - the part walker on real MIME: file names with
 * RFC 2231 continuations and charsets and RFC 2047 words, part paths of
 * nested messages, true types, zip / encrypted zip / tar.gz listings,
 * broken and hostile MIME (no crash, defined flags), limits, and the
 * strip rewrite.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>
#include <glib.h>

#include "awalk.h"

static awalk_t *walker(unsigned max_items, unsigned max_depth)
{
    awalk_limits_t l = { max_items, max_depth, 3, 1 << 20, 10000 };
    char err[256];
    awalk_t *w = awalk_new(&l, err, sizeof(err));

    if (w == NULL)
        fail_msg("%s", err);
    return w;
}

static char *fixture(const char *name, size_t *len)
{
    char path[1024];
    FILE *f;
    char *buf;

    snprintf(path, sizeof(path), "%s/attach/%s", getenv("POSTERN_TEST_DATA"), name);
    f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    buf = malloc(1 << 20);
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

static const awalk_item_t *find(const awalk_result_t *r, const char *path)
{
    for (size_t i = 0; i < awalk_count(r); i++)
        if (strcmp(awalk_item(r, i)->path, path) == 0)
            return awalk_item(r, i);
    fail_msg("no part %s", path);
    return NULL;
}

/* The archive entry named NAME, wherever the format lists it. */
static const awalk_item_t *find_entry(const awalk_result_t *r, const char *name)
{
    for (size_t i = 0; i < awalk_count(r); i++)
        if (awalk_item(r, i)->entry && strcmp(awalk_item(r, i)->name, name) == 0)
            return awalk_item(r, i);
    fail_msg("no entry %s", name);
    return NULL;
}

static awalk_result_t *run(awalk_t *w, const char *msg)
{
    awalk_result_t *r = awalk_run(w, msg, strlen(msg));

    assert_non_null(r);
    return r;
}

#define MZ_B64 "TVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAgAAAAA0KLgpQRQAA"

static const char names_msg[] =
    "From: a@example.com\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
    "\r\n"
    "--b1\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "hello\r\n"
    "--b1\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Content-Disposition: attachment;\r\n"
    " filename*0*=iso-8859-1''r%E9sum%E9;\r\n"
    " filename*1=\".pdf\";\r\n"
    " filename*2*=%2Eexe\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    MZ_B64 "\r\n"
    "--b1\r\n"
    "Content-Type: application/pdf; name=\"=?UTF-8?B?0YHRh9C10YIucGRm?=\"\r\n"
    "Content-Disposition: attachment\r\n"
    "\r\n"
    "%PDF-1.4\r\n"
    "--b1\r\n"
    "Content-Type: application/pdf; name=\"=?utf-8?Q?invoice=E2=80=AEfdp.exe?=\"\r\n"
    "Content-Disposition: attachment; filename=\"harmless.txt\"\r\n"
    "\r\n"
    "x\r\n"
    "--b1--\r\n";

static void file_names_are_decoded(void **state)
{
    awalk_t *w = walker(100, 20);
    awalk_result_t *r = run(w, names_msg);

    (void) state;
    assert_int_equal(awalk_count(r), 4);
    /* RFC 2231: charset ISO-8859-1, three continuations, mixed encoded/plain. */
    assert_string_equal(find(r, "2")->name, "r\xC3\xA9sum\xC3\xA9.pdf.exe");
    assert_true(find(r, "2")->attachment);
    assert_string_equal(find(r, "2")->declared, "application/octet-stream");
    assert_non_null(strstr(find(r, "2")->true_type, "application/"));
    /* RFC 2047 base64 UTF-8 in the Content-Type name. */
    assert_string_equal(find(r, "3")->name, "\xD1\x81\xD1\x87\xD0\xB5\xD1\x82.pdf");
    /* The filename and a different Content-Type name are both kept. */
    assert_string_equal(find(r, "4")->name, "harmless.txt");
    assert_string_equal(find(r, "4")->altname, "invoice\xE2\x80\xAE" "fdp.exe");
    assert_string_equal(find(r, "1")->name, "");
    assert_false(find(r, "1")->attachment);
    assert_int_equal(find(r, "1")->size, 5);       /* the CRLF before "--b1" is the boundary's */
    assert_int_equal(awalk_flags(r) & (AWALK_SUSPECT | AWALK_LIMIT), 0);
    awalk_result_free(r);
    awalk_free(w);
}

static const char nested_msg[] =
    "From: a@example.com\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
    "\r\n"
    "--outer\r\n"
    "Content-Type: multipart/alternative; boundary=\"alt\"\r\n"
    "\r\n"
    "--alt\r\n"
    "Content-Type: text/plain\r\n\r\nplain\r\n"
    "--alt\r\n"
    "Content-Type: text/html\r\n\r\n<p>html</p>\r\n"
    "--alt--\r\n"
    "--outer\r\n"
    "Content-Type: message/rfc822\r\n"
    "\r\n"
    "From: b@example.org\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"inner\"\r\n"
    "\r\n"
    "--inner\r\n"
    "Content-Type: text/plain\r\n\r\nforwarded\r\n"
    "--inner\r\n"
    "Content-Type: application/x-msdownload; name=\"tool.exe\"\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\n"
    MZ_B64 "\r\n"
    "--inner--\r\n"
    "--outer--\r\n";

static void nested_parts_get_imap_paths(void **state)
{
    awalk_t *w = walker(100, 20);
    awalk_result_t *r = run(w, nested_msg);

    (void) state;
    assert_int_equal(awalk_count(r), 5);
    assert_string_equal(find(r, "1.1")->declared, "text/plain");
    assert_string_equal(find(r, "1.2")->declared, "text/html");
    assert_string_equal(find(r, "2")->declared, "message/rfc822");
    assert_string_equal(find(r, "2.1")->declared, "text/plain");
    assert_string_equal(find(r, "2.2")->name, "tool.exe");
    awalk_result_free(r);
    awalk_free(w);
}

static void nesting_beyond_the_limit_is_flagged(void **state)
{
    awalk_t *w = walker(100, 2);
    awalk_result_t *r = run(w, nested_msg);

    (void) state;
    assert_true(awalk_flags(r) & AWALK_LIMIT);
    awalk_result_free(r);
    awalk_free(w);
}

static void archives_are_listed(void **state)
{
    awalk_t *w = walker(100, 20);
    size_t len;
    char *msg = fixture("zip_exe.eml", &len);
    awalk_result_t *r = awalk_run(w, msg, len);

    (void) state;
    assert_non_null(r);
    const awalk_item_t *zip = find(r, "2");
    assert_string_equal(zip->name, "files.zip");
    assert_string_equal(zip->true_type, "application/zip");
    assert_true(zip->archive);
    assert_false(zip->encrypted);
    assert_string_equal(find(r, "2/1")->name, "a/evil.exe");
    assert_int_equal(find(r, "2/1")->depth, 1);
    assert_true(find(r, "2/1")->entry);
    assert_int_equal(find(r, "2/1")->part, 1);
    assert_non_null(strstr(find(r, "2/1")->true_type, "executable"));
    assert_string_equal(find(r, "2/2")->true_type, "text/plain");
    assert_true(find(r, "2/3")->archive);
    assert_string_equal(find(r, "2/3/1")->name, "deep.scr");
    assert_int_equal(find(r, "2/3/1")->depth, 2);
    awalk_result_free(r);
    free(msg);

    msg = fixture("enc_zip.eml", &len);
    r = awalk_run(w, msg, len);
    assert_true(find(r, "2")->encrypted);
    assert_true(find(r, "2/1")->encrypted);
    assert_string_equal(find(r, "2/1")->name, "s.txt");
    awalk_result_free(r);
    free(msg);

    msg = fixture("tgz_exe.eml", &len);
    r = awalk_run(w, msg, len);
    assert_true(find(r, "2")->archive);
    assert_string_equal(find(r, "2/1")->name, "bin/run.exe");
    assert_non_null(strstr(find(r, "2/1")->true_type, "executable"));
    awalk_result_free(r);
    free(msg);

    /* 7-Zip and ISO 9660 (Rock Ridge names), written by bsdtar. */
    static const char *const other[] = { "7z_exe.eml", "iso_exe.eml" };
    for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
        msg = fixture(other[i], &len);
        r = awalk_run(w, msg, len);
        assert_non_null(r);
        assert_true(find(r, "2")->archive);
        const awalk_item_t *exe = find_entry(r, "bin/run.exe");
        assert_non_null(strstr(exe->true_type, "executable"));
        assert_string_equal(find_entry(r, "readme.txt")->true_type, "text/plain");
        awalk_result_free(r);
        free(msg);
    }
    awalk_free(w);
}

static void archive_depth_limit_is_flagged(void **state)
{
    awalk_limits_t l = { 100, 20, 1, 1 << 20, 10000 };
    char err[256];
    awalk_t *w = awalk_new(&l, err, sizeof(err));
    size_t len;
    char *msg = fixture("zip_exe.eml", &len);
    awalk_result_t *r = awalk_run(w, msg, len);

    (void) state;
    assert_true(awalk_flags(r) & AWALK_LIMIT);
    for (size_t i = 0; i < awalk_count(r); i++)
        assert_true(awalk_item(r, i)->depth <= 1);
    awalk_result_free(r);
    free(msg);
    awalk_free(w);
}

/* Builds a multipart with N parts. Caller frees. */
static char *many_parts(int n)
{
    size_t cap = 200 + (size_t) n * 200, o = 0;
    char *m = malloc(cap);

    o += (size_t) snprintf(m + o, cap - o, "From: a@b\r\nMIME-Version: 1.0\r\n"
                           "Content-Type: multipart/mixed; boundary=\"z\"\r\n\r\n");
    for (int i = 0; i < n; i++)
        o += (size_t) snprintf(m + o, cap - o, "--z\r\nContent-Type: text/plain; name=\"f%d.txt\""
                               "\r\n\r\npart %d\r\n", i, i);
    snprintf(m + o, cap - o, "--z--\r\n");
    return m;
}

static void hundred_parts_and_the_item_limit(void **state)
{
    awalk_t *w = walker(150, 20);
    char *m = many_parts(100);
    awalk_result_t *r = run(w, m);

    (void) state;
    assert_int_equal(awalk_count(r), 100);
    assert_string_equal(find(r, "100")->name, "f99.txt");
    assert_int_equal(awalk_flags(r) & AWALK_LIMIT, 0);
    awalk_result_free(r);
    awalk_free(w);
    w = walker(50, 20);
    r = run(w, m);
    assert_int_equal(awalk_count(r), 50);
    assert_true(awalk_flags(r) & AWALK_LIMIT);
    awalk_result_free(r);
    awalk_free(w);
    free(m);
}

static void broken_mime_has_a_defined_outcome(void **state)
{
    static const char *const msgs[] = {
        /* multipart without boundary */
        "Content-Type: multipart/mixed\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n",
        /* no closing boundary */
        "Content-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\nContent-Type: text/plain\r\n\r\nhi",
        /* bad base64 */
        ("Content-Type: application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
         "!!!!====****\r\n"),
        /* two conflicting Content-Type fields */
        "Content-Type: text/plain\r\nContent-Type: application/x-msdownload; name=x.exe\r\n\r\nMZ",
        /* no header at all */
        "\r\n\r\n",
        "",
        /* a header line without a colon */
        "this is not a header\r\n\r\nbody\r\n",
        /* bad RFC 2231 */
        "Content-Type: application/pdf; name*0*=bogus'%ZZ%; name*5=x\r\n\r\nx",
    };
    awalk_t *w = walker(100, 20);

    (void) state;
    for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
        awalk_result_t *r = awalk_run(w, msgs[i], strlen(msgs[i]));
        assert_non_null(r);
        for (size_t k = 0; k < awalk_count(r); k++)
            assert_true(strlen(awalk_item(r, k)->path) > 0);
        awalk_result_free(r);
    }
    awalk_result_t *r = run(w, msgs[0]);
    assert_true(awalk_flags(r) & AWALK_SUSPECT);
    assert_true(awalk_warning(r)[0] != '\0');
    awalk_result_free(r);
    awalk_free(w);
}

static void absurd_nesting_and_long_headers_do_not_crash(void **state)
{
    size_t cap = 12 << 20, o = 0;
    char *m = malloc(cap);
    awalk_t *w = walker(1000, 50);

    (void) state;
    for (int i = 0; i < 20000 && o + 200 < cap; i++)
        o += (size_t) snprintf(m + o, cap - o,
                               "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n",
                               i, i);
    o += (size_t) snprintf(m + o, cap - o, "Content-Type: text/plain\r\n\r\nx\r\n");
    awalk_result_t *r = awalk_run(w, m, o);
    assert_non_null(r);
    assert_true(awalk_flags(r) & (AWALK_LIMIT | AWALK_SUSPECT));
    awalk_result_free(r);

    /* A 4 MB header line (Postfix cuts headers at 100 kB; Sendmail may not). */
    o = (size_t) snprintf(m, cap, "Subject: ");
    memset(m + o, 'a', 4 << 20);
    o += 4 << 20;
    o += (size_t) snprintf(m + o, cap - o, "\r\nContent-Type: text/plain\r\n\r\nx\r\n");
    r = awalk_run(w, m, o);
    assert_non_null(r);
    /* Either parsed, or stopped by the time limit (slow sanitizer builds). */
    if (awalk_count(r) != 1 && !(awalk_flags(r) & AWALK_LIMIT))
        fail_msg("long header: %zu parts, flags %#x (%s)", awalk_count(r), awalk_flags(r),
                 awalk_warning(r));
    awalk_result_free(r);
    free(m);
    awalk_free(w);
}

static void strip_replaces_one_part_and_keeps_the_rest(void **state)
{
    awalk_t *w = walker(100, 20);
    awalk_result_t *r = run(w, nested_msg);
    size_t idx[] = { 4 };                       /* 2.2, tool.exe */
    const char *notes[] = { "tool.exe was removed" };
    char *body, err[256];
    size_t len;
    bool root;

    (void) state;
    assert_string_equal(awalk_item(r, 4)->path, "2.2");
    assert_int_equal(awalk_strip(r, idx, notes, 1, &body, &len, &root, err, sizeof(err)), 0);
    assert_false(root);
    /* Same boundaries, the other parts intact, the notice in place. */
    assert_non_null(memmem(body, len, "--outer\r\n", 9));
    assert_non_null(memmem(body, len, "--outer--", 9));
    assert_non_null(memmem(body, len, "--inner--", 9));
    assert_non_null(memmem(body, len, "<p>html</p>", 11));
    assert_non_null(memmem(body, len, "forwarded", 9));
    assert_non_null(memmem(body, len, "tool.exe was removed", 20));
    assert_null(memmem(body, len, MZ_B64, 20));
    /* Only once. */
    char *again;
    size_t againlen;
    assert_int_equal(awalk_strip(r, idx, notes, 1, &again, &againlen, &root, err, sizeof(err)),
                     -1);

    /* Header + new body parse again to the same shape. */
    const char hdr[] = "From: a@example.com\r\nMIME-Version: 1.0\r\n"
                       "Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n";
    size_t blen = len;
    char *whole = malloc(sizeof(hdr) + blen);
    memcpy(whole, hdr, sizeof(hdr) - 1);
    memcpy(whole + sizeof(hdr) - 1, body, blen);
    awalk_result_t *r2 = awalk_run(w, whole, sizeof(hdr) - 1 + blen);
    assert_int_equal(awalk_count(r2), 5);
    assert_string_equal(find(r2, "2.2")->declared, "text/plain");
    assert_string_equal(find(r2, "1.2")->declared, "text/html");
    awalk_result_free(r2);
    free(whole);
    free(body);
    awalk_result_free(r);
    awalk_free(w);
}

static void strip_of_a_single_part_message_replaces_the_root(void **state)
{
    const char msg[] = "From: a@b\r\nContent-Type: application/x-msdownload; name=\"x.exe\"\r\n"
                       "Content-Transfer-Encoding: base64\r\n\r\n" MZ_B64 "\r\n";
    awalk_t *w = walker(100, 20);
    awalk_result_t *r = run(w, msg);
    size_t idx[] = { 0 };
    const char *notes[] = { "gone" };
    char *body, err[256];
    size_t len;
    bool root;

    (void) state;
    assert_int_equal(awalk_strip(r, idx, notes, 1, &body, &len, &root, err, sizeof(err)), 0);
    assert_true(root);
    assert_non_null(memmem(body, len, "gone", 4));
    free(body);
    awalk_result_free(r);
    awalk_free(w);
}

static void message_text_keeps_its_declared_type(void **state)
{
    const char msg[] =
        "Content-Type: multipart/mixed; boundary=\"t\"\r\n\r\n"
        "--t\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        MZ_B64 "\r\n"
        "--t\r\nContent-Type: text/plain; name=\"a.txt\"\r\nContent-Transfer-Encoding: base64"
        "\r\n\r\n" MZ_B64 "\r\n"
        "--t\r\nContent-Type: text/plain\r\nContent-Disposition: attachment\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n" MZ_B64 "\r\n--t--\r\n";
    awalk_t *w = walker(100, 20);
    awalk_result_t *r = run(w, msg);

    (void) state;
    assert_string_equal(find(r, "1")->true_type, "text/plain");
    /* A file, by name or disposition: libmagic says what it is. */
    assert_string_not_equal(find(r, "2")->true_type, "text/plain");
    assert_string_not_equal(find(r, "3")->true_type, "text/plain");
    awalk_result_free(r);
    awalk_free(w);
}

/* A message with one attachment of DATA encoded as ENC ("base64",
 * "quoted-printable" or "7bit"); caller frees. */
static char *one_attachment(const unsigned char *data, size_t len, const char *enc,
                            const char *ctype)
{
    GString *m = g_string_new(NULL);

    g_string_append_printf(m, "Content-Type: multipart/mixed; boundary=\"s\"\r\n\r\n"
                           "--s\r\nContent-Type: %s; name=\"f.bin\"\r\n"
                           "Content-Transfer-Encoding: %s\r\n\r\n", ctype, enc);
    if (strcmp(enc, "base64") == 0) {
        gchar *b = g_base64_encode(data, len);
        for (size_t k = 0, n = strlen(b); k < n; k += 76)
            g_string_append_printf(m, "%.76s\r\n", b + k);
        g_free(b);
    } else {
        /* 7bit: one enormous line, as the content has no line break */
        for (size_t k = 0; k < len; k++) {
            if (k % 70 == 69 && strcmp(enc, "7bit") != 0)
                g_string_append(m, "=\r\n");
            g_string_append_c(m, (char) data[k]);
        }
        g_string_append(m, "\r\n");
    }
    g_string_append(m, "--s--\r\n");
    return g_string_free(m, FALSE);
}

/* Parts beyond the bytes libmagic is shown are counted, not kept: the
 * sizes must still be the exact decoded sizes, padding and all. */
static void large_parts_are_sized_exactly(void **state)
{
    static const size_t sizes[] = { ACONTENT_MAGIC_BYTES - 1, ACONTENT_MAGIC_BYTES,
                                    ACONTENT_MAGIC_BYTES + 1, ACONTENT_MAGIC_BYTES + 2,
                                    ACONTENT_MAGIC_BYTES + 3, 3 * ACONTENT_MAGIC_BYTES + 7 };
    static const char *const encs[] = { "base64", "quoted-printable", "7bit" };
    size_t max = sizes[sizeof(sizes) / sizeof(sizes[0]) - 1];
    unsigned char *data = malloc(max);
    awalk_t *w = walker(100, 20);

    (void) state;
    memcpy(data, "%PDF-1.4\n", 9);
    for (size_t k = 9; k < max; k++)
        data[k] = (unsigned char) ('a' + k % 23);
    for (size_t e = 0; e < 3; e++)
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
            char *m = one_attachment(data, sizes[i], encs[e], "application/pdf");
            awalk_result_t *r = run(w, m);
            const awalk_item_t *it = find(r, "1");
            if (it->size != sizes[i])
                fail_msg("%s %zu bytes: size %llu", encs[e], sizes[i],
                         (unsigned long long) it->size);
            assert_string_equal(it->true_type, "application/pdf");
            awalk_result_free(r);
            free(m);
        }
    free(data);
    awalk_free(w);
}

/* An archive larger than the typed head is read whole to be listed. */
static void large_archives_are_read_whole(void **state)
{
    size_t cap = 2 << 20, used = 0, big = 600 * 1024;
    unsigned char *zip = malloc(cap), *noise = malloc(big);
    struct archive *a = archive_write_new();
    struct archive_entry *e = archive_entry_new();
    awalk_t *w = walker(100, 20);

    (void) state;
    uint32_t x = 2463534242u;
    for (size_t k = 0; k < big; k++) {      /* xorshift: does not compress */
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        noise[k] = (unsigned char) x;
    }
    archive_write_set_format_zip(a);
    archive_write_open_memory(a, zip, cap, &used);
    const char *names[] = { "a/noise.bin", "tools/setup.exe" };
    for (int i = 0; i < 2; i++) {
        archive_entry_clear(e);
        archive_entry_set_pathname(e, names[i]);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, i == 0 ? (la_int64_t) big : 5);
        archive_write_header(a, e);
        archive_write_data(a, i == 0 ? (const void *) noise : "hello", i == 0 ? big : 5);
    }
    archive_write_close(a);
    archive_write_free(a);
    archive_entry_free(e);

    char *m = one_attachment(zip, used, "base64", "application/zip");
    awalk_result_t *r = run(w, m);
    assert_true(used > ACONTENT_MAGIC_BYTES);
    assert_int_equal(find(r, "1")->size, used);
    assert_true(find(r, "1")->archive);
    assert_string_equal(find(r, "1/2")->name, "tools/setup.exe");
    assert_int_equal(find(r, "1/1")->size, big);
    awalk_result_free(r);
    awalk_free(w);
    free(m);
    free(zip);
    free(noise);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(file_names_are_decoded),
        cmocka_unit_test(nested_parts_get_imap_paths),
        cmocka_unit_test(nesting_beyond_the_limit_is_flagged),
        cmocka_unit_test(archives_are_listed),
        cmocka_unit_test(archive_depth_limit_is_flagged),
        cmocka_unit_test(hundred_parts_and_the_item_limit),
        cmocka_unit_test(broken_mime_has_a_defined_outcome),
        cmocka_unit_test(absurd_nesting_and_long_headers_do_not_crash),
        cmocka_unit_test(strip_replaces_one_part_and_keeps_the_rest),
        cmocka_unit_test(strip_of_a_single_part_message_replaces_the_root),
        cmocka_unit_test(message_text_keeps_its_declared_type),
        cmocka_unit_test(large_parts_are_sized_exactly),
        cmocka_unit_test(large_archives_are_read_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
