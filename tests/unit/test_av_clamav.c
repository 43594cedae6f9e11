/*
 * test_av_clamav.c - the libclamav back end with a signature database
 * the test writes: a body pattern (.ndb) and an MD5 (.hdb) are found in
 * a plain message, in a base64 MIME part and in an attached message;
 * clean mail is clean; a changed database is picked up beside the old
 * engine; no database refuses to start unless told to pass mail.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "avscan.h"
#include "avspool.h"

#define PAYLOAD "postern-av unit test payload 7f3c9a"
#define PAYLOAD2 "postern-av second payload b81e44"

static char dbdir[64];

static void hex(const char *s, char *out)
{
    for (; *s; s++, out += 2)
        sprintf(out, "%02x", (unsigned char) *s);
    *out = '\0';
}

static void write_file(const char *name, const char *text)
{
    char path[128], tmp[140];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dbdir, name);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    /* Replaced by rename, the way freshclam does. */
    assert_int_equal(rename(tmp, path), 0);
}

static void write_ndb(const char *sig, const char *payload)
{
    char h[256], line[400];

    hex(payload, h);
    snprintf(line, sizeof(line), "%s:0:*:%s\n", sig, h);
    write_file("test.ndb", line);
}

static int setup(void **s)
{
    (void) s;
    snprintf(dbdir, sizeof(dbdir), "/tmp/test_av_clamav.XXXXXX");
    assert_non_null(mkdtemp(dbdir));
    write_ndb("Postern.Test.Pattern", PAYLOAD);
    return 0;
}

static int teardown(void **s)
{
    char cmd[128];

    (void) s;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dbdir);
    return system(cmd) == 0 ? 0 : -1;
}

static avscan_t *engine(bool allow_no_db, char *err, size_t errlen)
{
    avscan_clamav_opts_t o = {
        .dbdir = dbdir, .allow_no_db = allow_no_db, .check_ms = 0, .max_scans = 2,
        .max_scansize = 100 << 20, .max_filesize = 25 << 20,
        .max_recursion = 16, .max_files = 1000,
    };
    return avscan_clamav_new(&o, err, errlen);
}

static avscan_status_t scan_text(avscan_t *s, const char *msg, size_t mem_max,
                                 avscan_result_t *r)
{
    char err[256];
    avspool_t *sp = avspool_new(mem_max, 1 << 20, "/tmp", err, sizeof(err));

    assert_non_null(sp);
    assert_int_equal(avspool_append(sp, msg, strlen(msg), err, sizeof(err)), 0);
    s->ops->scan(s, sp, r);
    avspool_free(sp);
    return r->status;
}

static void base64(const char *in, char *out, size_t outlen)
{
    assert_true(outlen > 4 * strlen(in) / 3 + 4);
    EVP_EncodeBlock((unsigned char *) out, (const unsigned char *) in, (int) strlen(in));
}

static const char head[] =
    "Received: from client.example.net (localhost [127.0.0.1])\r\n"
    "From: alice@example.net\r\nTo: bob@example.org\r\nSubject: test\r\n";

static void plain_pattern_is_found_in_memory_and_in_a_file(void **s)
{
    char err[256], msg[1024];
    avscan_result_t r;
    avscan_t *sc = engine(false, err, sizeof(err));

    (void) s;
    assert_non_null(sc);
    snprintf(msg, sizeof(msg), "%s\r\nhello\r\n%s\r\nbye\r\n", head, PAYLOAD);
    assert_int_equal(scan_text(sc, msg, 1 << 20, &r), AVSCAN_INFECTED);
    assert_string_equal(r.name, "Postern.Test.Pattern.UNOFFICIAL");
    /* The same message spilled to a temporary file. */
    assert_int_equal(scan_text(sc, msg, 0, &r), AVSCAN_INFECTED);
    snprintf(msg, sizeof(msg), "%s\r\nnothing to see here\r\n", head);
    assert_int_equal(scan_text(sc, msg, 1 << 20, &r), AVSCAN_CLEAN);
    sc->ops->free(sc);
}

static void base64_part_and_attached_message_are_decoded(void **s)
{
    char err[256], b64[256], msg[4096];
    avscan_result_t r;
    avscan_t *sc = engine(false, err, sizeof(err));

    (void) s;
    assert_non_null(sc);
    base64(PAYLOAD, b64, sizeof(b64));
    snprintf(msg, sizeof(msg),
             "%sMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"BB\"\r\n\r\n"
             "--BB\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n"
             "--BB\r\nContent-Type: application/octet-stream\r\n"
             "Content-Transfer-Encoding: base64\r\n"
             "Content-Disposition: attachment; filename=\"x.bin\"\r\n\r\n%s\r\n--BB--\r\n",
             head, b64);
    assert_null(strstr(msg, PAYLOAD));
    assert_int_equal(scan_text(sc, msg, 1 << 20, &r), AVSCAN_INFECTED);
    assert_string_equal(r.name, "Postern.Test.Pattern.UNOFFICIAL");
    snprintf(msg, sizeof(msg),
             "%sMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"OUT\"\r\n\r\n"
             "--OUT\r\nContent-Type: text/plain\r\n\r\nforwarded\r\n"
             "--OUT\r\nContent-Type: message/rfc822\r\n\r\n"
             "From: carol@example.com\r\nSubject: inner\r\nMIME-Version: 1.0\r\n"
             "Content-Type: multipart/mixed; boundary=\"IN\"\r\n\r\n"
             "--IN\r\nContent-Type: application/octet-stream\r\n"
             "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--IN--\r\n--OUT--\r\n",
             head, b64);
    assert_int_equal(scan_text(sc, msg, 1 << 20, &r), AVSCAN_INFECTED);
    sc->ops->free(sc);
}

static void changed_database_is_swapped_in_and_old_scans_finish(void **s)
{
    char err[256], msg[1024];
    avscan_result_t r;
    avscan_t *sc = engine(false, err, sizeof(err));

    (void) s;
    assert_non_null(sc);
    snprintf(msg, sizeof(msg), "%s\r\n%s\r\n", head, PAYLOAD2);
    assert_int_equal(scan_text(sc, msg, 1 << 20, &r), AVSCAN_CLEAN);
    assert_int_equal(avscan_clamav_check(sc, err, sizeof(err)), 0);   /* unchanged */
    write_ndb("Postern.Test.Second", PAYLOAD2);
    assert_int_equal(avscan_clamav_check(sc, err, sizeof(err)), 1);
    assert_int_equal(scan_text(sc, msg, 1 << 20, &r), AVSCAN_INFECTED);
    assert_string_equal(r.name, "Postern.Test.Second.UNOFFICIAL");
    /* A broken database keeps the engine that works. */
    write_file("test.ndb", "this is not a signature\n");
    assert_int_equal(avscan_clamav_check(sc, err, sizeof(err)), -1);
    assert_true(strlen(err) > 0);
    assert_int_equal(scan_text(sc, msg, 1 << 20, &r), AVSCAN_INFECTED);
    assert_int_equal(avscan_clamav_check(sc, err, sizeof(err)), 0);    /* not retried */
    write_ndb("Postern.Test.Pattern", PAYLOAD);
    sc->ops->free(sc);
}

static void no_database_refuses_unless_passing(void **s)
{
    char err[256], msg[256], path[128];
    avscan_result_t r;
    avscan_t *sc;

    (void) s;
    snprintf(path, sizeof(path), "%s/test.ndb", dbdir);
    assert_int_equal(unlink(path), 0);
    assert_null(engine(false, err, sizeof(err)));
    assert_non_null(strstr(err, "no usable virus database"));
    sc = engine(true, err, sizeof(err));
    assert_non_null(sc);
    snprintf(msg, sizeof(msg), "%s\r\n%s\r\n", head, PAYLOAD);
    assert_int_equal(scan_text(sc, msg, 1 << 20, &r), AVSCAN_UNSCANNED);
    /* A database that appears later is loaded. */
    write_ndb("Postern.Test.Pattern", PAYLOAD);
    assert_int_equal(avscan_clamav_check(sc, err, sizeof(err)), 1);
    assert_int_equal(scan_text(sc, msg, 1 << 20, &r), AVSCAN_INFECTED);
    sc->ops->free(sc);
}

static void md5_signature_matches_an_attachment(void **s)
{
    char err[256], b64[256], msg[2048], line[128], md5hex[33];
    unsigned char md[16];
    unsigned mdlen = 0;
    avscan_result_t r;
    avscan_t *sc;

    (void) s;
    EVP_Digest(PAYLOAD2, strlen(PAYLOAD2), md, &mdlen, EVP_md5(), NULL);
    for (int i = 0; i < 16; i++)
        sprintf(md5hex + 2 * i, "%02x", md[i]);
    snprintf(line, sizeof(line), "%s:%zu:Postern.Test.Hash\n", md5hex, strlen(PAYLOAD2));
    write_file("test.hdb", line);
    sc = engine(false, err, sizeof(err));
    assert_non_null(sc);
    base64(PAYLOAD2, b64, sizeof(b64));
    snprintf(msg, sizeof(msg),
             "%sMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"BB\"\r\n\r\n"
             "--BB\r\nContent-Type: application/octet-stream\r\n"
             "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--BB--\r\n", head, b64);
    assert_int_equal(scan_text(sc, msg, 1 << 20, &r), AVSCAN_INFECTED);
    assert_string_equal(r.name, "Postern.Test.Hash.UNOFFICIAL");
    sc->ops->free(sc);
    snprintf(line, sizeof(line), "%s/test.hdb", dbdir);
    unlink(line);
}

typedef struct worker {
    avscan_t *sc;
    int infected, clean;
} worker_t;

static void *scan_many(void *arg)
{
    worker_t *w = arg;
    char msg[1024];
    avscan_result_t r;

    for (int i = 0; i < 20; i++) {
        snprintf(msg, sizeof(msg), "%s\r\n%d\r\n%s\r\n", head, i, i % 2 ? PAYLOAD : "x");
        if (scan_text(w->sc, msg, i % 3 ? 1 << 20 : 0, &r) == AVSCAN_INFECTED)
            w->infected++;
        else if (r.status == AVSCAN_CLEAN)
            w->clean++;
    }
    return NULL;
}

/* More threads than scan slots: each waits its turn, none gets a wrong
 * verdict, and the engine swap in the middle does not disturb them. */
static void concurrent_scans_share_the_engine_and_the_slots(void **s)
{
    char err[256];
    avscan_t *sc = engine(false, err, sizeof(err));
    pthread_t t[8];
    worker_t w[8];

    (void) s;
    assert_non_null(sc);
    for (int i = 0; i < 8; i++) {
        w[i] = (worker_t) { .sc = sc };
        assert_int_equal(pthread_create(&t[i], NULL, scan_many, &w[i]), 0);
    }
    write_ndb("Postern.Test.Pattern", PAYLOAD);     /* same signature, new engine */
    assert_int_equal(avscan_clamav_check(sc, err, sizeof(err)), 1);
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].infected, 10);
        assert_int_equal(w[i].clean, 10);
    }
    sc->ops->free(sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_pattern_is_found_in_memory_and_in_a_file),
        cmocka_unit_test(base64_part_and_attached_message_are_decoded),
        cmocka_unit_test(md5_signature_matches_an_attachment),
        cmocka_unit_test(concurrent_scans_share_the_engine_and_the_slots),
        cmocka_unit_test(changed_database_is_swapped_in_and_old_scans_finish),
        cmocka_unit_test(no_database_refuses_unless_passing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
