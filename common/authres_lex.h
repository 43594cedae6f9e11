/*
 * authres_lex.h - the lexical layer shared by the Authentication-Results
 * builder and parser: what a token, a keyword and a quoted string are
 * (RFC 2045, RFC 5322 CFWS), so both sides agree on quoting.
 */
#ifndef POSTERN_AUTHRES_LEX_H
#define POSTERN_AUTHRES_LEX_H

#include <stdbool.h>
#include <stddef.h>

typedef struct arlex {
    const char *p, *end;
    char *err;
    size_t errlen;
} arlex_t;

bool arlex_is_token_char(unsigned char c);
bool arlex_is_keyword_char(unsigned char c);

/* Skips blanks, line breaks and (nested) comments; -1 on a bad comment. */
int arlex_skip_cfws(arlex_t *l);
/* A run of keyword characters, malloc'd; NULL (and ERR) when empty. */
char *arlex_keyword(arlex_t *l, const char *what);
/* A token or a quoted string, malloc'd; NULL (and ERR) on error. */
char *arlex_value(arlex_t *l, const char *what);
/* A property value: quoted string, or a run up to blank, ';' or '('. */
char *arlex_pvalue(arlex_t *l);
/* Consumes C or fails with "expected 'C'". */
int arlex_expect(arlex_t *l, char c, const char *where);
bool arlex_at_end(const arlex_t *l);

#endif
