/*
 * cmdconf.h - what every postern subcommand does with its config file:
 * find it (-c, $POSTERN_CONF, the default) and load it against every
 * component's section, reporting errors on stderr.
 */
#ifndef POSTERN_CMDCONF_H
#define POSTERN_CMDCONF_H

#include "config.h"

#define CMDCONF_DEFAULT_PATH "/etc/postern/postern.conf"

/* The path to use when no -c was given: $POSTERN_CONF, else the default. */
const char *cmdconf_default_path(void);

/* Loads PATH against components_sections(). On error prints
 * "postern: FILE:LINE: [section] key: why" to stderr and returns NULL
 * (the caller exits 78). Caller unrefs the result. */
config_t *cmdconf_load(const char *path);

#endif
