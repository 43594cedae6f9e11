/*
 * dkim_conf.c - keys of the [dkim] section: which mail is signed, with
 * which keys and headers, and what happens to mail whose signatures
 * fail. Defaults are what a cautious admin starts with: sign what comes
 * from inside, report on everything else, reject nothing.
 */
#include <stddef.h>

#include "config.h"
#include "mact.h"

#include "dkim_conf.h"

const conf_key_t dkim_keys[] = {
    { "keytable", CONF_PATH, "", NULL, 0, 0,
      "File of signing keys, one \"DOMAIN SELECTOR KEYFILE [SIGNING-DOMAIN]\" a line; empty means verify only." },
    { "sign_internal", CONF_BOOL, "yes", NULL, 0, 0,
      "Sign mail from clients in [global] internal_hosts." },
    { "sign_authenticated", CONF_BOOL, "yes", NULL, 0, 0,
      "Sign mail from SASL-authenticated clients ({auth_authen} set)." },
    { "sign_daemons", CONF_LIST, "ORIGINATING", NULL, 0, 0,
      "MTA daemon names ({daemon_name}) whose mail is signed; empty means none." },
    { "canonicalization", CONF_ENUM, "relaxed/relaxed",
      "relaxed/relaxed|relaxed/simple|simple/relaxed|simple/simple", 0, 0,
      "Header/body canonicalization of our signatures (RFC 6376 3.4)." },
    { "sign_headers", CONF_LIST,
      "from, reply-to, subject, date, to, cc, message-id, in-reply-to, references, "
      "mime-version, content-type, content-transfer-encoding, list-id, list-unsubscribe",
      NULL, 0, 0,
      "Header fields our signatures cover when present (From is always covered)." },
    { "oversign_headers", CONF_LIST, "from, reply-to, subject, date, to, cc", NULL, 0, 0,
      "Header fields signed once more than they occur, so none can be added after signing." },
    { "signature_ttl", CONF_DURATION, "0", NULL, 0, 31536000000LL,
      "Lifetime written as x= in our signatures; 0 means no expiry." },
    { "max_signatures", CONF_INT, "5", NULL, 1, 50,
      "Most DKIM-Signature fields of one message that are verified; the rest are ignored." },
    { "max_headers", CONF_INT, "1000", NULL, 10, 100000,
      "Most header fields of one message that are processed; a message with more is not verified." },
    { "min_key_bits", CONF_INT, "1024", NULL, 1024, 16384,
      "RSA keys shorter than this make a signature fail verification (RFC 8301)." },
    { "on_fail", CONF_ENUM, "accept", MACT_CHOICES, 0, 0,
      "Action when no signature passes and one fails, or is in error (fail, policy, permerror)." },
    { "on_temperror", CONF_ENUM, "accept", MACT_CHOICES, 0, 0,
      "Action when no signature passes and a key could not be fetched (DNS failure)." },
    { "on_sign_error", CONF_ENUM, "tempfail", MACT_CHOICES, 0, 0,
      "Action when mail that must be signed cannot be (internal error)." },
    { NULL, CONF_STRING, NULL, NULL, 0, 0, NULL }
};

static const conf_key_t *const dkim_keysets[] = { conf_milter_keys, dkim_keys, NULL };

const conf_section_t dkim_conf_section = {
    "dkim", "postern-dkim: DKIM signing of outbound and verification of inbound mail.",
    dkim_keysets, false
};
