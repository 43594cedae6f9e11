/*
 * cmdconf.c - locate and load the config file for a subcommand.
 */
#include <stdio.h>
#include <stdlib.h>

#include "config.h"

#include "cmdconf.h"
#include "components.h"

const char *cmdconf_default_path(void)
{
    const char *env = getenv("POSTERN_CONF");

    return env != NULL && *env != '\0' ? env : CMDCONF_DEFAULT_PATH;
}

config_t *cmdconf_load(const char *path)
{
    char err[1024];
    config_t *cfg = config_load(path, components_sections(), err, sizeof(err));

    if (cfg == NULL)
        fprintf(stderr, "postern: %s\n", err);
    return cfg;
}
