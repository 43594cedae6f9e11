/*
 * limit.h - the rate limits of postern-policyd, as configured in
 * "[limit NAME]" sections, and the pure decisions about one request.
 *
 * NAME
 *	limits - which key, what to count, what to answer
 *
 * DESCRIPTION
 *	A limit counts messages, recipients or bytes per key, where the key
 *	is built from request attributes: sasl_username, sender,
 *	sender_domain, client_address, client_net (the client's /24, or /64
 *	for IPv6), recipient, recipient_domain, or a combination
 *	("key = sasl_username, client_net"). A limit whose key needs an
 *	attribute the request lacks (no sasl_username for an unauthenticated
 *	client) does not apply to that request.
 *
 *	Counting happens at one stage: at END-OF-MESSAGE, where Postfix
 *	gives the real size and recipient count (count = messages, bytes or
 *	recipients), or at RCPT, to refuse early (count = messages counts
 *	the first recipient of each transaction, recipients counts each).
 *	Bytes can only be counted at END-OF-MESSAGE.
 *
 *	The answer for a request over a limit is the limit's action:
 *	defer (DEFER_IF_PERMIT 4.7.1 TEXT), reject (REJECT 5.7.1 TEXT),
 *	hold (HOLD TEXT) or warn (DUNNO, logged only). Clients in the limit's
 *	exempt list, and key values in exempt_keys, are never counted.
 *	The limits keep a reference to the config they came from.
 */
#ifndef POSTERN_LIMIT_H
#define POSTERN_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "netlist.h"

#include "gcra.h"
#include "request.h"

#define LIMIT_MAX_PARTS 4
#define LIMIT_KEY_MAX 600

typedef enum {
    KEY_SASL_USERNAME, KEY_SENDER, KEY_SENDER_DOMAIN, KEY_CLIENT_ADDRESS,
    KEY_CLIENT_NET, KEY_RECIPIENT, KEY_RECIPIENT_DOMAIN
} limit_part_t;

typedef enum { COUNT_MESSAGES, COUNT_RECIPIENTS, COUNT_BYTES } limit_count_t;
typedef enum { STAGE_RCPT, STAGE_EOM } limit_stage_t;
typedef enum { ACTION_WARN, ACTION_HOLD, ACTION_DEFER, ACTION_REJECT } limit_action_t;

typedef struct limit {
    char name[64];
    limit_part_t parts[LIMIT_MAX_PARTS];
    size_t nparts;
    limit_count_t count;
    limit_stage_t stage;
    gcra_params_t gcra;
    char rate_text[32];
    limit_action_t action;
    char text[256];
    netlist_t *exempt;
    const char *const *exempt_keys;     /* owned by the config */
    size_t nexempt_keys;
} limit_t;

typedef struct limits limits_t;

/* The "[limit NAME]" schema, for the component's section list. */
extern const conf_section_t limit_conf_section;

/* Builds the limits from CFG; NULL with ERR naming "[limit NAME] key". */
limits_t *limits_from_config(const config_t *cfg, char *err, size_t errlen);
size_t limits_count(const limits_t *ls);
const limit_t *limits_get(const limits_t *ls, size_t i);
void limits_free(limits_t *ls);

/* Writes the key of REQ for L to BUF ("NAME|v1|v2"); false when the limit
 * does not apply (missing attribute, exempt client, other stage). */
bool limit_key(const limit_t *l, const request_t *req, char *buf, size_t buflen);

/* What REQ costs under L at its stage (0: nothing to count). */
uint64_t limit_cost(const limit_t *l, const request_t *req);

/* The policy reply line for a request refused by L ("action=..."). */
void limit_reply(const limit_t *l, const gcra_result_t *r, char *buf, size_t buflen);

/* Action words for logs and the audit log. */
const char *limit_action_name(limit_action_t a);

#endif
