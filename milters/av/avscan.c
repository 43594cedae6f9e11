/*
 * avscan.c - what the scanner back ends share: result names, and the
 * reading of a signature name, where limit alerts are told apart from
 * viruses.
 */
#include <stdio.h>
#include <string.h>

#include "avscan.h"

/* libclamav (and clamd with AlertExceedsMax) reports a message over a
 * scan limit as a "virus" of this family; it is a limit, not a virus. */
#define LIMIT_PREFIX "Heuristics.Limits.Exceeded"

const char *avscan_status_name(avscan_status_t st)
{
    switch (st) {
    case AVSCAN_CLEAN: return "clean";
    case AVSCAN_INFECTED: return "infected";
    case AVSCAN_LIMIT: return "limit";
    case AVSCAN_ERROR: return "error";
    case AVSCAN_UNSCANNED: return "unscanned";
    }
    return "error";
}

void avscan_found(avscan_result_t *r, const char *name, size_t len)
{
    if (len >= sizeof(r->name))
        len = sizeof(r->name) - 1;
    memcpy(r->name, name, len);
    r->name[len] = '\0';
    /* The name reaches the SMTP reply and the logs: printable only. */
    for (char *p = r->name; *p; p++)
        if ((unsigned char) *p < 0x21 || (unsigned char) *p > 0x7e)
            *p = '?';
    if (strncmp(r->name, LIMIT_PREFIX, strlen(LIMIT_PREFIX)) == 0) {
        r->status = AVSCAN_LIMIT;
        snprintf(r->reason, sizeof(r->reason), "scan limit exceeded (%s)", r->name);
    } else {
        r->status = AVSCAN_INFECTED;
        r->reason[0] = '\0';
    }
}

void avscan_fail(avscan_result_t *r, avscan_status_t st, const char *reason)
{
    r->status = st;
    r->name[0] = '\0';
    snprintf(r->reason, sizeof(r->reason), "%s", reason);
}
