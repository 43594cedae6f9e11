/*
 * arule.c - attachment rules: compiled from "[attach-rule NAME]"
 * sections at (re)load, matched per message against the walk's items.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"

#include "aname.h"
#include "arule.h"
#include "attach_conf.h"

typedef struct list {
    const char *const *v;
    size_t n;
} list_t;

typedef struct rule {
    const char *name;
    arule_action_t action;
    list_t ext, ttype, dtype, xsend, xrcpt;
    bool ext_last;
    bool has_trick, trick, has_mismatch, mismatch, has_enc, enc, has_unr, unr;
    bool has_depth, has_size, has_msize;
    unsigned depth;
    uint64_t size, msize;
} rule_t;

struct arule_set {
    config_t *cfg;              /* owns the names and lists */
    rule_t *rules;
    size_t n;
};

static const char *const action_names[] = { "allow", "tag", "strip", "quarantine", "reject" };

const char *arule_action_name(arule_action_t a)
{
    return (unsigned) a < 5 ? action_names[a] : "?";
}

static arule_action_t action_parse(const char *s)
{
    for (unsigned i = 0; i < 5; i++)
        if (s != NULL && strcmp(s, action_names[i]) == 0)
            return (arule_action_t) i;
    return ARULE_REJECT;        /* the schema allows nothing else */
}

static bool opt_bool(const config_t *cfg, const char *sec, const char *key, bool *val)
{
    *val = config_bool(cfg, sec, key);
    return config_is_set(cfg, sec, key);
}

static list_t opt_list(const config_t *cfg, const char *sec, const char *key)
{
    list_t l = { NULL, 0 };

    l.n = config_list(cfg, sec, key, &l.v);
    return l;
}

static int compile(const config_t *cfg, const char *name, rule_t *r, char *err, size_t errlen)
{
    char sec[256];

    snprintf(sec, sizeof(sec), "%s %s", ATTACH_RULE_SECTION, name);
    r->name = name;
    r->action = action_parse(config_str(cfg, sec, "action"));
    r->ext = opt_list(cfg, sec, "ext");
    r->ext_last = config_bool(cfg, sec, "ext_last_only");
    r->ttype = opt_list(cfg, sec, "true_type");
    r->dtype = opt_list(cfg, sec, "declared_type");
    r->xsend = opt_list(cfg, sec, "except_senders");
    r->xrcpt = opt_list(cfg, sec, "except_recipients");
    r->has_trick = opt_bool(cfg, sec, "name_trick", &r->trick);
    r->has_mismatch = opt_bool(cfg, sec, "mismatch", &r->mismatch);
    r->has_enc = opt_bool(cfg, sec, "encrypted", &r->enc);
    r->has_unr = opt_bool(cfg, sec, "unreadable", &r->unr);
    r->has_depth = config_is_set(cfg, sec, "max_depth");
    r->depth = (unsigned) config_int(cfg, sec, "max_depth");
    r->has_size = config_is_set(cfg, sec, "max_size");
    r->size = config_size(cfg, sec, "max_size");
    r->has_msize = config_is_set(cfg, sec, "message_size");
    r->msize = config_size(cfg, sec, "message_size");
    if (r->has_msize && (r->ext.n || r->ttype.n || r->dtype.n || r->has_trick
                         || r->has_mismatch || r->has_enc || r->has_unr || r->has_depth
                         || r->has_size)) {
        snprintf(err, errlen, "%s:%d: [%s] message_size: a message rule takes no part keys",
                 config_path(cfg), config_line(cfg, sec, "message_size"), sec);
        return -1;
    }
    if (r->has_msize && r->action == ARULE_STRIP) {
        snprintf(err, errlen, "%s:%d: [%s] action: a message rule cannot strip",
                 config_path(cfg), config_line(cfg, sec, "action"), sec);
        return -1;
    }
    return 0;
}

arule_set_t *arule_set_new(const config_t *cfg, char *err, size_t errlen)
{
    const char *const *names;
    size_t n = config_instances(cfg, ATTACH_RULE_SECTION, &names);
    arule_set_t *rs = calloc(1, sizeof(*rs));

    if (rs == NULL || (rs->rules = calloc(n ? n : 1, sizeof(rule_t))) == NULL) {
        free(rs);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (compile(cfg, names[i], &rs->rules[i], err, errlen) < 0) {
            free(rs->rules);
            free(rs);
            return NULL;
        }
    }
    rs->n = n;
    rs->cfg = config_ref((config_t *) cfg);
    return rs;
}

void arule_set_free(arule_set_t *rs)
{
    if (rs == NULL)
        return;
    config_unref(rs->cfg);
    free(rs->rules);
    free(rs);
}

size_t arule_set_count(const arule_set_t *rs)
{
    return rs->n;
}

const char *arule_set_name(const arule_set_t *rs, size_t i)
{
    return i < rs->n ? rs->rules[i].name : NULL;
}

bool arule_domain_in(const char *domain, const char *const *list, size_t n)
{
    size_t dl = strlen(domain);

    if (dl == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        const char *d = list[i];
        size_t l = strlen(d);
        if (l == 0 || l > dl)
            continue;
        if (strcasecmp(domain + dl - l, d) == 0 && (l == dl || domain[dl - l - 1] == '.'))
            return true;
    }
    return false;
}

static bool rule_exempt(const rule_t *r, const arule_env_t *env)
{
    if (r->xsend.n && env->from_domain && arule_domain_in(env->from_domain, r->xsend.v,
                                                          r->xsend.n))
        return true;
    if (r->xrcpt.n == 0 || env->nrcpt == 0)
        return false;
    for (size_t i = 0; i < env->nrcpt; i++) {
        const char *at = strrchr(env->rcpt[i], '@');
        if (at == NULL || !arule_domain_in(at + 1, r->xrcpt.v, r->xrcpt.n))
            return false;
    }
    return true;
}

/* "image/" (or "image/" and a star) matches any image type; otherwise
 * the whole type, in any case. */
static bool type_in(const char *type, const list_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        const char *p = l->v[i];
        size_t len = strlen(p);
        if (len >= 2 && strcmp(p + len - 2, "/*") == 0)
            len--;
        if (len >= 1 && p[len - 1] == '/') {
            if (strncasecmp(type, p, len) == 0)
                return true;
        } else if (strcasecmp(type, p) == 0) {
            return true;
        }
    }
    return false;
}

static const char *ext_in(const aname_t *a, const list_t *l, bool last_only)
{
    for (size_t i = 0; i < l->n; i++) {
        const char *e = l->v[i][0] == '.' ? l->v[i] + 1 : l->v[i];
        if (aname_has_ext(a, e, last_only))
            return e;
    }
    return NULL;
}

/* Appends one reason; only the first is kept (it names the rule's
 * first key, which is what the admin wrote the rule for). */
static void because(char *reason, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void because(char *reason, size_t len, const char *fmt, ...)
{
    va_list ap;

    if (reason[0] != '\0')
        return;
    va_start(ap, fmt);
    vsnprintf(reason, len, fmt, ap);
    va_end(ap);
}

typedef struct names {
    aname_t name, alt;
    bool has_alt;
} names_t;

static bool match_name(const rule_t *r, const names_t *nm, char *reason, size_t rl)
{
    if (r->ext.n) {
        const char *e = ext_in(&nm->name, &r->ext, r->ext_last);
        if (e == NULL && nm->has_alt)
            e = ext_in(&nm->alt, &r->ext, r->ext_last);
        if (e == NULL)
            return false;
        because(reason, rl, "extension .%s", e);
    }
    if (r->has_trick) {
        unsigned f = nm->name.flags | (nm->has_alt ? nm->alt.flags : 0);
        char fl[64];
        if (((f & ANAME_TRICKS) != 0) != r->trick)
            return false;
        because(reason, rl, "deceptive file name (%s)",
                aname_flags_str(f & ANAME_TRICKS, fl, sizeof(fl)));
    }
    return true;
}

static bool match_content(const rule_t *r, const awalk_item_t *it, char *reason, size_t rl)
{
    if (r->ttype.n) {
        if (!type_in(it->true_type, &r->ttype))
            return false;
        because(reason, rl, "true type %s", it->true_type);
    }
    if (r->dtype.n) {
        if (it->entry || !type_in(it->declared, &r->dtype))
            return false;
        because(reason, rl, "declared type %s", it->declared);
    }
    if (r->has_mismatch) {
        if (arule_mismatch(it->entry ? "" : it->declared, it->true_type) != r->mismatch)
            return false;
        because(reason, rl, "declared %s but is %s", it->declared, it->true_type);
    }
    if (r->has_enc) {
        if (it->encrypted != r->enc)
            return false;
        because(reason, rl, "%s", it->entry ? "encrypted archive entry" : "encrypted archive");
    }
    if (r->has_unr) {
        if ((it->archive && it->unreadable) != r->unr)
            return false;
        because(reason, rl, "unreadable archive");
    }
    return true;
}

static bool match_limits(const rule_t *r, const awalk_item_t *it, char *reason, size_t rl)
{
    if (r->has_depth) {
        if (it->depth <= r->depth)
            return false;
        because(reason, rl, "archive nesting %u > %u", it->depth, r->depth);
    }
    if (r->has_size) {
        if (!(it->attachment || it->entry) || it->size <= r->size)
            return false;
        because(reason, rl, "size %llu > %llu", (unsigned long long) it->size,
                (unsigned long long) r->size);
    }
    return true;
}

static bool match_item(const rule_t *r, const awalk_item_t *it, const names_t *nm,
                       char *reason, size_t rl)
{
    reason[0] = '\0';
    if (r->has_msize)
        return false;
    return match_name(r, nm, reason, rl) && match_content(r, it, reason, rl)
           && match_limits(r, it, reason, rl);
}

static int add_hit(arule_verdict_t *v, size_t item, size_t rule, arule_action_t action,
                   const char *reason)
{
    arule_hit_t *h = realloc(v->hits, (v->nhits + 1) * sizeof(*h));

    if (h == NULL)
        return -1;
    v->hits = h;
    h = &v->hits[v->nhits++];
    h->item = item;
    h->rule = rule;
    h->action = action;
    snprintf(h->reason, sizeof(h->reason), "%s", reason);
    if (v->decisive < 0 || action > v->action) {
        v->decisive = (int) (v->nhits - 1);
        v->action = action;
    }
    return 0;
}

static int eval_message(const arule_set_t *rs, const arule_env_t *env, const bool *skip,
                        arule_verdict_t *v)
{
    for (size_t k = 0; k < rs->n; k++) {
        const rule_t *r = &rs->rules[k];
        char reason[80];
        if (!r->has_msize || skip[k] || env->message_size <= r->msize)
            continue;
        snprintf(reason, sizeof(reason), "message size %llu > %llu",
                 (unsigned long long) env->message_size, (unsigned long long) r->msize);
        return add_hit(v, ARULE_MESSAGE, k, r->action, reason);
    }
    return 0;
}

int arule_eval(const arule_set_t *rs, const arule_env_t *env, const awalk_item_t *items,
               size_t n, arule_verdict_t *v)
{
    bool *skip = calloc(rs->n ? rs->n : 1, sizeof(bool));
    names_t nm;
    char reason[160];
    int rc = 0;

    memset(v, 0, sizeof(*v));
    v->decisive = -1;
    if (skip == NULL)
        return -1;
    for (size_t k = 0; k < rs->n; k++)
        skip[k] = rule_exempt(&rs->rules[k], env);
    rc = eval_message(rs, env, skip, v);
    for (size_t i = 0; i < n && rc == 0; i++) {
        aname_analyze(items[i].name, strlen(items[i].name), &nm.name);
        nm.has_alt = items[i].altname[0] != '\0';
        aname_analyze(items[i].altname, strlen(items[i].altname), &nm.alt);
        for (size_t k = 0; k < rs->n; k++) {
            if (skip[k] || !match_item(&rs->rules[k], &items[i], &nm, reason, sizeof(reason)))
                continue;
            rc = add_hit(v, i, k, rs->rules[k].action, reason);
            break;
        }
    }
    free(skip);
    return rc;
}

void arule_verdict_free(arule_verdict_t *v)
{
    free(v->hits);
    v->hits = NULL;
    v->nhits = 0;
}

/* Types that say nothing about the content: never a contradiction. */
static bool generic(const char *t)
{
    static const char *const g[] = {
        "", "application/octet-stream", "application/x-empty", "application/unknown",
        "application/x-download", "application/force-download", "binary/octet-stream",
        "text/plain", NULL
    };
    for (size_t i = 0; g[i] != NULL; i++)
        if (strcasecmp(t, g[i]) == 0)
            return true;
    return false;
}

/* Families whose members libmagic and mail clients name differently. */
static int family(const char *t)
{
    static const struct { const char *prefix; int fam; } f[] = {
        { "application/zip", 1 }, { "application/x-zip", 1 },
        { "application/vnd.openxmlformats-", 1 }, { "application/vnd.oasis.opendocument", 1 },
        { "application/java-archive", 1 }, { "application/epub+zip", 1 },
        { "application/vnd.ms-", 2 }, { "application/msword", 2 },
        { "application/x-ole-storage", 2 }, { "application/cdfv2", 2 },
        { "application/vnd.ms-outlook", 2 }, { "application/x-msi", 2 },
    };
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        if (strncasecmp(t, f[i].prefix, strlen(f[i].prefix)) == 0)
            return f[i].fam;
    return 0;
}

/* "application/x-gzip" -> "application/gzip" for comparison. */
static void unalias(const char *t, char *out, size_t len)
{
    const char *slash = strchr(t, '/');

    if (slash != NULL && strncasecmp(slash + 1, "x-", 2) == 0)
        snprintf(out, len, "%.*s/%s", (int) (slash - t), t, slash + 3);
    else
        snprintf(out, len, "%s", t);
}

bool arule_mismatch(const char *declared, const char *true_type)
{
    static const char *const media[] = { "text/", "image/", "audio/", "video/", "message/" };
    char a[128], b[128];

    if (generic(declared) || generic(true_type))
        return false;
    unalias(declared, a, sizeof(a));
    unalias(true_type, b, sizeof(b));
    if (strcasecmp(a, b) == 0)
        return false;
    for (size_t i = 0; i < sizeof(media) / sizeof(media[0]); i++)
        if (strncasecmp(a, media[i], strlen(media[i])) == 0
            && strncasecmp(b, media[i], strlen(media[i])) == 0)
            return false;
    int fa = family(declared), fb = family(true_type);
    return !(fa != 0 && fa == fb);
}
