/*
 * dmarc_conf.c - keys of the [dmarc] section. The defaults are the ones
 * a cautious admin rolling out DMARC enforcement would pick: honour the
 * sender's policy, tempfail on DNS trouble, never reject on our own
 * errors in the published record.
 */
#include <stddef.h>

#include "config.h"
#include "mact.h"

#include "dmarc_conf.h"

static const conf_key_t dmarc_keys[] = {
    { "psl_file", CONF_PATH, "/usr/share/publicsuffix/public_suffix_list.dat", NULL, 0, 0,
      "Public Suffix List used to find organizational domains (Debian package publicsuffix)." },
    { "on_reject", CONF_ENUM, "reject", MACT_CHOICES, 0, 0,
      "Action for a failing message whose domain publishes p=reject (reject answers 550 5.7.1)." },
    { "on_quarantine", CONF_ENUM, "quarantine", MACT_CHOICES, 0, 0,
      "Action for a failing message under p=quarantine: quarantine (Postfix hold queue) or tag." },
    { "on_temperror", CONF_ENUM, "tempfail", MACT_CHOICES, 0, 0,
      "Action when the DMARC record or an aligned identifier could not be checked (DNS failure)." },
    { "on_permerror", CONF_ENUM, "accept", MACT_CHOICES, 0, 0,
      "Action when the published DMARC record is unusable." },
    { "on_no_from", CONF_ENUM, "reject", MACT_CHOICES, 0, 0,
      "Action for a message with no From field or no address in it (RFC 7489 6.6.1)." },
    { "on_multi_from", CONF_ENUM, "reject", "reject|tempfail|accept|evaluate", 0, 0,
      "Several From fields or addresses: refuse, or evaluate every author domain and apply the strictest." },
    { "on_bad_from", CONF_ENUM, "reject", MACT_CHOICES, 0, 0,
      "Action for a From field that does not parse or whose domain is not a host name." },
    { "never_reject_domains", CONF_LIST, "", NULL, 0, 0,
      "Author domains whose failing mail is never rejected or quarantined, only reported." },
    { "trusted_forwarders", CONF_LIST, "", NULL, 0, 0,
      "Client networks (mailing lists, forwarders) whose failing mail is never rejected or quarantined." },
    { "spf_dkim_source", CONF_ENUM, "self", "self|authres", 0, 0,
      "SPF and DKIM results: self (evaluated here) or authres (our earlier milters' Authentication-Results)." },
    { "history", CONF_ENUM, "sqlite", "sqlite|none", 0, 0,
      "Where evaluations are kept for aggregate reports: sqlite, or none to keep nothing." },
    { "history_db", CONF_PATH, "/var/lib/postern/dmarc.db", NULL, 0, 0,
      "SQLite database of evaluations (sqlite history)." },
    { "report_org_name", CONF_STRING, "", NULL, 0, 0,
      "org_name in aggregate reports; empty means the host name." },
    { "report_email", CONF_STRING, "", NULL, 0, 0,
      "Contact address in aggregate reports; empty means postmaster@ the host name." },
    { "report_sendmail", CONF_PATH, "/usr/sbin/sendmail", NULL, 0, 0,
      "Program \"postern dmarc report --send\" hands each report mail to (sendmail -oi -f FROM -- TO). "
      "An rua outside the policy domain's organization gets mail only with its RFC 7489 7.1 "
      "authorization record, looked up with the [global] DNS settings." },
    { NULL, CONF_STRING, NULL, NULL, 0, 0, NULL }
};
static const conf_key_t *const dmarc_keysets[] = { conf_milter_keys, dmarc_keys, NULL };

const conf_section_t dmarc_conf_section = {
    "dmarc", "postern-dmarc, DMARC evaluation, enforcement and aggregate reports.",
    dmarc_keysets, false
};

const conf_section_t *const dmarc_sections[] = {
    &conf_global_section, &dmarc_conf_section, NULL
};
