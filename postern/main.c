/*
 * main.c - the postern admin command: dispatch to a subcommand.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "commands.h"

struct command {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
};

static const struct command commands[] = {
    { "run",   cmd_run,   "start every enabled component in the foreground" },
    { "check", cmd_check, "validate the configuration file" },
    { "audit", cmd_audit, "audit log tools (verify the hash chain)" },
    { "why", cmd_why, "every step that touched a message, from the audit log" },
    { "stats", cmd_stats, "metrics of the running components" },
    { "policyd", cmd_policyd, "ask the running policy daemon (status)" },
    { "dkim", cmd_dkim, "make a DKIM key, check its DNS record" },
    { "dmarc", cmd_dmarc, "DMARC policy of a domain (lookup), aggregate reports (report)" },
};

static int usage(FILE *out)
{
    fprintf(out, "usage: postern COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nSee postern(8).\n");
    return out == stdout ? 0 : EX_USAGE;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr);
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0
        || strcmp(argv[1], "help") == 0)
        return usage(stdout);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "postern: unknown command '%s'\n", argv[1]);
    return usage(stderr);
}
