/*
 * areport.c - log line, audit extra, reply, tag and notice texts of
 * postern-attach, all built from the same decisive hit.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "adecide.h"
#include "areport.h"

static const arule_hit_t *decisive(const areport_t *rp)
{
    const arule_verdict_t *v = rp->verdict;

    return v != NULL && v->decisive >= 0 ? &v->hits[v->decisive] : NULL;
}

static const awalk_item_t *hit_item(const areport_t *rp, const arule_hit_t *h)
{
    return h != NULL && h->item < rp->nitems ? &rp->items[h->item] : NULL;
}

static const char *flag_names(unsigned f, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s%s%s", f & AWALK_MALFORMED ? "malformed " : "",
             f & AWALK_SUSPECT ? "suspect " : "", f & AWALK_LIMIT ? "limit " : "",
             f & AWALK_NOT_MIME ? "not-mime " : "");
    size_t n = strlen(buf);
    if (n > 0)
        buf[n - 1] = '\0';
    return buf;
}

static json_t *hit_json(const areport_t *rp, const arule_hit_t *h)
{
    const awalk_item_t *it = hit_item(rp, h);
    json_t *o = json_object();

    if (o == NULL)
        return NULL;
    json_object_set_new(o, "path", json_string(it ? it->path : "message"));
    if (it != NULL) {
        json_object_set_new(o, "name", json_string(it->name));
        json_object_set_new(o, "declared", json_string(it->declared));
        json_object_set_new(o, "true_type", json_string(it->true_type));
        json_object_set_new(o, "size", json_integer((json_int_t) it->size));
    }
    json_object_set_new(o, "rule", json_string(arule_set_name(rp->rules, h->rule)));
    json_object_set_new(o, "action", json_string(arule_action_name(h->action)));
    json_object_set_new(o, "reason", json_string(h->reason));
    return o;
}

json_t *areport_json(const areport_t *rp)
{
    const arule_hit_t *h = decisive(rp);
    json_t *o = json_object(), *hits = json_array();
    char fl[64];

    if (o == NULL || hits == NULL) {
        json_decref(o);
        json_decref(hits);
        return NULL;
    }
    json_object_set_new(o, "monitor", json_boolean(rp->monitor));
    json_object_set_new(o, "cause", json_string(rp->decision->cause));
    json_object_set_new(o, "strip", json_boolean(rp->decision->strip));
    json_object_set_new(o, "rule", h ? json_string(arule_set_name(rp->rules, h->rule))
                                     : json_null());
    json_object_set_new(o, "size", json_integer((json_int_t) rp->size));
    json_object_set_new(o, "parts", json_integer((json_int_t) rp->nitems));
    json_object_set_new(o, "walk", json_string(flag_names(rp->walk_flags, fl, sizeof(fl))));
    if (rp->warning != NULL && rp->warning[0])
        json_object_set_new(o, "warning", json_string(rp->warning));
    for (size_t i = 0; rp->verdict && i < rp->verdict->nhits && i < AREPORT_MAX_HITS; i++)
        json_array_append_new(hits, hit_json(rp, &rp->verdict->hits[i]));
    json_object_set_new(o, "hits", hits);
    return o;
}

/* Why, in a few words, when no rule decided. */
static const char *cause_text(const areport_t *rp)
{
    const char *c = rp->decision->cause;

    if (strcmp(c, "limit") == 0)
        return rp->too_big ? "message too large to examine"
                           : "message too complex to examine completely";
    if (strcmp(c, "suspect") == 0)
        return "ambiguous MIME structure";
    return "no attachment rule matched";
}

void areport_line(const areport_t *rp, char *buf, size_t len)
{
    const arule_hit_t *h = decisive(rp);
    const awalk_item_t *it = hit_item(rp, h);
    char name[ADECIDE_NAME_MAX + 4], fl[64];

    if (h != NULL && strcmp(rp->decision->cause, "rule") == 0) {
        snprintf(buf, len, "%saction=%s%s rule=%s part=%s name=\"%s\" declared=%s true=%s "
                 "reason=\"%s\" parts=%zu size=%llu", rp->monitor ? "monitor " : "",
                 mact_name(rp->decision->action), rp->decision->strip ? "+strip" : "",
                 arule_set_name(rp->rules, h->rule), it ? it->path : "message",
                 adecide_safe_name(it ? it->name : "", name), it ? it->declared : "-",
                 it ? it->true_type : "-", h->reason, rp->nitems,
                 (unsigned long long) rp->size);
    } else {
        snprintf(buf, len, "%saction=%s cause=%s reason=\"%s\" walk=%s parts=%zu size=%llu%s%s",
                 rp->monitor ? "monitor " : "", mact_name(rp->decision->action),
                 rp->decision->cause, cause_text(rp),
                 rp->walk_flags ? flag_names(rp->walk_flags, fl, sizeof(fl)) : "ok",
                 rp->nitems, (unsigned long long) rp->size,
                 rp->warning && rp->warning[0] ? " gmime=" : "",
                 rp->warning ? rp->warning : "");
    }
}

void areport_reply(const areport_t *rp, char *buf, size_t len)
{
    const arule_hit_t *h = decisive(rp);
    const awalk_item_t *it = hit_item(rp, h);
    char name[ADECIDE_NAME_MAX + 4], outer[ADECIDE_NAME_MAX + 4];

    if (h == NULL || strcmp(rp->decision->cause, "rule") != 0)
        snprintf(buf, len, "Message refused: %s", cause_text(rp));
    else if (it == NULL)
        snprintf(buf, len, "Message refused: %s", h->reason);
    else if (it->entry && (size_t) it->part < rp->nitems)
        snprintf(buf, len, "Attachment \"%s\" refused: it holds \"%s\": %s",
                 adecide_safe_name(rp->items[it->part].name, outer),
                 adecide_safe_name(it->name, name), h->reason);
    else if (it->name[0])
        snprintf(buf, len, "Attachment \"%s\" refused: %s", adecide_safe_name(it->name, name),
                 h->reason);
    else
        snprintf(buf, len, "Message part %s refused: %s", it->path, h->reason);
}

void areport_tag(const areport_t *rp, char *buf, size_t len)
{
    const arule_hit_t *h = decisive(rp);
    const awalk_item_t *it = hit_item(rp, h);
    char name[ADECIDE_NAME_MAX + 4];

    if (h == NULL || strcmp(rp->decision->cause, "rule") != 0) {
        snprintf(buf, len, "action=%s; cause=%s", mact_name(rp->decision->action),
                 rp->decision->cause);
        return;
    }
    snprintf(buf, len, "rule=%s; action=%s; part=%s; name=\"%s\"; reason=\"%s\"",
             arule_set_name(rp->rules, h->rule), arule_action_name(h->action),
             it ? it->path : "message", adecide_safe_name(it ? it->name : "", name), h->reason);
}

void areport_notice(const areport_t *rp, const arule_hit_t *hit, const char *tmpl,
                    char *buf, size_t len)
{
    const awalk_item_t *it = hit_item(rp, hit);
    char name[ADECIDE_NAME_MAX + 4];
    size_t o = 0;

    adecide_safe_name(it && it->name[0] ? it->name : "(unnamed)", name);
    for (const char *p = tmpl; *p && o + 1 < len; p++) {
        const char *sub = NULL;
        if (strncmp(p, "{name}", 6) == 0) {
            sub = name;
            p += 5;
        } else if (strncmp(p, "{reason}", 8) == 0) {
            sub = hit->reason;
            p += 7;
        }
        if (sub == NULL) {
            buf[o++] = *p;
            continue;
        }
        int w = snprintf(buf + o, len - o, "%s", sub);
        o += (w > 0 && (size_t) w < len - o) ? (size_t) w : len - o - 1;
    }
    buf[o] = '\0';
    /* The notice part is declared us-ascii, 7bit. */
    for (unsigned char *q = (unsigned char *) buf; *q; q++)
        if (*q >= 0x7F || (*q < 0x20 && *q != '\n'))
            *q = '?';
}
