/*
 * confvalue.c - the value types of the config file: booleans, numbers
 * with units, enums, paths, lists and file modes. Every check that can
 * reject a value lives here, so the messages are the same everywhere.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "confvalue.h"

/* Values of a config file are short; anything longer is a mistake. */
#define CONFVALUE_MAX_ITEMS 1024

const char *confvalue_type_name(conf_type_t type)
{
    static const char *const names[] = {
        "string", "integer", "boolean", "duration", "size", "one of",
        "path", "list", "mode"
    };

    return (unsigned) type < sizeof(names) / sizeof(names[0]) ? names[type] : "?";
}

static char *clean(const char *raw)
{
    size_t n;

    while (*raw == ' ' || *raw == '\t')
        raw++;
    n = strlen(raw);
    while (n > 0 && (raw[n - 1] == ' ' || raw[n - 1] == '\t' || raw[n - 1] == '\r'))
        n--;
    if (n >= 2 && raw[0] == '"' && raw[n - 1] == '"') {
        raw++;
        n -= 2;
    }
    return strndup(raw, n);
}

static int parse_bool(const char *t, long long *num)
{
    static const char *const yes[] = { "yes", "true", "on", "1" };
    static const char *const no[] = { "no", "false", "off", "0" };

    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(t, yes[i]) == 0) {
            *num = 1;
            return 0;
        }
        if (strcasecmp(t, no[i]) == 0) {
            *num = 0;
            return 0;
        }
    }
    return -1;
}

/* A non-negative decimal number followed by a unit from UNITS. */
static int number_with_unit(const char *t, const char *const *units,
                            const long long *scale, size_t nunits,
                            size_t deflt, long long *num)
{
    char *end;
    long long v;

    if (*t < '0' || *t > '9')
        return -1;
    errno = 0;
    v = strtoll(t, &end, 10);
    if (errno != 0)
        return -1;
    while (*end == ' ')
        end++;
    for (size_t i = 0; i < nunits; i++) {
        if ((*end == '\0' && i == deflt) || (*end != '\0' && strcmp(end, units[i]) == 0)) {
            if (v > LLONG_MAX / scale[i])
                return -1;
            *num = v * scale[i];
            return 0;
        }
    }
    return -1;
}

static int parse_duration(const char *t, long long *ms)
{
    static const char *const units[] = { "ms", "s", "m", "h", "d" };
    static const long long scale[] = { 1, 1000, 60000, 3600000, 86400000 };

    return number_with_unit(t, units, scale, 5, 1, ms);
}

static int parse_size(const char *t, long long *bytes)
{
    static const char *const units[] = { "", "k", "K", "M", "m", "G", "g" };
    static const long long scale[] = { 1, 1024, 1024, 1048576, 1048576,
                                       1073741824LL, 1073741824LL };

    return number_with_unit(t, units, scale, 7, 0, bytes);
}

static int parse_int(const char *t, long long *num)
{
    char *end;

    errno = 0;
    *num = strtoll(t, &end, 10);
    return errno != 0 || end == t || *end != '\0' ? -1 : 0;
}

static int parse_mode(const char *t, long long *num)
{
    char *end;

    if (*t == '\0' || strspn(t, "01234567") != strlen(t))
        return -1;
    *num = strtoll(t, &end, 8);
    return *num > 07777 ? -1 : 0;
}

/* Returns the canonical choice equal to T, or NULL. */
static char *enum_choice(const char *choices, const char *t)
{
    const char *c = choices;

    while (c != NULL && *c != '\0') {
        const char *bar = strchr(c, '|');
        size_t n = bar ? (size_t) (bar - c) : strlen(c);
        if (strlen(t) == n && strncasecmp(c, t, n) == 0)
            return strndup(c, n);
        c = bar ? bar + 1 : NULL;
    }
    return NULL;
}

static int split_list(const char *t, char ***items, size_t *nitems)
{
    char **v = NULL;
    size_t n = 0;

    for (;;) {
        t += strspn(t, ", \t");
        if (*t == '\0')
            break;
        size_t len = strcspn(t, ", \t");
        char **nv = n < CONFVALUE_MAX_ITEMS ? realloc(v, (n + 1) * sizeof(*v)) : NULL;
        if (nv == NULL || (nv[n] = strndup(t, len)) == NULL) {
            v = nv ? nv : v;
            for (size_t i = 0; i < n; i++)
                free(v[i]);
            free(v);
            return -1;
        }
        v = nv;
        n++;
        t += len;
    }
    *items = v;
    *nitems = n;
    return 0;
}

static int check_bounds(const conf_key_t *key, long long num, char *why,
                        size_t whylen)
{
    if (key->max <= key->min || (num >= key->min && num <= key->max))
        return 0;
    if (key->type == CONF_DURATION)
        snprintf(why, whylen, "must be between %lldms and %lldms", key->min, key->max);
    else
        snprintf(why, whylen, "must be between %lld and %lld", key->min, key->max);
    return -1;
}

static int parse_typed(const conf_key_t *key, char **t, long long *num,
                       char ***items, size_t *nitems, char *why, size_t whylen)
{
    char *canon;

    switch (key->type) {
    case CONF_STRING:
        return 0;
    case CONF_BOOL:
        if (parse_bool(*t, num) == 0)
            return 0;
        snprintf(why, whylen, "not a boolean (yes/no): '%.80s'", *t);
        return -1;
    case CONF_INT:
        if (parse_int(*t, num) == 0)
            return check_bounds(key, *num, why, whylen);
        snprintf(why, whylen, "not an integer: '%.80s'", *t);
        return -1;
    case CONF_DURATION:
        if (parse_duration(*t, num) == 0)
            return check_bounds(key, *num, why, whylen);
        snprintf(why, whylen, "not a duration (e.g. 500ms, 30s, 5m, 1h, 2d): '%.80s'", *t);
        return -1;
    case CONF_SIZE:
        if (parse_size(*t, num) == 0)
            return check_bounds(key, *num, why, whylen);
        snprintf(why, whylen, "not a size (e.g. 512, 64k, 10M, 1G): '%.80s'", *t);
        return -1;
    case CONF_MODE:
        if (parse_mode(*t, num) == 0)
            return 0;
        snprintf(why, whylen, "not an octal file mode (e.g. 0660): '%.80s'", *t);
        return -1;
    case CONF_ENUM:
        if ((canon = enum_choice(key->choices, *t)) != NULL) {
            free(*t);
            *t = canon;
            return 0;
        }
        snprintf(why, whylen, "must be one of %s, got '%.80s'", key->choices, *t);
        return -1;
    case CONF_PATH:
        if (**t == '\0' || **t == '/')
            return 0;
        snprintf(why, whylen, "not an absolute path: '%.80s'", *t);
        return -1;
    case CONF_LIST:
        if (split_list(*t, items, nitems) == 0)
            return 0;
        snprintf(why, whylen, "list too long or out of memory");
        return -1;
    }
    snprintf(why, whylen, "unknown type");
    return -1;
}

int confvalue_parse(const conf_key_t *key, const char *raw, char **text,
                    long long *num, char ***items, size_t *nitems,
                    char *why, size_t whylen)
{
    char *t = clean(raw);

    *num = 0;
    *items = NULL;
    *nitems = 0;
    if (t == NULL) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    if (parse_typed(key, &t, num, items, nitems, why, whylen) < 0) {
        free(t);
        for (size_t i = 0; i < *nitems; i++)
            free((*items)[i]);
        free(*items);
        *items = NULL;
        *nitems = 0;
        return -1;
    }
    *text = t;
    return 0;
}
