/*
 * spf_macro.h - SPF macro strings (RFC 7208 section 7): syntax check
 * and expansion, for domain-specs and explanation strings.
 *
 * NAME
 *	spf_macro - check and expand %{...} macros
 *
 * SYNOPSIS
 *	spf_macro_env_t env = { .sender = "a@example.com", ... };
 *	if (spf_macro_expand(&env, spec, len, SPF_MACRO_DOMAIN, out,
 *	                     sizeof out, err, sizeof err) < 0)
 *	    -> permerror
 *
 * DESCRIPTION
 *	Letters s l o d i p h v are always allowed; c r t only in an
 *	explanation (SPF_MACRO_EXPLAIN). An upper-case letter URL-escapes
 *	its value (RFC 3986 unreserved characters stay). A transformer keeps
 *	the N right-most parts (N > 0) and/or reverses them; delimiters are
 *	any of ". - + , / _ =" (default "."); parts are joined with ".".
 *	"%%", "%_" and "%-" stand for "%", a space and "%20".
 *
 *	With SPF_MACRO_DOMAIN the result is cut on the left, label by label,
 *	until it fits in 253 characters (section 7.3), and the text after
 *	the last macro must end with a top label (section 4.6.1:
 *	domain-end) unless it ends in a macro.
 *
 *	The validated domain name (%{p}) costs DNS queries, so it is asked
 *	for through env.ptr only when the string uses it.
 */
#ifndef POSTERN_SPF_MACRO_H
#define POSTERN_SPF_MACRO_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

typedef enum { SPF_MACRO_DOMAIN, SPF_MACRO_EXPLAIN, SPF_MACRO_TEXT } spf_macro_kind_t;

typedef struct spf_macro_env {
    const char *sender;         /* local@domain */
    const char *local;          /* local part */
    const char *sender_domain;  /* o */
    const char *domain;         /* d: the current domain */
    const char *ip;             /* i: dotted quad or dot-separated nibbles */
    const char *client;         /* c: the address in its usual text form */
    const char *helo;           /* h */
    const char *receiver;       /* r */
    bool ipv6;                  /* v: "ip6" or "in-addr" */
    time_t now;                 /* t */
    /* %{p}: the validated domain name of the client, or "unknown". */
    const char *(*ptr)(void *arg);
    void *ptr_arg;
} spf_macro_env_t;

/* Checks the syntax of IN (LEN bytes) as KIND without expanding.
 * 0, or -1 with ERR. */
int spf_macro_check(const char *in, size_t len, spf_macro_kind_t kind,
                    char *err, size_t errlen);

/* Expands IN (LEN bytes) into OUT (NUL-terminated). Returns the length,
 * or -1 with ERR for a syntax error or an OUT too small. */
int spf_macro_expand(const spf_macro_env_t *env, const char *in, size_t len,
                     spf_macro_kind_t kind, char *out, size_t outlen,
                     char *err, size_t errlen);

/* True when NAME (LEN bytes) ends with a valid top label (optionally
 * followed by one "."): not all digits, letters, digits and inner '-'. */
bool spf_macro_toplabel_ok(const char *name, size_t len);

#endif
