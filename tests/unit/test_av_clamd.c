/*
 * test_av_clamd.c - the INSTREAM exchange against a fake clamd on the
 * other end of a socketpair: the framing it receives, each kind of
 * reply, an early reply while chunks are still being sent, silence
 * until the deadline.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "avclamd.h"
#include "avspool.h"

typedef struct fake {
    int fd;
    const char *reply;          /* sent with its NUL; NULL: say nothing */
    bool early;                 /* answer after the command, read no more */
    /* what arrived */
    char cmd[16];
    unsigned char data[8192];
    size_t len;
    unsigned chunks;
    bool framing_ok;
} fake_t;

static bool read_n(int fd, void *buf, size_t n)
{
    unsigned char *p = buf;

    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r <= 0)
            return false;
        p += r;
        n -= (size_t) r;
    }
    return true;
}

static void *clamd(void *arg)
{
    fake_t *f = arg;
    unsigned char hdr[4];

    f->framing_ok = read_n(f->fd, f->cmd, 10);
    if (f->early) {
        if (write(f->fd, f->reply, strlen(f->reply) + 1) < 0)
            f->framing_ok = false;
        close(f->fd);
        return NULL;
    }
    while (f->framing_ok && read_n(f->fd, hdr, 4)) {
        uint32_t n = (uint32_t) hdr[0] << 24 | (uint32_t) hdr[1] << 16
                     | (uint32_t) hdr[2] << 8 | hdr[3];
        if (n == 0)
            break;
        if (n > sizeof(f->data) - f->len || !read_n(f->fd, f->data + f->len, n)) {
            f->framing_ok = false;
            break;
        }
        f->len += n;
        f->chunks++;
    }
    if (f->reply == NULL)
        sleep(1);
    else if (write(f->fd, f->reply, strlen(f->reply) + 1) < 0)
        f->framing_ok = false;
    close(f->fd);
    return NULL;
}

static avspool_t *spool_of(size_t n)
{
    char err[128];
    avspool_t *sp = avspool_new(1 << 20, 1 << 20, "/tmp", err, sizeof(err));

    for (size_t i = 0; i < n; i++)
        avspool_append(sp, (const char[]) { (char) ('A' + i % 26) }, 1, err, sizeof(err));
    return sp;
}

static void exchange(fake_t *f, avspool_t *sp, size_t chunk, long long timeout_ms,
                     avscan_result_t *r)
{
    int sv[2];
    pthread_t t;

    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    f->fd = sv[1];
    assert_int_equal(pthread_create(&t, NULL, clamd, f), 0);
    avclamd_instream(sv[0], sp, chunk, avclamd_now_ms() + timeout_ms, r);
    close(sv[0]);
    pthread_join(t, NULL);
}

static void message_arrives_in_chunks_and_clean_reply_is_clean(void **s)
{
    fake_t f = { .reply = "stream: OK" };
    avscan_result_t r;
    avspool_t *sp = spool_of(2500);

    (void) s;
    exchange(&f, sp, 1000, 5000, &r);
    assert_true(f.framing_ok);
    assert_memory_equal(f.cmd, "zINSTREAM", 10);
    assert_int_equal(f.chunks, 3);
    assert_int_equal(f.len, 2500);
    assert_int_equal(f.data[2499], 'A' + 2499 % 26);
    assert_int_equal(r.status, AVSCAN_CLEAN);
    avspool_free(sp);
}

static void found_reply_names_the_signature(void **s)
{
    fake_t f = { .reply = "stream: Win.Test.EICAR_HDB-1 FOUND" };
    avscan_result_t r;
    avspool_t *sp = spool_of(10);

    (void) s;
    exchange(&f, sp, 0, 5000, &r);
    assert_int_equal(r.status, AVSCAN_INFECTED);
    assert_string_equal(r.name, "Win.Test.EICAR_HDB-1");
    avspool_free(sp);
}

static void early_size_limit_reply_is_a_limit(void **s)
{
    fake_t f = { .reply = "INSTREAM size limit exceeded. ERROR", .early = true };
    avscan_result_t r;
    avspool_t *sp = spool_of(200000);

    (void) s;
    exchange(&f, sp, 4096, 5000, &r);
    assert_int_equal(r.status, AVSCAN_LIMIT);
    avspool_free(sp);
}

static void silence_ends_at_the_deadline(void **s)
{
    fake_t f = { .reply = NULL };
    avscan_result_t r;
    avspool_t *sp = spool_of(10);
    long long t0 = avclamd_now_ms();

    (void) s;
    exchange(&f, sp, 0, 200, &r);
    assert_int_equal(r.status, AVSCAN_ERROR);
    assert_non_null(strstr(r.reason, "timed out"));
    assert_true(avclamd_now_ms() - t0 < 1500);
    avspool_free(sp);
}

static const struct {
    const char *line;
    int rc;
    avscan_status_t st;
    const char *name;
} replies[] = {
    { "stream: OK", 0, AVSCAN_CLEAN, "" },
    { "stream: OK\n", 0, AVSCAN_CLEAN, "" },
    { "stream: Eicar-Signature FOUND", 0, AVSCAN_INFECTED, "Eicar-Signature" },
    { "stream: Heuristics.Limits.Exceeded.MaxScanSize FOUND", 0, AVSCAN_LIMIT,
      "Heuristics.Limits.Exceeded.MaxScanSize" },
    { "INSTREAM size limit exceeded. ERROR", 0, AVSCAN_LIMIT, "" },
    { "stream: Can't allocate memory ERROR", 0, AVSCAN_ERROR, "" },
    { "stream:  FOUND", -1, AVSCAN_ERROR, "" },
    { "", -1, AVSCAN_ERROR, "" },
    { "UNKNOWN COMMAND", -1, AVSCAN_ERROR, "" },
};

static void replies_are_parsed(void **s)
{
    avscan_result_t r;
    unsigned char h[4];

    (void) s;
    for (size_t i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
        assert_int_equal(avclamd_parse_reply(replies[i].line, strlen(replies[i].line), &r),
                         replies[i].rc);
        assert_int_equal(r.status, replies[i].st);
        if (replies[i].name[0] != '\0')
            assert_string_equal(r.name, replies[i].name);
    }
    avclamd_chunk_header(0x01020304, h);
    assert_memory_equal(h, "\x01\x02\x03\x04", 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(message_arrives_in_chunks_and_clean_reply_is_clean),
        cmocka_unit_test(found_reply_names_the_signature),
        cmocka_unit_test(early_size_limit_reply_is_a_limit),
        cmocka_unit_test(silence_ends_at_the_deadline),
        cmocka_unit_test(replies_are_parsed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
