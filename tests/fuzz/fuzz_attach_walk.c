/*
 * fuzz_attach_walk.c - the attachment part walker (GMime, libmagic,
 * libarchive) on arbitrary bytes as a message: every part's name through
 * the name analyzer, and the strip rewrite of every other part. Never a
 * crash, a leak or a read past the input; limits keep each run bounded.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aname.h"
#include "awalk.h"

static awalk_t *walker;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];

    if (walker == NULL) {
        awalk_limits_t l = { 200, 16, 3, 1 << 20, 2000 };
        walker = awalk_new(&l, err, sizeof(err));
        if (walker == NULL)
            abort();
    }
    awalk_result_t *r = awalk_run(walker, data, size);
    if (r == NULL)
        return 0;

    size_t n = awalk_count(r), k = 0;
    size_t *idx = calloc(n + 1, sizeof(*idx));
    const char **notes = calloc(n + 1, sizeof(*notes));
    for (size_t i = 0; i < n; i++) {
        const awalk_item_t *it = awalk_item(r, i);
        aname_t a;
        aname_analyze(it->name, strlen(it->name), &a);
        aname_analyze(it->altname, strlen(it->altname), &a);
        if (i % 2 == 1) {
            idx[k] = i;
            notes[k++] = "removed";
        }
    }
    char *body = NULL;
    size_t len;
    bool root;
    if (awalk_strip(r, idx, notes, k, &body, &len, &root, err, sizeof(err)) == 0)
        free(body);
    free(notes);
    free(idx);
    awalk_result_free(r);
    return 0;
}
