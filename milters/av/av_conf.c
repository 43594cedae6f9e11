/*
 * av_conf.c - keys of the [av] section. The limits default to clamd's
 * own defaults, so moving from clamav-milter + clamd changes nothing a
 * site has tuned by accident.
 */
#include <stddef.h>

#include "config.h"

#include "av_conf.h"

static const conf_key_t av_keys[] = {
    { "backend", CONF_ENUM, "clamav", "clamav|clamd", 0, 0,
      "clamav scans in process with one shared engine; clamd hands the message to a running clamd." },
    { "database_dir", CONF_PATH, "/var/lib/clamav", NULL, 0, 0,
      "clamav back end: directory of signature databases (what freshclam writes)." },
    { "on_no_database", CONF_ENUM, "refuse", "refuse|pass", 0, 0,
      "clamav back end without a usable database: refuse to start, or pass mail unscanned (logged) until one appears." },
    { "database_check", CONF_DURATION, "60s", NULL, 1000, 86400000,
      "clamav back end: how often the database directory is checked for changes (a new engine is built beside the old)." },
    { "clamd_socket", CONF_STRING, "unix:/run/clamav/clamd.ctl", NULL, 0, 0,
      "clamd back end: clamd's socket, unix:PATH or inet:PORT@HOST." },
    { "clamd_timeout", CONF_DURATION, "60s", NULL, 100, 3600000,
      "clamd back end: longest time one scan may take, connection included." },
    { "max_message_size", CONF_SIZE, "64M", NULL, 1024, 4294967296LL,
      "Largest message collected for scanning; a larger one gets the on_limit action." },
    { "spool_memory", CONF_SIZE, "1M", NULL, 0, 1073741824,
      "A message larger than this is kept in a private temporary file instead of memory." },
    { "spool_dir", CONF_PATH, "/tmp", NULL, 0, 0,
      "Directory of those temporary files (unlinked at once, mode 0600), and of what libclamav unpacks." },
    { "max_scan_size", CONF_SIZE, "400M", NULL, 0, 4294967296LL,
      "clamav back end: most data scanned in one message, archives unpacked included." },
    { "max_file_size", CONF_SIZE, "100M", NULL, 0, 4294967296LL,
      "clamav back end: largest single part or file scanned." },
    { "max_recursion", CONF_INT, "17", NULL, 1, 1000,
      "clamav back end: deepest nesting of archives and attached messages." },
    { "max_files", CONF_INT, "10000", NULL, 1, 1000000,
      "clamav back end: most files unpacked from one message." },
    { "max_scans", CONF_INT, "0", NULL, 0, 1024,
      "clamav back end: scans at once (more wait), which bounds memory under a burst of large mail; 0 means one per CPU." },
    { "scan_cache", CONF_BOOL, "yes", NULL, 0, 0,
      "clamav back end: remember files found clean (by hash) so the same attachment is not scanned twice." },
    { "on_infected", CONF_ENUM, "reject", "reject|discard|quarantine|tag", 0, 0,
      "Infected message: reject (554 5.7.1 naming the signature), discard, quarantine (hold) or tag (add the header)." },
    { "on_error", CONF_ENUM, "tempfail", "tempfail|reject|quarantine|tag|accept", 0, 0,
      "Scan failed: tempfail (fail closed) by default; accept and tag let mail through unscanned, and say so in the log." },
    { "on_limit", CONF_ENUM, "tempfail", "tempfail|reject|quarantine|tag|accept", 0, 0,
      "Message or its contents over a limit above: the same choices as on_error." },
    { "header", CONF_STRING, "X-Virus-Scanned", NULL, 0, 0,
      "Name of the header field the milter adds; incoming fields of that name are removed when it does." },
    { "add_header", CONF_BOOL, "no", NULL, 0, 0,
      "Add the header field to every scanned message, not only to tagged ones." },
    { NULL, CONF_STRING, NULL, NULL, 0, 0, NULL }
};
static const conf_key_t *const av_keysets[] = { conf_milter_keys, av_keys, NULL };

const conf_section_t av_conf_section = {
    "av", "postern-av, the antivirus milter (libclamav in process, or clamd).",
    av_keysets, false
};

const conf_section_t *const av_sections[] = { &conf_global_section, &av_conf_section, NULL };
