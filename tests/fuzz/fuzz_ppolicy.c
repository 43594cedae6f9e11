/*
 * fuzz_ppolicy.c - libFuzzer target for policy-load's reply decoder: a
 * policy server's replies are untrusted input to the generator.
 *
 * The input is decoded as a stream the way policy-load reads it: every
 * prefix must be "incomplete" or an error until a reply is whole, and a
 * decoded reply must lie inside the bytes given.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ppolicy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a private copy, so reads past size are caught by ASan */
    char *buf = malloc(size ? size : 1);
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    size_t off = 0;
    while (off < size) {
        ppolicy_reply_t rep;
        char err[128], word[PPOLICY_WORD_MAX];
        int r = ppolicy_decode_reply(buf + off, size - off, &rep, err,
                                     sizeof err);
        if (r <= 0)
            break;
        if (rep.consumed == 0 || rep.consumed > size - off ||
            rep.action_len == 0 || rep.action + rep.action_len > buf + size)
            abort();
        ppolicy_action_word(rep.action, rep.action_len, word, sizeof word);
        off += rep.consumed;
    }
    free(buf);
    return 0;
}
