/*
 * ppolicy.h - the client side of the Postfix policy delegation protocol
 * (SMTPD_POLICY_README), for the load generator: build a request, decode
 * and classify the server's reply.
 *
 * NAME
 *	ppolicy - encode policy requests, decode "action=..." replies
 *
 * SYNOPSIS
 *	ppolicy_attr_t a[] = {{"request", "smtpd_access_policy"}, ...};
 *	ppolicy_encode(buf, sizeof buf, a, n, &len, err, sizeof err);
 *	write(fd, buf, len);
 *
 *	ppolicy_reply_t rep;
 *	r = ppolicy_decode_reply(in, inlen, &rep, err, sizeof err);
 *	    (1: rep is the reply, 0: read more, -1: protocol error)
 *	ppolicy_action_word(rep.action, rep.action_len, word, sizeof word);
 *
 * DESCRIPTION
 *	A request is one "name=value\n" line per attribute and an empty
 *	line. A reply is exactly "action=VALUE\n\n": one attribute, then
 *	the empty line. Postfix accepts any access(5) action as VALUE
 *	(DUNNO, OK, REJECT text, DEFER_IF_PERMIT text, "450 text", ...).
 *
 *	The reply comes from the server under test and is untrusted: the
 *	decoder reads only the LEN bytes it is given, needs no NUL, and
 *	rejects a reply longer than PPOLICY_MAX_REPLY, one with a NUL or CR
 *	byte, another attribute than "action", or an empty action. All
 *	functions are pure: no allocation, no I/O.
 */
#ifndef POSTERN_PPOLICY_H
#define POSTERN_PPOLICY_H

#include <stddef.h>

/* Longer than any reply a policy server sends in practice ("action=",
 * an access(5) action and an SMTP reply text of at most 512 bytes), so
 * a server that never ends its reply is caught early. */
#define PPOLICY_MAX_REPLY 2048

/* Room for an action word in a tally, with its NUL. */
#define PPOLICY_WORD_MAX 24

typedef struct {
    const char *name;
    const char *value;          /* NULL is sent as an empty value */
} ppolicy_attr_t;

typedef struct {
    const char *action;         /* points into the decoded buffer */
    size_t action_len;          /* > 0 */
    size_t consumed;            /* bytes of the reply, "\n\n" included */
} ppolicy_reply_t;

/* Writes the request (n attributes, then the empty line) to buf, at most
 * cap bytes, and its length to *len; buf is NUL-terminated.
 * 0, or -1 with err filled: a name empty or holding '=' or '\n', a value
 * holding '\n', or the request does not fit in cap. */
int ppolicy_encode(char *buf, size_t cap, const ppolicy_attr_t *attrs,
                   size_t n, size_t *len, char *err, size_t errlen);

/* Looks for one reply at the start of buf (len bytes).
 * 1: complete, *out filled (the action text has no trailing newline);
 * 0: a valid beginning, read more; -1: protocol error, err filled. */
int ppolicy_decode_reply(const char *buf, size_t len, ppolicy_reply_t *out,
                         char *err, size_t errlen);

/* The word a reply is tallied under: the leading run of letters, digits,
 * '_' and '-' of the action, upper-cased ("reject Blocked" -> "REJECT",
 * "450 4.7.1 later" -> "450"), cut to wordlen - 1 bytes. An action that
 * does not start with such a character gives "?". Always NUL-terminates
 * (wordlen > 0). */
void ppolicy_action_word(const char *action, size_t len, char *word,
                         size_t wordlen);

#endif
