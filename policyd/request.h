/*
 * request.h - one Postfix policy delegation request (SMTPD_POLICY_README):
 * "name=value" lines ended by an empty line.
 *
 * NAME
 *	request - parse policy requests from untrusted bytes
 *
 * SYNOPSIS
 *	size_t used;
 *	switch (request_parse(buf, len, &req, &used, err, sizeof(err))) {
 *	case REQUEST_OK:       ... request_get(&req, "sender") ...; consume used bytes
 *	case REQUEST_PARTIAL:  read more (unless len >= REQUEST_MAX_BYTES)
 *	case REQUEST_BAD:      answer a safe default, log err, close
 *	}
 *
 * DESCRIPTION
 *	The parser finds the first empty line in BUF and splits what is
 *	before it into attributes; values are not copied, only pointed to
 *	inside a copy held by REQ (so BUF may be reused at once). Limits
 *	(oversized requests and garbage are a client error, not a reason to
 *	grow without bound): REQUEST_MAX_BYTES per request,
 *	REQUEST_MAX_ATTRS attributes, names of letters, digits and '_'.
 *	Postfix adds attributes over time; unknown ones are kept and
 *	ignored. A repeated attribute keeps its first value. Lines may end
 *	in "\n" or "\r\n".
 */
#ifndef POSTERN_REQUEST_H
#define POSTERN_REQUEST_H

#include <stddef.h>

#define REQUEST_MAX_BYTES 16384
#define REQUEST_MAX_ATTRS 96

typedef enum { REQUEST_OK, REQUEST_PARTIAL, REQUEST_BAD } request_status_t;

typedef struct request_attr {
    const char *name, *value;
} request_attr_t;

typedef struct request {
    char text[REQUEST_MAX_BYTES + 1];
    request_attr_t attrs[REQUEST_MAX_ATTRS];
    size_t nattrs;
} request_t;

/* See above; *USED is the bytes of BUF the request took (with its empty
 * line) when REQUEST_OK. REQUEST_BAD with ERR when BUF holds no empty
 * line within REQUEST_MAX_BYTES or a line is not name=value. */
request_status_t request_parse(const char *buf, size_t len, request_t *req,
                               size_t *used, char *err, size_t errlen);

/* Value of NAME, or "" when absent (Postfix sends empty values too). */
const char *request_get(const request_t *req, const char *name);

#endif
