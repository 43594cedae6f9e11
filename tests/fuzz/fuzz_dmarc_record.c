/*
 * fuzz_dmarc_record.c - DMARC TXT records from arbitrary bytes through
 * our checks and libopendmarc's parser: an error or tags in range,
 * never a crash or a leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc_lib.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    char err[256];
    dmarc_tags_t t;

    if (!ready)
        ready = dmarc_lib_init(err, sizeof err) == 0;
    if (size > 5000)
        return 0;
    char *rec = malloc(size + 1);
    if (rec == NULL)
        return 0;
    memcpy(rec, data, size);
    rec[size] = '\0';
    if (dmarc_lib_parse(rec, "example.com", "example.com", &t, err, sizeof err) == 0) {
        if (t.pct < 0 || t.pct > 100 || (t.adkim != 'r' && t.adkim != 's') ||
            t.p > DMARC_P_REJECT || t.sp > DMARC_P_REJECT)
            abort();
    }
    free(rec);
    return 0;
}
