/*
 * fuzz_mproto.c - libFuzzer target for the milter reply decoder of
 * milter-load: a milter's reply stream is untrusted input to it.
 *
 * The first input byte picks the read size, so packets are also split
 * across feeds the way short recv(2)s split them.
 */
#include <stddef.h>
#include <stdint.h>

#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>

#include "mproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_packet(const mproto_pkt_t *pkt)
{
    char err[256];
    char line[512];
    if (pkt->cmd == SMFIC_OPTNEG) {
        mproto_optneg_t o;
        if (mproto_parse_optneg(pkt, &o, err, sizeof err) == 0)
            mproto_optneg_clear(&o);
        return;
    }
    if (mproto_reply_check(pkt, err, sizeof err) == 0) {
        mproto_reply_format(pkt, line, sizeof line);
        mproto_reply_format(pkt, line, 7);
        (void)mproto_reply_is_final(pkt->cmd);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t step = (size_t)data[0] + 1;
    char err[256];
    mproto_dec_t *d = mproto_dec_new(64 * 1024);
    if (d == NULL)
        return 0;
    for (size_t off = 1; off < size; off += step) {
        size_t n = size - off < step ? size - off : step;
        if (mproto_dec_feed(d, data + off, n, err, sizeof err) < 0)
            break;
        mproto_pkt_t pkt;
        int r;
        while ((r = mproto_dec_next(d, &pkt, err, sizeof err)) == 1)
            check_packet(&pkt);
        if (r < 0)
            break;
    }
    mproto_dec_free(d);
    return 0;
}
