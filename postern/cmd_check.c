/*
 * cmd_check.c - "postern check": validate the config file against every
 * component's key table, and optionally print the key reference.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"

#include "cmdconf.h"
#include "commands.h"
#include "components.h"

static int check_usage(void)
{
    fprintf(stderr, "usage: postern check [-c FILE] [-k]\n"
                    "  -k  print the reference of every key instead\n");
    return EX_USAGE;
}

int cmd_check(int argc, char **argv)
{
    const char *path = cmdconf_default_path();
    int keys = 0, c;

    optind = 1;
    while ((c = getopt(argc, argv, "c:k")) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'k': keys = 1; break;
        default:  return check_usage();
        }
    }
    if (optind != argc)
        return check_usage();
    if (keys) {
        config_write_reference(stdout, components_sections());
        return 0;
    }
    config_t *cfg = cmdconf_load(path);
    if (cfg == NULL)
        return EX_CONFIG;
    printf("%s: configuration OK\n", path);
    config_unref(cfg);
    return 0;
}
