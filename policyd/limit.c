/*
 * limit.c - limits from config, and the pure per-request parts of a
 * decision: the key, the cost, the reply. The counting itself is the
 * back end's (gcra_apply on the key's state).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "netlist.h"

#include "limit.h"

struct limits {
    limit_t *v;
    size_t n;
    config_t *cfg;              /* referenced: exempt_keys point into it */
};

static const conf_key_t limit_keys[] = {
    { "key", CONF_LIST, "sender", NULL, 0, 0,
      "Attributes that make the key: sasl_username, sender, sender_domain, client_address, "
      "client_net, recipient, recipient_domain (up to 4)." },
    { "count", CONF_ENUM, "messages", "messages|recipients|bytes", 0, 0,
      "What is counted." },
    { "stage", CONF_ENUM, "eom", "rcpt|eom", 0, 0,
      "Where it is counted: rcpt refuses early, eom sees the real size and recipient count." },
    { "rate", CONF_STRING, NULL, NULL, 0, 0,
      "How many per period, e.g. 100/1h, 500/1d, 20/10m (required)." },
    { "burst", CONF_INT, "0", NULL, 0, 100000000,
      "How many at once; 0 means the rate's count." },
    { "action", CONF_ENUM, "defer", "defer|reject|hold|warn", 0, 0,
      "Answer when over the limit: defer (4.7.1), reject (5.7.1), hold, or warn (log only)." },
    { "text", CONF_STRING, "Rate limit exceeded, try again later", NULL, 0, 0,
      "Text of the SMTP reply when over the limit." },
    { "exempt", CONF_LIST, "", NULL, 0, 0,
      "Client networks never counted (CIDR, or a file of them)." },
    { "exempt_keys", CONF_LIST, "", NULL, 0, 0,
      "Key values never counted, as the key is written (e.g. a SASL user name, or "
      "example.net|192.0.2.0/24 for two attributes)." },
    { NULL, CONF_STRING, NULL, NULL, 0, 0, NULL }
};
static const conf_key_t *const limit_keysets[] = { limit_keys, NULL };

const conf_section_t limit_conf_section = {
    "limit", "One rate limit of postern-policyd; any number of them, each with a name.",
    limit_keysets, true
};

static const char *const part_names[] = {
    "sasl_username", "sender", "sender_domain", "client_address", "client_net",
    "recipient", "recipient_domain"
};

static const char *const action_names[] = { "warn", "hold", "defer", "reject" };

const char *limit_action_name(limit_action_t a)
{
    return action_names[a];
}

static int enum_index(const char *v, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v, names[i]) == 0)
            return (int) i;
    return -1;
}

/* ---- from config ---- */

static int config_error(char *err, size_t errlen, const config_t *cfg, const char *sect,
                        const char *key, const char *why)
{
    int line = config_line(cfg, sect, key);

    if (line > 0)
        snprintf(err, errlen, "%s:%d: [%s] %s: %s", config_path(cfg), line, sect, key, why);
    else
        snprintf(err, errlen, "%s: [%s] %s: %s", config_path(cfg), sect, key, why);
    return -1;
}

static int read_parts(limit_t *l, const config_t *cfg, const char *sect, char *err,
                      size_t errlen)
{
    const char *const *items;
    size_t n = config_list(cfg, sect, "key", &items);

    if (n == 0 || n > LIMIT_MAX_PARTS)
        return config_error(err, errlen, cfg, sect, "key", "between 1 and 4 attributes");
    for (size_t i = 0; i < n; i++) {
        int k = enum_index(items[i], part_names, sizeof(part_names) / sizeof(part_names[0]));
        if (k < 0)
            return config_error(err, errlen, cfg, sect, "key", "unknown attribute");
        l->parts[l->nparts++] = (limit_part_t) k;
    }
    return 0;
}

static int read_rate(limit_t *l, const config_t *cfg, const char *sect, char *err,
                     size_t errlen)
{
    const char *rate = config_str(cfg, sect, "rate");
    char why[160];
    uint64_t n;
    int64_t period;

    if (rate == NULL)
        return config_error(err, errlen, cfg, sect, "rate", "required");
    if (gcra_parse_rate(rate, &n, &period, why, sizeof(why)) < 0
        || gcra_params_init(&l->gcra, n, period, (uint64_t) config_int(cfg, sect, "burst"),
                            why, sizeof(why)) < 0)
        return config_error(err, errlen, cfg, sect, "rate", why);
    snprintf(l->rate_text, sizeof(l->rate_text), "%s", rate);
    return 0;
}

static int read_limit(limit_t *l, const config_t *cfg, const char *name, char *err,
                      size_t errlen)
{
    static const char *const counts[] = { "messages", "recipients", "bytes" };
    static const char *const stages[] = { "rcpt", "eom" };
    const char *const *items;
    char sect[128], why[256];
    size_t nexempt;

    snprintf(sect, sizeof(sect), "limit %s", name);
    snprintf(l->name, sizeof(l->name), "%s", name);
    if (read_parts(l, cfg, sect, err, errlen) < 0 || read_rate(l, cfg, sect, err, errlen) < 0)
        return -1;
    l->count = (limit_count_t) enum_index(config_str(cfg, sect, "count"), counts, 3);
    l->stage = (limit_stage_t) enum_index(config_str(cfg, sect, "stage"), stages, 2);
    l->action = (limit_action_t) enum_index(config_str(cfg, sect, "action"), action_names, 4);
    if (l->count == COUNT_BYTES && l->stage != STAGE_EOM)
        return config_error(err, errlen, cfg, sect, "stage",
                            "bytes are known only at eom");
    snprintf(l->text, sizeof(l->text), "%s", config_str(cfg, sect, "text"));
    l->nexempt_keys = config_list(cfg, sect, "exempt_keys", &l->exempt_keys);
    nexempt = config_list(cfg, sect, "exempt", &items);
    if ((l->exempt = netlist_new()) == NULL)
        return config_error(err, errlen, cfg, sect, "exempt", "out of memory");
    for (size_t i = 0; i < nexempt; i++)
        if (netlist_add_list(l->exempt, items[i], why, sizeof(why)) < 0)
            return config_error(err, errlen, cfg, sect, "exempt", why);
    return 0;
}

limits_t *limits_from_config(const config_t *cfg, char *err, size_t errlen)
{
    const char *const *names;
    size_t n = config_instances(cfg, "limit", &names);
    limits_t *ls = calloc(1, sizeof(*ls));

    if (ls == NULL || (ls->v = calloc(n ? n : 1, sizeof(limit_t))) == NULL) {
        free(ls);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* The reference count is not part of the config's value. */
    ls->cfg = config_ref((config_t *) cfg);
    for (size_t i = 0; i < n; i++) {
        ls->n++;
        if (read_limit(&ls->v[i], cfg, names[i], err, errlen) < 0) {
            limits_free(ls);
            return NULL;
        }
    }
    return ls;
}

size_t limits_count(const limits_t *ls)
{
    return ls->n;
}

const limit_t *limits_get(const limits_t *ls, size_t i)
{
    return i < ls->n ? &ls->v[i] : NULL;
}

void limits_free(limits_t *ls)
{
    if (ls == NULL)
        return;
    for (size_t i = 0; i < ls->n; i++)
        netlist_free(ls->v[i].exempt);
    config_unref(ls->cfg);
    free(ls->v);
    free(ls);
}

/* ---- per request ---- */

static bool at_stage(const limit_t *l, const request_t *req)
{
    const char *state = request_value(req, REQ_PROTOCOL_STATE);

    return l->stage == STAGE_EOM ? strcasecmp(state, "END-OF-MESSAGE") == 0
                                 : strcasecmp(state, "RCPT") == 0;
}

/* "a.b.c.0/24" or "x:x:x:x::/64" of the client address. */
static bool client_net(const char *addr, char *buf, size_t len)
{
    unsigned char a[16];

    if (inet_pton(AF_INET, addr, a) == 1) {
        snprintf(buf, len, "%u.%u.%u.0/24", a[0], a[1], a[2]);
        return true;
    }
    if (inet_pton(AF_INET6, addr, a) != 1)
        return false;
    memset(a + 8, 0, 8);
    char text[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, a, text, sizeof(text));
    snprintf(buf, len, "%s/64", text);
    return true;
}

static const char *domain_of(const char *addr)
{
    const char *at = strrchr(addr, '@');

    return at ? at + 1 : "";
}

/* Writes the value of one key part; false when the request lacks it. */
static bool part_value(limit_part_t p, const request_t *req, char *buf, size_t len)
{
    const char *v = "";

    switch (p) {
    case KEY_SASL_USERNAME: v = request_value(req, REQ_SASL_USERNAME); break;
    case KEY_SENDER: v = request_value(req, REQ_SENDER); break;
    case KEY_SENDER_DOMAIN: v = domain_of(request_value(req, REQ_SENDER)); break;
    case KEY_CLIENT_ADDRESS: v = request_value(req, REQ_CLIENT_ADDRESS); break;
    case KEY_CLIENT_NET: return client_net(request_value(req, REQ_CLIENT_ADDRESS), buf, len);
    case KEY_RECIPIENT: v = request_value(req, REQ_RECIPIENT); break;
    case KEY_RECIPIENT_DOMAIN: v = domain_of(request_value(req, REQ_RECIPIENT)); break;
    }
    size_t n = strlen(v);
    if (n == 0 || n >= len)
        return false;
    /* Case never makes a different sender: Alice@Example.COM is alice@example.com.
     * ASCII only, as the locale must not change a key. */
    for (size_t i = 0; i < n; i++)
        buf[i] = v[i] >= 'A' && v[i] <= 'Z' ? (char) (v[i] + 'a' - 'A') : v[i];
    buf[n] = '\0';
    return true;
}

bool limit_key(const limit_t *l, const request_t *req, char *buf, size_t buflen)
{
    char part[300];
    size_t o = strlen(l->name);

    if (!at_stage(l, req) || o >= buflen
        || (netlist_count(l->exempt) > 0
            && netlist_match_str(l->exempt, request_value(req, REQ_CLIENT_ADDRESS))))
        return false;
    memcpy(buf, l->name, o + 1);
    for (size_t i = 0; i < l->nparts; i++) {
        if (!part_value(l->parts[i], req, part, sizeof(part)))
            return false;
        size_t n = strlen(part);
        if (o + 1 + n >= buflen)
            return false;
        buf[o] = '|';
        memcpy(buf + o + 1, part, n + 1);
        o += 1 + n;
    }
    /* The key without the limit's name, as the admin wrote it. */
    const char *value = buf + strlen(l->name) + 1;
    for (size_t i = 0; i < l->nexempt_keys; i++)
        if (strcasecmp(value, l->exempt_keys[i]) == 0)
            return false;
    return true;
}

static uint64_t number(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);

    return *s >= '0' && *s <= '9' && *end == '\0' ? v : 0;
}

uint64_t limit_cost(const limit_t *l, const request_t *req)
{
    if (!at_stage(l, req))
        return 0;
    switch (l->count) {
    case COUNT_MESSAGES:
        /* At RCPT, once per transaction: Postfix counts the recipients
         * accepted so far, 0 at the first. */
        return l->stage == STAGE_EOM || number(request_value(req, REQ_RECIPIENT_COUNT)) == 0;
    case COUNT_RECIPIENTS:
        return l->stage == STAGE_RCPT ? 1 : number(request_value(req, REQ_RECIPIENT_COUNT));
    case COUNT_BYTES:
        return number(request_value(req, REQ_SIZE));
    }
    return 0;
}

void limit_reply(const limit_t *l, const gcra_result_t *r, char *buf, size_t buflen)
{
    long long wait_s = r->retry_after_us < 0 ? -1 : (r->retry_after_us + 999999) / 1000000;
    char when[64] = "";

    if (wait_s >= 0)
        snprintf(when, sizeof(when), " (retry in %llds)", wait_s);
    switch (l->action) {
    case ACTION_REJECT:
        snprintf(buf, buflen, "action=REJECT 5.7.1 %s [%s]", l->text, l->name);
        break;
    case ACTION_DEFER:
        snprintf(buf, buflen, "action=DEFER_IF_PERMIT 4.7.1 %s%s [%s]", l->text, when,
                 l->name);
        break;
    case ACTION_HOLD:
        snprintf(buf, buflen, "action=HOLD %s [%s]", l->text, l->name);
        break;
    case ACTION_WARN:
        snprintf(buf, buflen, "action=DUNNO");
        break;
    }
}
