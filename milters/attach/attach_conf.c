/*
 * attach_conf.c - keys of [attach] and of the "[attach-rule NAME]"
 * sections. Defaults are what a cautious admin would pick: limits that
 * fit real mail with room to spare, and refusal when a message cannot
 * be checked completely.
 */
#include <stddef.h>

#include "config.h"

#include "attach_conf.h"

static const conf_key_t attach_keys[] = {
    { "max_message_size", CONF_SIZE, "64M", NULL, 1024, 1LL << 32,
      "Largest message examined; a larger one gets the on_limit action." },
    { "spill_size", CONF_SIZE, "2M", NULL, 0, 1LL << 30,
      "Messages larger than this are kept in a private temporary file instead of memory." },
    { "tmp_dir", CONF_PATH, "/var/tmp", NULL, 0, 0,
      "Directory for those temporary files (created unlinked, mode 0600)." },
    { "max_items", CONF_INT, "1000", NULL, 1, 1000000,
      "Most MIME parts plus archive entries examined in one message." },
    { "max_depth", CONF_INT, "20", NULL, 1, 1000,
      "Deepest nesting of multipart and attached messages examined." },
    { "max_archive_depth", CONF_INT, "4", NULL, 1, 32,
      "Archive levels listed (an archive inside an archive is level 2)." },
    { "max_archive_read", CONF_SIZE, "32M", NULL, 65536, 1LL << 32,
      "Bytes read from one archive inside an archive to list it." },
    { "max_time", CONF_DURATION, "20s", NULL, 100, 600000,
      "Time the examination of one message may take." },
    { "on_limit", CONF_ENUM, "reject", ATTACH_FAIL_CHOICES, 0, 0,
      "Action when a limit stops the examination, so part of the message was not seen." },
    { "on_suspect", CONF_ENUM, "reject", ATTACH_FAIL_CHOICES, 0, 0,
      "Action for MIME that mail programs would read differently (conflicting headers, "
      "a multipart without a boundary parameter, absurd nesting)." },
    { "on_error", CONF_ENUM, "tempfail", ATTACH_FAIL_CHOICES, 0, 0,
      "Action when the message cannot be examined (out of memory, temporary file)." },
    { "tag_header", CONF_STRING, "X-Postern-Attach", NULL, 0, 0,
      "Header field added by the tag and strip actions." },
    { "strip_notice", CONF_STRING,
      "The attachment {name} was removed by the mail system ({reason}).", NULL, 0, 0,
      "Text that replaces a stripped part; {name} and {reason} are filled in." },
    { NULL, CONF_STRING, NULL, NULL, 0, 0, NULL }
};
static const conf_key_t *const attach_keysets[] = { conf_milter_keys, attach_keys, NULL };

const conf_section_t attach_conf_section = {
    "attach", "postern-attach, the attachment policy milter.", attach_keysets, false
};

static const conf_key_t rule_keys[] = {
    { "action", CONF_ENUM, "reject", "reject|strip|quarantine|tag|allow", 0, 0,
      "What to do when the rule matches a part." },
    { "ext", CONF_LIST, "", NULL, 0, 0,
      "Match file names with any of these extensions, anywhere in the name (invoice.pdf.exe)." },
    { "ext_last_only", CONF_BOOL, "no", NULL, 0, 0,
      "Match ext against the last extension only." },
    { "name_trick", CONF_BOOL, "no", NULL, 0, 0,
      "Match names hiding their extension (bidi controls, zero-width, control characters)." },
    { "true_type", CONF_LIST, "", NULL, 0, 0,
      "Match these true types of the content (libmagic), e.g. application/x-dosexec, or image/ for every image type." },
    { "declared_type", CONF_LIST, "", NULL, 0, 0,
      "Match these declared Content-Types (a type ending in / matches all its subtypes)." },
    { "mismatch", CONF_BOOL, "no", NULL, 0, 0,
      "Match parts whose declared type contradicts their true type." },
    { "encrypted", CONF_BOOL, "no", NULL, 0, 0,
      "Match archives with encrypted content, and the encrypted entries." },
    { "unreadable", CONF_BOOL, "no", NULL, 0, 0,
      "Match archives that cannot be listed (damaged or unsupported)." },
    { "max_depth", CONF_INT, "0", NULL, 0, 32,
      "Match archive entries nested deeper than this many archive levels." },
    { "max_size", CONF_SIZE, "0", NULL, 0, 0,
      "Match attachments and archive entries larger than this." },
    { "message_size", CONF_SIZE, "0", NULL, 0, 0,
      "Match messages larger than this (use no other match key with it)." },
    { "except_senders", CONF_LIST, "", NULL, 0, 0,
      "The rule does not apply to envelope senders in these domains (and their subdomains)." },
    { "except_recipients", CONF_LIST, "", NULL, 0, 0,
      "The rule does not apply when every recipient is in these domains (and subdomains)." },
    { NULL, CONF_STRING, NULL, NULL, 0, 0, NULL }
};
static const conf_key_t *const rule_keysets[] = { rule_keys, NULL };

const conf_section_t attach_rule_conf_section = {
    ATTACH_RULE_SECTION,
    "One attachment rule of postern-attach; rules apply in file order, the first that "
    "matches a part decides for it. Every match key given must match.",
    rule_keysets, true
};

const conf_section_t *const attach_sections[] = {
    &conf_global_section, &attach_conf_section, &attach_rule_conf_section, NULL
};
