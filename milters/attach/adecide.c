/*
 * adecide.c - weighs the rules' verdict, the walk's limits and
 * suspicious MIME into one milter action for postern-attach.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "mact.h"

#include "adecide.h"
#include "arule.h"
#include "awalk.h"

/* Higher is more severe. */
static int rank(mact_t a)
{
    switch (a) {
    case MACT_REJECT: return 5;
    case MACT_TEMPFAIL: return 4;
    case MACT_DISCARD: return 4;
    case MACT_QUARANTINE: return 3;
    case MACT_TAG: return 2;
    default: return 1;
    }
}

static mact_t from_rule(arule_action_t a)
{
    switch (a) {
    case ARULE_REJECT: return MACT_REJECT;
    case ARULE_QUARANTINE: return MACT_QUARANTINE;
    case ARULE_STRIP:
    case ARULE_TAG: return MACT_TAG;
    default: return MACT_ACCEPT;
    }
}

static void weigh(adecision_t *d, mact_t a, const char *cause)
{
    if (rank(a) > rank(d->action)) {
        d->action = a;
        d->cause = cause;
    }
}

void adecide(const adecide_conf_t *c, unsigned walk_flags, bool too_big,
             const arule_verdict_t *v, adecision_t *d)
{
    bool strip = v->decisive >= 0 && v->action == ARULE_STRIP;

    d->action = MACT_ACCEPT;
    d->cause = "clean";
    d->strip = false;
    if (v->decisive >= 0) {
        d->action = from_rule(v->action);
        d->cause = "rule";
    }
    /* A strip verdict may sit below a tag one; strip whenever any hit strips. */
    for (size_t i = 0; i < v->nhits && !strip; i++)
        strip = v->hits[i].action == ARULE_STRIP;
    if (too_big || (walk_flags & AWALK_LIMIT))
        weigh(d, c->on_limit, "limit");
    if (walk_flags & (AWALK_SUSPECT | AWALK_NOT_MIME))
        weigh(d, c->on_suspect, "suspect");
    d->strip = strip && d->action == MACT_TAG && !too_big;
}

char *adecide_safe_name(const char *name, char *out)
{
    size_t o = 0;

    for (const unsigned char *p = (const unsigned char *) name; *p; p++) {
        if (o == ADECIDE_NAME_MAX) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (*p == '"' || *p == '\\')
            out[o++] = '_';
        else if (*p < 0x20 || *p >= 0x7F)
            out[o++] = '?';
        else
            out[o++] = (char) *p;
    }
    out[o] = '\0';
    return out;
}
