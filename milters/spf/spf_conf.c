/*
 * spf_conf.c - keys of the [spf] section. Defaults are what a cautious
 * admin starts with: reject only on fail, tag everything else, and
 * leave DMARC to decide where a DMARC milter runs (see postern-spf(8)).
 */
#include <stddef.h>

#include "config.h"
#include "mact.h"

#include "spf_conf.h"

static const conf_key_t spf_keys[] = {
    { "check_helo", CONF_BOOL, "yes", NULL, 0, 0,
      "Check the HELO identity too and report it (smtp.helo); its result decides only for the null sender." },
    { "headers", CONF_ENUM, "both", "both|received-spf|authres|none", 0, 0,
      "Header fields to add: Received-SPF (RFC 7208 9.1), Authentication-Results spf= (RFC 8601), both or none. Only with Authentication-Results does the MTA send the message's header fields (forged ones are removed), so received-spf or none is faster; switching to one with it needs a restart." },
    { "on_pass", CONF_ENUM, "tag", MACT_CHOICES, 0, 0,
      "Action for an SPF pass." },
    { "on_fail", CONF_ENUM, "reject", MACT_CHOICES, 0, 0,
      "Action for fail: reject answers 550 5.7.23 with the domain's explanation. Set tag when a DMARC milter decides." },
    { "on_softfail", CONF_ENUM, "tag", MACT_CHOICES, 0, 0,
      "Action for softfail (~all): the domain asks not to reject." },
    { "on_neutral", CONF_ENUM, "tag", MACT_CHOICES, 0, 0,
      "Action for neutral." },
    { "on_none", CONF_ENUM, "tag", MACT_CHOICES, 0, 0,
      "Action when the domain publishes no SPF record." },
    { "on_temperror", CONF_ENUM, "tag", MACT_CHOICES, 0, 0,
      "Action for a DNS failure or time-out; tempfail answers 451 4.7.24 so the sender retries." },
    { "on_permerror", CONF_ENUM, "tag", MACT_CHOICES, 0, 0,
      "Action for a broken SPF record (syntax, too many lookups)." },
    { "skip_authenticated", CONF_BOOL, "yes", NULL, 0, 0,
      "Do not check SASL-authenticated senders (they are ours)." },
    { "trusted_relays", CONF_LIST, "", NULL, 0, 0,
      "Client networks whose mail is not checked: backup MX, forwarders (CIDR; a path starting with / is a file)." },
    { "domain_overrides", CONF_LIST, "", NULL, 0, 0,
      "Per-domain actions as DOMAIN:RESULT=ACTION (.DOMAIN for its subdomains, RESULT all for every result)." },
    { "time_limit", CONF_DURATION, "10s", NULL, 100, 25000,
      "Longest one SPF check may take (all its DNS lookups); past it the result is temperror." },
    { "max_dns_lookups", CONF_INT, "10", NULL, 1, 50,
      "DNS-querying terms allowed per check (RFC 7208 4.6.4: 10)." },
    { "max_void_lookups", CONF_INT, "2", NULL, 1, 20,
      "Lookups answering no data allowed per check (RFC 7208 4.6.4: 2)." },
    { NULL, CONF_STRING, NULL, NULL, 0, 0, NULL }
};
static const conf_key_t *const spf_keysets[] = { conf_milter_keys, spf_keys, NULL };

const conf_section_t spf_conf_section = {
    "spf", "postern-spf, the SPF milter (RFC 7208).", spf_keysets, false
};

const conf_section_t *const spf_sections[] = {
    &conf_global_section, &spf_conf_section, NULL
};
