/*
 * authres.h - Authentication-Results header fields (RFC 8601): one
 * builder for the fields we add, one parser for the fields we read.
 *
 * NAME
 *	authres - build and parse Authentication-Results
 *
 * SYNOPSIS
 *	authres_builder_t *b = authres_builder_new("mx.example.org");
 *	authres_add(b, "spf", "pass", NULL);
 *	authres_add_prop(b, "smtp", "mailfrom", "alice@example.net");
 *	authres_format(b, buf, sizeof(buf));
 *	    -> "mx.example.org;\n\tspf=pass smtp.mailfrom=alice@example.net"
 *
 *	authres_t *ar;
 *	if (authres_parse(value, len, &ar, err, sizeof(err)) == 0) ...
 *
 * DESCRIPTION
 *	The builder refuses control characters (CR, LF, NUL and the rest)
 *	in every input, so nothing a sender controls can start a new header
 *	line. Values that are not RFC 2045 tokens (or user@domain) are
 *	written as quoted strings. Results are separated by ";" and each
 *	starts on a new line, folded with "\n\t", the form libmilter's
 *	smfi_insheader() takes.
 *
 *	The parser takes untrusted text with an explicit length and limits:
 *	AUTHRES_MAX_RESULTS results, AUTHRES_MAX_PROPS properties each,
 *	values up to AUTHRES_MAX_VALUE bytes, comments nested up to
 *	AUTHRES_MAX_NESTING deep. Method, result and property type names
 *	are returned in lower case.
 *
 *	The authserv-id rule (RFC 8601 section 5): a component trusts only
 *	fields carrying the configured authserv-id, and removes incoming
 *	fields that carry it, since an outside sender forged them.
 *	authres_is_ours() decides that from the authserv-id alone, so it
 *	works on fields that are otherwise malformed (forgers need not
 *	write valid syntax).
 */
#ifndef POSTERN_AUTHRES_H
#define POSTERN_AUTHRES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define AUTHRES_MAX_RESULTS 64
#define AUTHRES_MAX_PROPS 32
#define AUTHRES_MAX_VALUE 1024
#define AUTHRES_MAX_NESTING 8

/* ---- builder ---- */

typedef struct authres_builder authres_builder_t;

authres_builder_t *authres_builder_new(const char *authserv_id);
/* Starts a result: method ("spf"), result ("pass"), optional reason.
 * 0, or -1 for a bad or unsafe argument, or when full. */
int authres_add(authres_builder_t *b, const char *method, const char *result,
                const char *reason);
/* Adds ptype.property=value to the last result; 0 or -1. */
int authres_add_prop(authres_builder_t *b, const char *ptype, const char *property,
                     const char *value);
/* Writes the field value (no name, no trailing newline) to BUF. Returns
 * its length, or -1 when BUFLEN is too small. */
ssize_t authres_format(const authres_builder_t *b, char *buf, size_t buflen);
void authres_builder_free(authres_builder_t *b);

/* ---- parser ---- */

typedef struct authres_prop {
    char *ptype, *property, *value;
} authres_prop_t;

typedef struct authres_result {
    char *method;               /* "dkim" */
    int method_version;         /* 1 when absent */
    char *result;               /* "pass" */
    char *reason;               /* NULL when absent */
    authres_prop_t *props;
    size_t nprops;
} authres_result_t;

typedef struct authres {
    char *authserv_id;
    int version;                /* 1 when absent */
    authres_result_t *results;  /* none for "authserv-id; none" */
    size_t nresults;
} authres_t;

/* 0 and *OUT (caller frees with authres_free), or -1 with ERR. */
int authres_parse(const char *value, size_t len, authres_t **out, char *err,
                  size_t errlen);
void authres_free(authres_t *ar);
/* First result of METHOD (case-insensitive), or NULL. */
const authres_result_t *authres_find(const authres_t *ar, const char *method);

/* True when the field VALUE carries AUTHSERV_ID (case-insensitive). */
bool authres_is_ours(const char *value, size_t len, const char *authserv_id);

#endif
