/*
 * config.h - the one configuration file of every postern component.
 *
 * NAME
 *	config - schema-driven INI configuration with reload
 *
 * SYNOPSIS
 *	const conf_section_t *const sections[] = {
 *		&conf_global_section, &dkim_conf_section, NULL };
 *	config_t *cfg = config_load("/etc/postern/postern.conf", sections,
 *	                            err, sizeof(err));
 *	long long ms = config_duration_ms(cfg, "global", "dns_timeout");
 *	config_unref(cfg);
 *
 * DESCRIPTION
 *	The file is INI: "[section]" lines, "key = value" lines, comments
 *	starting with ';' or '#' on their own line, or ';' after a blank
 *	inside a line. libinih does the lexing; this module checks every
 *	name and value against the schema: each component declares its keys
 *	in one table (conf_key_t: name, type, default, doc line), and that
 *	table drives parsing, "postern check" and the postern.conf(5) key
 *	reference, so they cannot drift.
 *
 *	A section marked "named" may appear any number of times with an
 *	instance name: "[limit per-user]", "[limit per-client]"; each
 *	instance has the section's keys and defaults.
 *
 *	Errors name the file, line and key, as
 *	"FILE:LINE: [section] key: why". Unknown sections, unknown keys,
 *	bad values, duplicate keys, keys outside a section, continuation
 *	lines and lines longer than CONF_MAX_LINE are all errors.
 *
 *	A loaded config_t is immutable and reference-counted: readers in any
 *	thread may use it while a reload builds the next one (confholder).
 *
 *	Asking a getter for a key no schema declares is a programming error;
 *	the getter returns 0, false or NULL.
 *
 * VALUE TYPES
 *	CONF_STRING	any text; surrounding double quotes are removed.
 *	CONF_INT	decimal integer, within [min, max] when max > min.
 *	CONF_BOOL	yes/no, true/false, on/off, 1/0.
 *	CONF_DURATION	number with unit ms, s, m, h or d (bare number:
 *			seconds); read in milliseconds.
 *	CONF_SIZE	bytes, with optional k, M or G (powers of 1024).
 *	CONF_ENUM	one of "a|b|c" (choices).
 *	CONF_PATH	an absolute path, or empty.
 *	CONF_LIST	items separated by commas and/or blanks.
 *	CONF_MODE	an octal file mode such as 0660.
 */
#ifndef POSTERN_CONFIG_H
#define POSTERN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* inih's line buffer; longer lines are refused rather than split. */
#define CONF_MAX_LINE 199
/* A config file is small; refuse anything larger than this. */
#define CONF_MAX_FILE (1024 * 1024)

typedef enum {
    CONF_STRING, CONF_INT, CONF_BOOL, CONF_DURATION, CONF_SIZE,
    CONF_ENUM, CONF_PATH, CONF_LIST, CONF_MODE
} conf_type_t;

typedef struct conf_key {
    const char *name;
    conf_type_t type;
    const char *def;            /* default as text; NULL = unset */
    const char *choices;        /* CONF_ENUM: "a|b|c" */
    long long min, max;         /* INT/DURATION(ms)/SIZE bounds; max <= min:
                                   unbounded */
    const char *doc;            /* one line for postern.conf(5) */
} conf_key_t;                   /* arrays end with a NULL name */

typedef struct conf_section {
    const char *name;                   /* "global", "dkim", ... */
    const char *doc;
    const conf_key_t *const *keysets;   /* NULL-terminated */
    bool named;                         /* "[NAME INSTANCE]" sections, any
                                           number of them: "[limit per-user]" */
} conf_section_t;

/* [global]: logging, audit log, authserv-id, DNS, internal hosts, user. */
extern const conf_key_t conf_global_keys[];
/* Keys every milter section has: enable, socket, mode, user, pidfile,
 * socket_mode, backlog, timeout, tcp_nodelay, reply_every_stage. A
 * milter that is enabled needs "socket"; the caller checks that. */
extern const conf_key_t conf_milter_keys[];
extern const conf_section_t conf_global_section;

typedef struct config config_t;

/* Parses PATH against SECTIONS (NULL-terminated, including
 * &conf_global_section). Sections absent from the file take their
 * defaults. Returns a config with one reference, or NULL with ERR set
 * to "FILE:LINE: [section] key: why" (or "FILE: why" for I/O). */
config_t *config_load(const char *path, const conf_section_t *const *sections,
                      char *err, size_t errlen);

/* The same for a daemon that reads its own part of the file every
 * component shares: sections that are not in SECTIONS are skipped
 * unread ("postern check" checks the whole file against every
 * component). Sections in SECTIONS, and instances of its named ones,
 * are checked as above. */
config_t *config_load_shared(const char *path, const conf_section_t *const *sections,
                             char *err, size_t errlen);

/* The same on TEXT; NAME stands for the file in messages. */
config_t *config_load_string(const char *name, const char *text,
                             const conf_section_t *const *sections,
                             char *err, size_t errlen);

config_t *config_ref(config_t *cfg);     /* returns cfg */
void config_unref(config_t *cfg);        /* frees on the last reference */

const char *config_path(const config_t *cfg);
/* True when the file has a [SECTION] line. */
bool config_has_section(const config_t *cfg, const char *section);
/* True when the file sets KEY (not just the default). */
bool config_is_set(const config_t *cfg, const char *section, const char *key);
/* Line that set KEY, or 0 for a default. */
int config_line(const config_t *cfg, const char *section, const char *key);

/* Value or default; NULL when neither (STRING/PATH/ENUM/MODE/LIST raw). */
const char *config_str(const config_t *cfg, const char *section, const char *key);
long long config_int(const config_t *cfg, const char *section, const char *key);
bool config_bool(const config_t *cfg, const char *section, const char *key);
long long config_duration_ms(const config_t *cfg, const char *section,
                             const char *key);
unsigned long long config_size(const config_t *cfg, const char *section,
                               const char *key);
/* CONF_MODE value, e.g. 0660. */
unsigned config_mode(const config_t *cfg, const char *section, const char *key);
/* CONF_LIST: sets *ITEMS to the items (owned by cfg), returns the count. */
size_t config_list(const config_t *cfg, const char *section, const char *key,
                   const char *const **items);

/* CONF_LIST of networks (netlist_add_list syntax) as a netlist; caller
 * frees with netlist_free. NULL with ERR naming section, key and entry. */
struct netlist;
struct netlist *config_netlist(const config_t *cfg, const char *section, const char *key,
                               char *err, size_t errlen);

/* Instances of the named section SECTION ("limit"), in file order; the
 * values are read with section "limit INSTANCE". Names owned by CFG. */
size_t config_instances(const config_t *cfg, const char *section,
                        const char *const **names);

/* Writes the key reference of SECTIONS as scdoc text: the source of the
 * KEYS part of postern.conf(5) and of "postern check -k". */
void config_write_reference(FILE *out, const conf_section_t *const *sections);

/*
 * confholder - the current config of a running daemon. A reload parses
 * the file again; when that fails the old config stays and the reason is
 * returned. Readers take a reference, so a swap never frees what an
 * in-flight message still uses. All functions are thread-safe.
 */
typedef struct confholder confholder_t;

confholder_t *confholder_new(config_t *initial);   /* takes the reference */
config_t *confholder_acquire(confholder_t *h);     /* caller config_unref()s */
/* Reloads from the current config's path: 0 swapped, -1 kept (ERR). */
int confholder_reload(confholder_t *h, const conf_section_t *const *sections,
                      char *err, size_t errlen);
void confholder_free(confholder_t *h);

#endif
