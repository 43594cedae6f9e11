/*
 * confvalue.h - parse one config value against its key's type.
 *
 * NAME
 *	confvalue - typed values for the config module
 *
 * SYNOPSIS
 *	confvalue_parse(key, " 30s ", &text, &num, &items, &nitems, why, len);
 *
 * DESCRIPTION
 *	Pure functions, no state: used by config.c for file values and
 *	built-in defaults, and by its unit test directly. Leading and
 *	trailing blanks are removed, then one pair of surrounding double
 *	quotes. On success *TEXT (caller frees) is the cleaned text (for
 *	CONF_ENUM the canonical choice), *NUM the number (BOOL 0/1,
 *	DURATION milliseconds, SIZE bytes, MODE the mode bits), and for
 *	CONF_LIST *ITEMS and *NITEMS the items (caller frees each and the array).
 *	Returns 0, or -1 with WHY saying what is wrong with the value.
 */
#ifndef POSTERN_CONFVALUE_H
#define POSTERN_CONFVALUE_H

#include <stddef.h>

#include "config.h"

int confvalue_parse(const conf_key_t *key, const char *raw, char **text,
                    long long *num, char ***items, size_t *nitems,
                    char *why, size_t whylen);

/* Type name for messages and the key reference ("duration", ...). */
const char *confvalue_type_name(conf_type_t type);

#endif
