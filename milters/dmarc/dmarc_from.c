/*
 * dmarc_from.c - RFC 5322 address-list parser for the From field: a
 * lexer that skips CFWS and yields atoms, quoted strings, encoded words
 * and specials, and a recursive-descent parser over it that keeps only
 * each mailbox's domain. First step of a DMARC evaluation.
 */
#include <stdbool.h>
#include <string.h>

#include "dmarc_from.h"

typedef enum {
    T_END, T_ATOM, T_QSTR, T_EWORD, T_DLIT, T_SPECIAL, T_BAD
} tok_kind_t;

typedef struct tok {
    tok_kind_t kind;
    char c;                     /* T_SPECIAL: the character */
    size_t start, len;          /* T_ATOM: the bytes */
} tok_t;

typedef struct parser {
    const char *s;
    size_t len, pos;
    dmarc_from_status_t st;
    dmarc_from_t *out;
} parser_t;

static bool is_special(unsigned char c)
{
    return c != '\0' && strchr("()<>[]:;@\\,.\"", c) != NULL;
}

/* atext (RFC 5322 3.2.3) plus 8-bit bytes (RFC 6532 UTF-8 headers). */
static bool is_atext(unsigned char c)
{
    if (c >= 0x80)
        return true;
    return c > 0x20 && c < 0x7f && !is_special(c);
}

static bool is_wsp(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int fail(parser_t *p, dmarc_from_status_t st)
{
    if (p->st == DMARC_FROM_OK)
        p->st = st;
    return -1;
}

/* Skips white space and comments, which nest (RFC 5322 3.2.2); the depth
 * limit keeps a hostile "((((..." from costing more than its length. */
static int skip_cfws(parser_t *p)
{
    unsigned depth = 0;

    while (p->pos < p->len) {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (depth == 0 && is_wsp(c)) {
            p->pos++;
        } else if (c == '(') {
            if (++depth > DMARC_FROM_MAX_NEST)
                return fail(p, DMARC_FROM_LIMIT);
            p->pos++;
        } else if (depth == 0) {
            return 0;
        } else if (c == ')') {
            depth--;
            p->pos++;
        } else if (c == '\\') {
            p->pos += (p->pos + 1 < p->len) ? 2 : 1;
        } else {
            p->pos++;
        }
    }
    return depth == 0 ? 0 : fail(p, DMARC_FROM_SYNTAX);
}

/* Length of an RFC 2047 encoded word at s (=?charset?X?text?=), or 0. */
static size_t eword_len(const char *s, size_t n)
{
    size_t i = 2, q = 0;

    if (n < 8 || s[0] != '=' || s[1] != '?')
        return 0;
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f)
            return 0;
        if (c == '?') {
            q++;
            if (q == 3)
                return (i + 1 < n && s[i + 1] == '=') ? i + 2 : 0;
        }
    }
    return 0;
}

/* Scans a quoted string or domain literal ending in CLOSE. */
static int scan_quoted(parser_t *p, char close)
{
    p->pos++;
    while (p->pos < p->len) {
        char c = p->s[p->pos++];
        if (c == '\\')
            p->pos++;
        else if (c == close)
            return p->pos <= p->len ? 0 : -1;
        else if (c == '[' && close == ']')
            return -1;
    }
    return -1;
}

static tok_t next_tok(parser_t *p)
{
    tok_t t = { T_END, 0, 0, 0 };

    if (skip_cfws(p) < 0) {
        t.kind = T_BAD;
        return t;
    }
    if (p->pos >= p->len)
        return t;
    t.start = p->pos;
    unsigned char c = (unsigned char)p->s[p->pos];
    size_t ew = eword_len(p->s + p->pos, p->len - p->pos);
    if (ew > 0 && (p->pos + ew == p->len || !is_atext((unsigned char)p->s[p->pos + ew]))) {
        t.kind = T_EWORD;
        p->pos += ew;
    } else if (is_atext(c)) {
        t.kind = T_ATOM;
        while (p->pos < p->len && is_atext((unsigned char)p->s[p->pos]))
            p->pos++;
    } else if (c == '"' || c == '[') {
        t.kind = c == '"' ? T_QSTR : T_DLIT;
        if (scan_quoted(p, c == '"' ? '"' : ']') < 0) {
            t.kind = T_BAD;
            fail(p, DMARC_FROM_SYNTAX);
        }
    } else if (is_special(c) && c != '(' && c != ')' && c != '\\' && c != ']') {
        t.kind = T_SPECIAL;
        t.c = (char)c;
        p->pos++;
    } else {
        t.kind = T_BAD;
        fail(p, DMARC_FROM_SYNTAX);
    }
    t.len = p->pos - t.start;
    return t;
}

static tok_t peek_tok(parser_t *p)
{
    size_t save = p->pos;
    tok_t t = next_tok(p);

    p->pos = save;
    return t;
}

static bool is_sp(tok_t t, char c)
{
    return t.kind == T_SPECIAL && t.c == c;
}

static bool is_word(tok_t t)
{
    return t.kind == T_ATOM || t.kind == T_QSTR;
}

/* A host name label: letters, digits, '-' and '_' (RFC 1035, and the
 * underscores some senders use). Anything else cannot be looked up. */
static bool label_ok(const char *s, size_t n)
{
    if (n == 0 || n > 63)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return false;
    }
    return true;
}

/* domain = atom *("." atom) [ "." ]; appended to OUT in lower case. */
static int parse_domain(parser_t *p, char *dom)
{
    size_t n = 0;

    for (;;) {
        tok_t t = next_tok(p);
        if (t.kind != T_ATOM || !label_ok(p->s + t.start, t.len))
            return fail(p, DMARC_FROM_SYNTAX);
        if (n + t.len + 1 > DMARC_DOMAIN_MAX + 1)
            return fail(p, DMARC_FROM_SYNTAX);
        for (size_t i = 0; i < t.len; i++) {
            char c = p->s[t.start + i];
            dom[n++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
        }
        dom[n] = '\0';
        if (!is_sp(peek_tok(p), '.'))
            return 0;
        next_tok(p);
        tok_t after = peek_tok(p);
        if (after.kind != T_ATOM)       /* "example.com." */
            return 0;
        dom[n++] = '.';
    }
}

/* addr-spec = local-part "@" domain; the local part is not kept. */
static int parse_addr_spec(parser_t *p)
{
    for (;;) {
        if (!is_word(next_tok(p)))
            return fail(p, DMARC_FROM_SYNTAX);
        tok_t t = next_tok(p);
        if (is_sp(t, '@'))
            break;
        if (!is_sp(t, '.'))
            return fail(p, DMARC_FROM_SYNTAX);
    }
    if (p->out->naddrs >= DMARC_FROM_MAX_ADDRS)
        return fail(p, DMARC_FROM_LIMIT);
    if (peek_tok(p).kind == T_DLIT)
        return fail(p, DMARC_FROM_SYNTAX);
    if (parse_domain(p, p->out->domain[p->out->naddrs]) < 0)
        return -1;
    p->out->naddrs++;
    return 0;
}

/* obs-route = obs-domain-list ":" inside the angle brackets (RFC 5322
 * 4.4): source routes are skipped, only the final mailbox counts. */
static int skip_route(parser_t *p)
{
    char scratch[DMARC_DOMAIN_MAX + 1];

    while (is_sp(peek_tok(p), '@') || is_sp(peek_tok(p), ',')) {
        if (is_sp(next_tok(p), '@') && parse_domain(p, scratch) < 0)
            return -1;
    }
    return is_sp(next_tok(p), ':') ? 0 : fail(p, DMARC_FROM_SYNTAX);
}

static int parse_angle(parser_t *p)
{
    if (is_sp(peek_tok(p), '@') && skip_route(p) < 0)
        return -1;
    if (parse_addr_spec(p) < 0)
        return -1;
    return is_sp(next_tok(p), '>') ? 0 : fail(p, DMARC_FROM_SYNTAX);
}

/* Skips a display name up to STOP: words, encoded words and the dots of
 * obs-phrase ("John Q. Public"). */
static int skip_phrase(parser_t *p, char stop)
{
    for (;;) {
        tok_t t = next_tok(p);
        if (is_sp(t, stop))
            return 0;
        if (!is_word(t) && t.kind != T_EWORD && !is_sp(t, '.'))
            return fail(p, DMARC_FROM_SYNTAX);
    }
}

/* What ends the tokens of the address starting here: '<' (name-addr),
 * ':' (group) or anything else (addr-spec). */
static char address_kind(parser_t *p)
{
    size_t save = p->pos;
    char kind = 0;

    for (;;) {
        tok_t t = next_tok(p);
        if (t.kind == T_END || t.kind == T_BAD)
            break;
        if (t.kind == T_SPECIAL && strchr("<:,;", t.c) != NULL) {
            kind = t.c;
            break;
        }
    }
    p->pos = save;
    return kind;
}

static int parse_list(parser_t *p, bool in_group);

static int parse_address(parser_t *p, bool in_group)
{
    char kind = address_kind(p);

    if (kind == '<') {
        if (skip_phrase(p, '<') < 0)
            return -1;
        return parse_angle(p);
    }
    if (kind == ':') {
        if (in_group || skip_phrase(p, ':') < 0)
            return fail(p, DMARC_FROM_SYNTAX);
        if (parse_list(p, true) < 0)
            return -1;
        return is_sp(next_tok(p), ';') ? 0 : fail(p, DMARC_FROM_SYNTAX);
    }
    return parse_addr_spec(p);
}

/* address-list, or a group's mailbox-list when IN_GROUP (then it ends
 * before ';'). Empty elements between commas are obsolete but allowed. */
static int parse_list(parser_t *p, bool in_group)
{
    for (;;) {
        tok_t t = peek_tok(p);
        if (t.kind == T_BAD)
            return -1;
        if (t.kind == T_END)
            return in_group ? fail(p, DMARC_FROM_SYNTAX) : 0;
        if (in_group && is_sp(t, ';'))
            return 0;
        if (is_sp(t, ',')) {
            next_tok(p);
            continue;
        }
        if (parse_address(p, in_group) < 0)
            return -1;
        t = peek_tok(p);
        if (!is_sp(t, ',') && t.kind != T_END && !(in_group && is_sp(t, ';')))
            return fail(p, DMARC_FROM_SYNTAX);
    }
}

dmarc_from_status_t dmarc_from_parse(const char *value, size_t len,
                                     dmarc_from_t *out)
{
    parser_t p = { value, len, 0, DMARC_FROM_OK, out };

    out->naddrs = 0;
    if (value == NULL)
        return DMARC_FROM_SYNTAX;
    if (len > DMARC_FROM_MAX_LEN)
        return DMARC_FROM_LIMIT;
    if (parse_list(&p, false) < 0 || p.st != DMARC_FROM_OK) {
        out->naddrs = 0;
        return p.st == DMARC_FROM_OK ? DMARC_FROM_SYNTAX : p.st;
    }
    return DMARC_FROM_OK;
}

const char *dmarc_from_status_name(dmarc_from_status_t st)
{
    switch (st) {
    case DMARC_FROM_OK: return "ok";
    case DMARC_FROM_SYNTAX: return "syntax";
    case DMARC_FROM_LIMIT: return "limit";
    }
    return "unknown";
}
