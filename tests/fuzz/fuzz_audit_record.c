/*
 * fuzz_audit_record.c - the audit record's formatter on arbitrary bytes
 * in its network fields and in a caller's "extra": the record is always
 * one line of JSON that jansson parses, the fields are cut and repaired
 * as the format says, and "extra" comes out exactly as jansson dumps it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit.h"

#define FIELD_MAX 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input cut at NUL bytes: up to five C strings. */
static size_t split(const uint8_t *data, size_t size, char *copy, const char *part[5])
{
    size_t n = 0, start = 0;

    memcpy(copy, data, size);
    copy[size] = '\0';
    for (size_t i = 0; i <= size && n < 5; i++) {
        if (copy[i] == '\0') {
            part[n++] = copy + start;
            start = i + 1;
        }
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *part[5] = { NULL, NULL, NULL, NULL, NULL };
    char *copy = malloc(size + 1), *text, *ref;
    json_t *extra = json_object(), *o;
    audit_record_t r = { .step = "fuzz" };

    if (copy == NULL || extra == NULL)
        abort();
    split(data, size, copy, part);
    r.helo = part[0];
    r.from = part[1];
    r.reason = part[2];
    r.rcpt = &part[3];
    r.nrcpt = part[3] ? 1 : 0;
    /* jansson takes only valid UTF-8; it may hold NUL, so use all bytes. */
    json_object_set_new(extra, "raw", json_stringn((const char *) data, size));
    if (part[4] != NULL)
        json_object_set_new(extra, part[4], json_integer((json_int_t) size));
    r.extra = extra;
    r.ms = (double) size / 7.0;
    if ((text = audit_format(&r, "fuzz", "00")) == NULL)
        abort();
    if (strchr(text, '\n') != NULL || strchr(text, '\r') != NULL)
        abort();
    /* extra may hold NUL, which jansson reads back only when allowed. */
    if ((o = json_loads(text, JSON_ALLOW_NUL, NULL)) == NULL || !json_is_object(o))
        abort();
    const char *helo = json_string_value(json_object_get(o, "helo"));
    if (part[0] != NULL && (helo == NULL || strlen(helo) > FIELD_MAX + 3))
        abort();
    /* A record under the size limit carries extra as jansson dumps it. */
    if (strstr(text, "dropped_too_large") == NULL) {
        ref = json_dumps(extra, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
        if (ref == NULL || strstr(text, ref) == NULL)
            abort();
        free(ref);
    }
    json_decref(o);
    json_decref(extra);
    free(text);
    free(copy);
    return 0;
}
