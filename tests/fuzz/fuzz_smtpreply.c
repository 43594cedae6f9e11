/*
 * fuzz_smtpreply.c - libFuzzer target for smtp-load's SMTP reply parser:
 * what an SMTP server sends is untrusted input to the load generator.
 *
 * Parses reply after reply the way smtp-load consumes its input buffer,
 * and checks that each reply claims no more bytes than it was given.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "smtpreply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    char err[160];

    while (size > 0) {
        int code = 0;
        size_t used = 0;
        int rc = smtpreply_parse(p, size, &code, &used, err, sizeof err);
        if (rc != 1)
            break;
        if (used == 0 || used > size || smtpreply_class(code) == 0)
            abort();
        p += used;
        size -= used;
    }
    return 0;
}
