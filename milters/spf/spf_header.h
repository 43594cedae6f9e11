/*
 * spf_header.h - the header fields postern-spf adds: Received-SPF
 * (RFC 7208 section 9.1) and the spf= results of Authentication-Results
 * (RFC 8601 section 2.7.2), from verdicts.
 *
 * NAME
 *	spf_header - Received-SPF and Authentication-Results spf=
 *
 * SYNOPSIS
 *	spf_header_received(&v, "mx.example.org", "192.0.2.1", helo,
 *	                    from, buf, sizeof buf);
 *	    -> "pass (mx.example.org: domain of a@example.net designates
 *	        192.0.2.1 as permitted sender) client-ip=192.0.2.1; ..."
 *	authres_builder_t *b = authres_builder_new(authserv_id);
 *	spf_header_authres(b, &v_mailfrom);
 *	spf_header_authres(b, &v_helo);
 *
 * DESCRIPTION
 *	Names and addresses come from the SMTP client. Received-SPF key
 *	values are written as dot-atoms when they are, and as quoted
 *	strings (with '"' and '\' escaped) otherwise; control characters
 *	and non-ASCII bytes are dropped, so no value can end the field or
 *	start a new one. The comment names the receiver and says in words
 *	what the result means.
 *
 *	The A-R result carries smtp.mailfrom (the checked sender, RFC 8601
 *	2.7.2) or smtp.helo for the HELO identity; the authres builder
 *	refuses unsafe values itself.
 *
 * RETURNS
 *	spf_header_received: the length written, or -1 when BUF is too
 *	small. spf_header_authres: 0, or -1 when the builder refused.
 */
#ifndef POSTERN_SPF_HEADER_H
#define POSTERN_SPF_HEADER_H

#include <sys/types.h>

#include "authres.h"

#include "spf_eval.h"

ssize_t spf_header_received(const spf_verdict_t *v, const char *receiver,
                            const char *client_ip, const char *helo,
                            const char *envelope_from, char *buf, size_t buflen);

int spf_header_authres(authres_builder_t *b, const spf_verdict_t *v);

#endif
