/*
 * dmarc_memsrc.h - a DMARC record source (dmarc_source_t) that serves
 * TXT records from a table in memory, for the dmarc unit tests.
 */
#ifndef POSTERN_DMARC_MEMSRC_H
#define POSTERN_DMARC_MEMSRC_H

#include <string.h>

#include "dmarc_record.h"

/* A name and up to three TXT records; "TEMPFAIL" as the first record
 * makes the lookup fail. A table ends with a NULL name. */
typedef struct dmarc_memzone {
    const char *name;
    const char *txt[3];
} dmarc_memzone_t;

/* The source's txt function; ARG is the table. */
static inline dmarc_src_status_t dmarc_memsrc_txt(void *arg, const char *name,
                                                  dmarc_txt_each_fn each, void *cbarg)
{
    for (const dmarc_memzone_t *z = arg; z->name; z++) {
        if (strcmp(z->name, name) != 0)
            continue;
        if (strcmp(z->txt[0], "TEMPFAIL") == 0)
            return DMARC_SRC_TEMPFAIL;
        for (int i = 0; i < 3 && z->txt[i]; i++)
            each(cbarg, z->txt[i], strlen(z->txt[i]));
        return DMARC_SRC_FOUND;
    }
    return DMARC_SRC_NONE;
}

#endif
