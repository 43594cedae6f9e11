/*
 * mact.c - milter actions and replies as data, and the rule that tells
 * a forged Authentication-Results field from one of our own.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "authres.h"
#include "mact.h"

static const char *const names[] = {
    [MACT_ACCEPT] = "accept", [MACT_TAG] = "tag", [MACT_REJECT] = "reject",
    [MACT_TEMPFAIL] = "tempfail", [MACT_DISCARD] = "discard",
    [MACT_QUARANTINE] = "quarantine",
};

int mact_parse(const char *name, mact_t *out)
{
    for (size_t i = 0; name != NULL && i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(name, names[i]) == 0) {
            *out = (mact_t) i;
            return 0;
        }
    return -1;
}

const char *mact_name(mact_t a)
{
    return (unsigned) a < sizeof(names) / sizeof(names[0]) ? names[a] : "unknown";
}

const char *mact_audit_name(mact_t a, bool monitor)
{
    static const char *const monitored[] = {
        [MACT_ACCEPT] = "monitor:accept", [MACT_TAG] = "monitor:tag",
        [MACT_REJECT] = "monitor:reject", [MACT_TEMPFAIL] = "monitor:tempfail",
        [MACT_DISCARD] = "monitor:discard", [MACT_QUARANTINE] = "monitor:quarantine",
    };

    if ((unsigned) a >= sizeof(monitored) / sizeof(monitored[0]))
        return "unknown";
    return monitor ? monitored[a] : names[a];
}

bool mact_stops(mact_t a)
{
    return a == MACT_REJECT || a == MACT_TEMPFAIL || a == MACT_DISCARD;
}

/* Reply text libmilter passes on: printable ASCII, no '%' directives. */
static void safe_text(char *dst, size_t n, const char *src)
{
    size_t o = 0;

    for (; *src != '\0' && o + 2 < n; src++) {
        unsigned char c = (unsigned char) *src;
        if (c == '%') {
            dst[o++] = '%';
            dst[o++] = '%';
        } else {
            dst[o++] = (c < 0x20 || c >= 0x7f) ? '?' : (char) c;
        }
    }
    dst[o] = '\0';
}

/* "5.7.23" with the class digit CLS, or the default when XCODE is not
 * a status code (RFC 3463: class.subject.detail, up to 3 digits each). */
static void status_code(char *dst, size_t n, char cls, const char *xcode)
{
    unsigned subject, detail;
    int used = 0;

    if (xcode != NULL && (xcode[0] == '2' || xcode[0] == '4' || xcode[0] == '5')
        && sscanf(xcode + 1, ".%3u.%3u%n", &subject, &detail, &used) == 2
        && xcode[1 + used] == '\0')
        snprintf(dst, n, "%c.%u.%u", cls, subject, detail);
    else
        snprintf(dst, n, "%c.7.1", cls);
}

void mact_reply_init(mact_reply_t *r, mact_t action, const char *xcode,
                     const char *fmt, ...)
{
    char raw[MACT_MAX_TEXT + 1];
    va_list ap;

    memset(r, 0, sizeof(*r));
    r->action = action;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    safe_text(r->text, sizeof(r->text), raw);
    if (action == MACT_REJECT) {
        snprintf(r->rcode, sizeof(r->rcode), "550");
        status_code(r->xcode, sizeof(r->xcode), '5', xcode);
    } else if (action == MACT_TEMPFAIL) {
        snprintf(r->rcode, sizeof(r->rcode), "451");
        status_code(r->xcode, sizeof(r->xcode), '4', xcode);
    }
}

void mact_reply_code(mact_reply_t *r, const char *rcode)
{
    char cls = r->action == MACT_REJECT ? '5' : r->action == MACT_TEMPFAIL ? '4' : 0;

    if (cls != 0 && rcode != NULL && rcode[0] == cls && isdigit((unsigned char) rcode[1])
        && isdigit((unsigned char) rcode[2]) && rcode[3] == '\0')
        memcpy(r->rcode, rcode, 4);
}

void mact_authres_reset(mact_authres_t *t)
{
    memset(t, 0, sizeof(*t));
}

static bool in_list(const char *m, const char *const *list)
{
    for (size_t i = 0; list != NULL && list[i] != NULL; i++)
        if (strcasecmp(m, list[i]) == 0)
            return true;
    return false;
}

bool mact_authres_forged(const char *value, size_t len, const char *authserv_id,
                         const char *const *own_methods)
{
    static const char *const ours[] = { MACT_AUTHRES_METHODS, NULL };
    char err[128];
    authres_t *ar;
    bool forged;

    if (!authres_is_ours(value, len, authserv_id))
        return false;
    if (authres_parse(value, len, &ar, err, sizeof(err)) < 0)
        return true;
    /* "ID; none" is not something any of our milters writes. */
    forged = ar->nresults == 0;
    for (size_t i = 0; i < ar->nresults && !forged; i++) {
        const char *m = ar->results[i].method;
        forged = in_list(m, own_methods) || !in_list(m, ours);
    }
    authres_free(ar);
    return forged;
}

bool mact_authres_seen(mact_authres_t *t, const char *value, size_t len,
                       const char *authserv_id, const char *const *own_methods)
{
    unsigned index = ++t->seen;

    if (!mact_authres_forged(value, len, authserv_id, own_methods))
        return false;
    if (t->nforged < MACT_MAX_AUTHRES)
        t->forged[t->nforged++] = index;
    else
        t->overflow = true;
    return true;
}
