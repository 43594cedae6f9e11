/*
 * why.c - which audit records answer a "why" query (see why.h).
 */
#include <string.h>
#include <strings.h>

#include "why.h"

static bool contains(const char *line, size_t len, const char *needle)
{
    return needle != NULL && memmem(line, len, needle, strlen(needle)) != NULL;
}

/* Case-insensitive search within LEN bytes. */
static bool contains_nocase(const char *line, size_t len, const char *needle)
{
    size_t n = strlen(needle);

    for (size_t i = 0; n <= len && i <= len - n; i++)
        if (strncasecmp(line + i, needle, n) == 0)
            return true;
    return false;
}

/* An address JSON writes as it is (no escapes), so a byte search finds it. */
static bool plain(const char *addr)
{
    for (; *addr; addr++)
        if (*addr == '"' || *addr == '\\' || (unsigned char) *addr < 32
            || (unsigned char) *addr > 126)
            return false;
    return true;
}

size_t why_needles(const why_query_t *q, const char **out, size_t max, bool *nocase)
{
    size_t n = 0;

    *nocase = false;
    if (q->qid != NULL) {
        if (q->nconns + 1 > max)
            return 0;
        out[n++] = q->qid;
        for (size_t i = 0; i < q->nconns; i++)
            out[n++] = q->conns[i];
        return n;
    }
    *nocase = true;
    if (max > 0 && q->from != NULL && *q->from != '\0' && plain(q->from))
        out[n++] = q->from;
    else if (max > 0 && q->to != NULL && *q->to != '\0' && plain(q->to))
        out[n++] = q->to;
    return n;
}

bool why_prefilter(const why_query_t *q, const char *line, size_t len)
{
    if (q->qid != NULL) {
        if (contains(line, len, q->qid))
            return true;
        for (size_t i = 0; i < q->nconns; i++)
            if (contains(line, len, q->conns[i]))
                return true;
        return false;
    }
    if (q->from != NULL && plain(q->from) && !contains_nocase(line, len, q->from))
        return false;
    if (q->to != NULL && plain(q->to) && !contains_nocase(line, len, q->to))
        return false;
    if (q->since != NULL && len > 20 && strncmp(line, "{\"ts\":\"", 7) == 0
        && strncmp(line + 7, q->since, strlen(q->since)) < 0)
        return false;
    return true;
}

static const char *str(const json_t *r, const char *key)
{
    return json_string_value(json_object_get(r, key));
}

static bool has_rcpt(const json_t *r, const char *to)
{
    const json_t *a = json_object_get(r, "rcpt");
    size_t i;
    json_t *v;

    json_array_foreach(a, i, v) {
        const char *s = json_string_value(v);
        if (s != NULL && strcasecmp(s, to) == 0)
            return true;
    }
    return false;
}

bool why_match(const why_query_t *q, const json_t *r)
{
    const char *qid = str(r, "qid"), *conn = str(r, "conn"), *ts = str(r, "ts");

    if (q->qid != NULL) {
        bool mine = qid != NULL && strcmp(qid, q->qid) == 0;
        for (size_t i = 0; !mine && conn != NULL && i < q->nconns; i++)
            mine = strcmp(conn, q->conns[i]) == 0;
        if (!mine)
            return false;
    }
    if (q->from != NULL && (str(r, "from") == NULL || strcasecmp(str(r, "from"), q->from) != 0))
        return false;
    if (q->to != NULL && !has_rcpt(r, q->to))
        return false;
    if (q->since != NULL && (ts == NULL || strncmp(ts, q->since, strlen(q->since)) < 0))
        return false;
    return true;
}

int why_severity(const char *action)
{
    static const struct {
        const char *word;
        int level;
    } levels[] = {
        { "reject", 5 }, { "tempfail", 4 }, { "defer", 4 }, { "discard", 3 },
        { "quarantine", 2 }, { "hold", 2 }, { "tag", 1 }, { "warn", 1 },
    };

    if (action == NULL || strncmp(action, "monitor:", 8) == 0)
        return 0;
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
        if (strcasecmp(action, levels[i].word) == 0)
            return levels[i].level;
    return 0;
}
