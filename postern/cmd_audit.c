/*
 * cmd_audit.c - "postern audit verify FILE...": check the hash chain of
 * audit log files and say where it breaks.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "audit.h"

#include "commands.h"

static int audit_usage(void)
{
    fprintf(stderr, "usage: postern audit verify FILE...\n");
    return EX_USAGE;
}

static int verify_one(const char *path)
{
    audit_verify_result_t res;
    char err[512];
    int rc = audit_verify_file(path, &res, err, sizeof(err));

    if (rc < 0) {
        fprintf(stderr, "postern: %s\n", err);
        return EX_NOINPUT;
    }
    if (rc > 0) {
        printf("%s:%lu: %s\n", path, res.first_bad_line, res.why);
        return 1;
    }
    printf("%s: ok, %lu records, chain intact", path, res.records);
    if (res.torn > 0)
        printf(" (%lu torn record%s from a crash during write, first on line %lu)",
               res.torn, res.torn == 1 ? "" : "s", res.first_torn_line);
    printf("\n");
    return 0;
}

int cmd_audit(int argc, char **argv)
{
    int worst = 0;

    if (argc < 3 || strcmp(argv[1], "verify") != 0)
        return audit_usage();
    for (int i = 2; i < argc; i++) {
        int rc = verify_one(argv[i]);
        if (rc == EX_NOINPUT || (rc == 1 && worst == 0))
            worst = rc;
    }
    return worst;
}
