/*
 * fuzz_dmarc_from.c - From field values from arbitrary bytes: a status,
 * and on success only lower-case host names; never a read past the
 * input, a crash or a leak. The input is copied to a buffer of exactly
 * its size so that ASan sees any overread.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc_from.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size ? size : 1);
    dmarc_from_t f;

    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    if (dmarc_from_parse(copy, size, &f) == DMARC_FROM_OK) {
        if (f.naddrs > DMARC_FROM_MAX_ADDRS)
            abort();
        for (size_t i = 0; i < f.naddrs; i++) {
            size_t n = strlen(f.domain[i]);
            if (n == 0 || n > DMARC_DOMAIN_MAX)
                abort();
            for (size_t j = 0; j < n; j++)
                if (f.domain[i][j] >= 'A' && f.domain[i][j] <= 'Z')
                    abort();
        }
    } else if (f.naddrs != 0) {
        abort();
    }
    free(copy);
    return 0;
}
