/*
 * test_mproto.c - unit tests of the milter-load protocol codec: exact
 * bytes of the commands we send, and the decoder and checks that stand
 * between milter-load and an untrusted reply stream.
 *
 * The codec lives in bench/ and the unit-test build links only
 * postern_common, so its one source file is compiled in here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>

#include "mproto.h"

/* Raw bytes of a packet or stream under test. */
typedef struct {
    const char *bytes;
    size_t len;
} raw_t;

/* A reply packet, whether it is well formed, and how it renders. */
typedef struct {
    char cmd;
    const char *data;
    size_t len;
    int ok;
    const char *want;
} reply_case_t;

static int put_optneg(mproto_buf_t *b)
{
    return mproto_put_optneg(b, 6, 0x1ff, 0x1fffff);
}

static int put_connect_inet(mproto_buf_t *b)
{
    return mproto_put_connect(b, "h", SMFIA_INET, 25, "1.2.3.4");
}

static int put_connect_unknown(mproto_buf_t *b)
{
    return mproto_put_connect(b, "h", SMFIA_UNKNOWN, 0, NULL);
}

static int put_macros(mproto_buf_t *b)
{
    const char *nv[] = {"i", "Q1", "{auth_authen}", ""};
    return mproto_put_macros(b, SMFIC_MAIL, nv, 2);
}

static int put_header_and_eoh(mproto_buf_t *b)
{
    const char *hv[] = {"Subject", "hi"};
    if (mproto_put_strs(b, SMFIC_HEADER, hv, 2) < 0)
        return -1;
    return mproto_put(b, SMFIC_EOH, NULL, 0);
}

/* Exact bytes on the wire: 4-byte big-endian length, command, data. */
static void commands_encode_to_the_exact_wire_bytes(void **state)
{
    (void)state;
    static const struct {
        int (*put)(mproto_buf_t *);
        const char *want;
        size_t len;
    } cases[] = {
        {put_optneg, "\0\0\0\x0dO\0\0\0\x06\0\0\x01\xff\0\x1f\xff\xff", 17},
        {put_connect_inet, "\0\0\0\x0e" "Ch\0" "4\0\x19" "1.2.3.4\0", 18},
        {put_connect_unknown, "\0\0\0\x04" "Ch\0U", 8},
        {put_macros, "\0\0\0\x16" "DM" "i\0Q1\0{auth_authen}\0\0", 26},
        {put_header_and_eoh, "\0\0\0\x0c" "LSubject\0hi\0" "\0\0\0\x01N", 21},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mproto_buf_t b;
        mproto_buf_init(&b);
        assert_int_equal(cases[i].put(&b), 0);
        assert_int_equal(b.len, cases[i].len);
        assert_memory_equal(b.data, cases[i].want, cases[i].len);
        mproto_buf_free(&b);
    }
}

static void oversized_packet_is_refused_and_buffer_unchanged(void **state)
{
    (void)state;
    mproto_buf_t b;
    mproto_buf_init(&b);
    static unsigned char big[MPROTO_MAX_PACKET];
    assert_int_equal(mproto_put(&b, SMFIC_BODY, big, sizeof big), -1);
    assert_int_equal(b.len, 0);
    mproto_buf_free(&b);
}

static void decoder_reassembles_packets_fed_byte_by_byte(void **state)
{
    (void)state;
    static const unsigned char s[] =
        "\0\0\0\x01" "c" "\0\0\0\x0b" "hX-A\0value\0" "\0\0\0\x01" "a";
    char err[128];
    mproto_dec_t *d = mproto_dec_new(MPROTO_MAX_PACKET);
    mproto_pkt_t pkt;
    char got[4] = {0};
    size_t ngot = 0;
    for (size_t i = 0; i < sizeof s - 1; i++) {
        assert_int_equal(mproto_dec_feed(d, s + i, 1, err, sizeof err), 0);
        int r;
        while ((r = mproto_dec_next(d, &pkt, err, sizeof err)) == 1) {
            assert_true(ngot < 3);
            got[ngot++] = pkt.cmd;
            assert_int_equal(mproto_reply_check(&pkt, err, sizeof err), 0);
        }
        assert_int_equal(r, 0);
    }
    assert_string_equal(got, "cha");
    mproto_dec_free(d);
}

static void decoder_rejects_zero_and_oversized_lengths(void **state)
{
    (void)state;
    static const raw_t bad[] = {
        {"\0\0\0\0", 4},
        {"\0\x10\0\x01" "c", 5},
        {"\xff\xff\xff\xff", 4},
    };
    char err[128];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mproto_dec_t *d = mproto_dec_new(4096);
        mproto_pkt_t pkt;
        assert_int_equal(mproto_dec_feed(d, bad[i].bytes, bad[i].len, err,
                                         sizeof err), 0);
        err[0] = '\0';
        assert_int_equal(mproto_dec_next(d, &pkt, err, sizeof err), -1);
        assert_non_null(strstr(err, "length"));
        mproto_dec_free(d);
    }
}

static void reply_shapes_are_checked_per_command(void **state)
{
    (void)state;
    static const reply_case_t cases[] = {
        {SMFIR_ACCEPT, "", 0, 1, NULL},
        {SMFIR_ACCEPT, "x", 1, 0, NULL},
        {SMFIR_CONTINUE, "", 0, 1, NULL},
        {SMFIR_REPLYCODE, "550 5.7.1 no\0", 13, 1, NULL},
        {SMFIR_REPLYCODE, "250 ok\0", 7, 0, NULL},
        {SMFIR_REPLYCODE, "550 no", 6, 0, NULL},
        {SMFIR_ADDHEADER, "X-A\0v\0", 6, 1, NULL},
        {SMFIR_ADDHEADER, "X-A\0v", 5, 0, NULL},
        {SMFIR_ADDHEADER, "X-A\0", 4, 0, NULL},
        {SMFIR_INSHEADER, "\0\0\0\0X\0v\0", 8, 1, NULL},
        {SMFIR_CHGHEADER, "\0\0\0\x01X\0\0", 7, 1, NULL},
        {SMFIR_CHGHEADER, "\0\0X\0\0", 5, 0, NULL},
        {SMFIR_REPLBODY, "anything", 8, 1, NULL},
        {SMFIR_ADDRCPT, "<a@b>\0", 6, 1, NULL},
        {SMFIR_DELRCPT, "<a@b>", 5, 0, NULL},
        {SMFIR_CHGFROM, "<a@b>\0SIZE=1\0", 13, 1, NULL},
        {SMFIR_QUARANTINE, "why\0", 4, 1, NULL},
        {'Z', "", 0, 0, NULL},
    };
    char err[128];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mproto_pkt_t pkt = {cases[i].cmd,
                            (const unsigned char *)cases[i].data,
                            cases[i].len};
        int want = cases[i].ok ? 0 : -1;
        if (mproto_reply_check(&pkt, err, sizeof err) != want)
            fail_msg("case %zu (%c): expected %s", i, cases[i].cmd,
                     cases[i].ok ? "valid" : "invalid");
    }
}

static void final_replies_are_told_from_modifications(void **state)
{
    (void)state;
    static const char finals[] = "acdrtys";
    static const char others[] = "hibm+-eqp2O";
    for (const char *p = finals; *p; p++)
        assert_true(mproto_reply_is_final(*p));
    for (const char *p = others; *p; p++)
        assert_false(mproto_reply_is_final(*p));
    assert_false(mproto_reply_is_final('\0'));
}

static void optneg_reply_yields_flags_and_macro_lists(void **state)
{
    (void)state;
    static const unsigned char d[] =
        "\0\0\0\x06" "\0\0\0\x01" "\0\0\x02\0"
        "\0\0\0\x02" "i {auth_authen}\0"
        "\0\0\0\x05" "{msg_id}\0";
    mproto_pkt_t pkt = {SMFIC_OPTNEG, d, sizeof d - 1};
    mproto_optneg_t o;
    char err[128];
    assert_int_equal(mproto_parse_optneg(&pkt, &o, err, sizeof err), 0);
    assert_int_equal(o.version, 6);
    assert_int_equal(o.actions, SMFIF_ADDHDRS);
    assert_int_equal(o.protocol, SMFIP_NODATA);
    assert_string_equal(o.macros[SMFIM_ENVFROM], "i {auth_authen}");
    assert_string_equal(o.macros[SMFIM_EOM], "{msg_id}");
    assert_null(o.macros[SMFIM_CONNECT]);
    mproto_optneg_clear(&o);
}

static void malformed_optneg_replies_are_refused(void **state)
{
    (void)state;
    static const raw_t bad[] = {
        {"\0\0\0\x06\0\0\0\0", 8},                          /* short */
        {"\0\0\0\x06\0\0\0\0\0\0\0\0" "\0\0\0\x09" "i\0", 18}, /* stage */
        {"\0\0\0\x06\0\0\0\0\0\0\0\0" "\0\0\0\x01" "i", 17},   /* no NUL */
        {"\0\0\0\x06\0\0\0\0\0\0\0\0" "\0\0", 14},             /* cut */
        {"\0\0\0\x06\0\0\0\0\0\0\0\0" "\0\0\0\x01" "i\0"
         "\0\0\0\x01" "j\0", 24},                              /* twice */
    };
    char err[128];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mproto_pkt_t pkt = {SMFIC_OPTNEG, (const unsigned char *)bad[i].bytes,
                            bad[i].len};
        mproto_optneg_t o;
        if (mproto_parse_optneg(&pkt, &o, err, sizeof err) != -1)
            fail_msg("case %zu accepted", i);
        for (int s = 0; s < MPROTO_NSTAGES; s++)
            assert_null(o.macros[s]);
    }
}

static void modifications_render_as_readable_lines(void **state)
{
    (void)state;
    static const reply_case_t cases[] = {
        {SMFIR_ADDHEADER, "DKIM-Signature\0v=1; a=rsa\0", 26, 1,
         "addheader DKIM-Signature: v=1; a=rsa"},
        {SMFIR_CHGHEADER, "\0\0\0\x02X-Spam\0\0", 12, 1,
         "chgheader #2 X-Spam:"},
        {SMFIR_REPLBODY, "abc", 3, 1, "replbody (3 bytes)"},
        {SMFIR_QUARANTINE, "bad\x01\0", 5, 1, "quarantine bad\\x01"},
        {SMFIR_ACCEPT, "", 0, 1, "accept"},
    };
    char out[128];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mproto_pkt_t pkt = {cases[i].cmd,
                            (const unsigned char *)cases[i].data,
                            cases[i].len};
        assert_string_equal(mproto_reply_format(&pkt, out, sizeof out),
                            cases[i].want);
    }
    mproto_pkt_t pkt = {SMFIR_ADDHEADER,
                        (const unsigned char *)"X-Long\0aaaaaaaaaaaaaaaa\0", 24};
    assert_true(strlen(mproto_reply_format(&pkt, out, 12)) < 12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(commands_encode_to_the_exact_wire_bytes),
        cmocka_unit_test(oversized_packet_is_refused_and_buffer_unchanged),
        cmocka_unit_test(decoder_reassembles_packets_fed_byte_by_byte),
        cmocka_unit_test(decoder_rejects_zero_and_oversized_lengths),
        cmocka_unit_test(reply_shapes_are_checked_per_command),
        cmocka_unit_test(final_replies_are_told_from_modifications),
        cmocka_unit_test(optneg_reply_yields_flags_and_macro_lists),
        cmocka_unit_test(malformed_optneg_replies_are_refused),
        cmocka_unit_test(modifications_render_as_readable_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
