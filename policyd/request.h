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
 *	in "\n" or "\r\n". Parsing is linear in the request's length (a
 *	request is parsed for every recipient of every message).
 */
#ifndef POSTERN_REQUEST_H
#define POSTERN_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#define REQUEST_MAX_BYTES 16384
#define REQUEST_MAX_ATTRS 96

typedef enum { REQUEST_OK, REQUEST_PARTIAL, REQUEST_BAD } request_status_t;

typedef struct request_attr {
    const char *name, *value;
} request_attr_t;

/* The attributes the limits read, found once by the parser so a limit
 * reads them without searching (request_value). */
typedef enum {
    REQ_PROTOCOL_STATE, REQ_QUEUE_ID, REQ_HELO_NAME, REQ_SENDER, REQ_RECIPIENT,
    REQ_RECIPIENT_COUNT, REQ_CLIENT_ADDRESS, REQ_SASL_USERNAME, REQ_SIZE, REQ_NKNOWN
} request_known_t;

typedef struct request {
    char text[REQUEST_MAX_BYTES + 1];
    request_attr_t attrs[REQUEST_MAX_ATTRS];
    uint32_t hash[REQUEST_MAX_ATTRS];   /* of each name, to find repeats */
    size_t nattrs;
    uint64_t seen;                      /* bit hash % 64 of every name */
    const char *known[REQ_NKNOWN];      /* NULL when absent */
} request_t;

/* See above; *USED is the bytes of BUF the request took (with its empty
 * line) when REQUEST_OK. REQUEST_BAD with ERR when BUF holds no empty
 * line within REQUEST_MAX_BYTES, or as soon as a complete line is not
 * name=value (before the request's end has arrived). */
request_status_t request_parse(const char *buf, size_t len, request_t *req,
                               size_t *used, char *err, size_t errlen);

/* Value of NAME, or "" when absent (Postfix sends empty values too). */
const char *request_get(const request_t *req, const char *name);

/* The same for one of the attributes the limits read, without a search. */
const char *request_value(const request_t *req, request_known_t a);

#endif
