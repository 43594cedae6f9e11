/*
 * avpolicy.c - scan result to action, reply and header field, by the
 * [av] on_* keys. The milter carries the verdict out (mglue_apply).
 */
#include <stdio.h>
#include <string.h>

#include "mact.h"

#include "avpolicy.h"

static int parse_one(const char *key, const char *name, const char *allowed, mact_t *out,
                     char *err, size_t errlen)
{
    size_t n = name != NULL ? strlen(name) : 0;
    const char *p = allowed;

    /* ALLOWED is "a|b|c": the name must be one of its items. */
    while (n > 0 && (p = strstr(p, name)) != NULL) {
        bool start = p == allowed || p[-1] == '|';
        bool end = p[n] == '\0' || p[n] == '|';
        if (start && end && mact_parse(name, out) == 0)
            return 0;
        p += n;
    }
    snprintf(err, errlen, "%s: \"%s\" is not one of %s", key, name ? name : "", allowed);
    return -1;
}

int avpolicy_init(avpolicy_t *p, const char *on_infected, const char *on_error,
                  const char *on_limit, bool add_header, char *err, size_t errlen)
{
    static const char fail_actions[] = "tempfail|reject|quarantine|tag|accept";

    memset(p, 0, sizeof(*p));
    p->add_header = add_header;
    if (parse_one("on_infected", on_infected, "reject|discard|quarantine|tag", &p->on_infected,
                  err, errlen) < 0
        || parse_one("on_error", on_error, fail_actions, &p->on_error, err, errlen) < 0
        || parse_one("on_limit", on_limit, fail_actions, &p->on_limit, err, errlen) < 0)
        return -1;
    return 0;
}

/* Error and limit: the reply for ACTION, no internal detail in it. */
static void unscannable(mact_t action, const char *xcode, const char *what,
                        avpolicy_verdict_t *v)
{
    mact_reply_init(&v->reply, action, xcode, "%s", what);
    if (action == MACT_REJECT)
        mact_reply_code(&v->reply, "554");
    v->unscanned = action == MACT_ACCEPT || action == MACT_TAG;
}

void avpolicy_decide(const avpolicy_t *p, const avscan_result_t *r, avpolicy_verdict_t *v)
{
    memset(v, 0, sizeof(*v));
    switch (r->status) {
    case AVSCAN_CLEAN:
        mact_reply_init(&v->reply, MACT_ACCEPT, NULL, "%s", "");
        snprintf(v->value, sizeof(v->value), "postern-av; clean");
        break;
    case AVSCAN_INFECTED:
        mact_reply_init(&v->reply, p->on_infected, "5.7.1", "Virus found: %s", r->name);
        if (p->on_infected == MACT_REJECT)
            mact_reply_code(&v->reply, "554");
        snprintf(v->value, sizeof(v->value), "postern-av; infected (%s)", r->name);
        break;
    case AVSCAN_LIMIT:
        unscannable(p->on_limit, "4.3.4", "Message too large or too deep to scan for viruses", v);
        snprintf(v->value, sizeof(v->value), "postern-av; unscanned (limit)");
        break;
    case AVSCAN_ERROR:
        unscannable(p->on_error, "4.3.0", "Virus scan failed, try again later", v);
        snprintf(v->value, sizeof(v->value), "postern-av; unscanned (error)");
        break;
    case AVSCAN_UNSCANNED:
        mact_reply_init(&v->reply, MACT_ACCEPT, NULL, "%s", "");
        v->unscanned = true;
        snprintf(v->value, sizeof(v->value), "postern-av; unscanned (no database)");
        break;
    }
    v->header = p->add_header || v->reply.action == MACT_TAG;
}
