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
    fprintf(stderr, "usage: postern audit verify FILE...\n"
                    "  (rotated files oldest first: the link between them is checked)\n");
    return EX_USAGE;
}

/* PREV_FILE/PREV_LAST: the file listed before PATH and the hash of its
 * last record (NULL for the first file). Sets LAST to PATH's. */
static int verify_one(const char *path, const char *prev_file, const char *prev_last,
                      char last[AUDIT_HASH_HEX + 1])
{
    audit_verify_result_t res;
    char err[512];
    int rc = audit_verify_file(path, &res, err, sizeof(err));

    if (rc < 0) {
        fprintf(stderr, "postern: %s\n", err);
        return EX_NOINPUT;
    }
    memcpy(last, res.last_hash, AUDIT_HASH_HEX + 1);
    if (rc > 0) {
        printf("%s:%lu: %s\n", path, res.first_bad_line, res.why);
        return 1;
    }
    /* Rotation: the first record's prev is the last hash of the file
     * before. Anything else means records or a file went missing. */
    if (prev_file != NULL && res.records > 0 && !audit_hash_is_zero(res.first_prev)
        && strcmp(res.first_prev, prev_last) != 0) {
        printf("%s:1: does not continue %s: its first record's prev is not the hash "
               "of that file's last record (records or a file between them are "
               "missing)\n", path, prev_file);
        return 1;
    }
    printf("%s: ok, %lu records, chain intact", path, res.records);
    if (res.records > 0 && !audit_hash_is_zero(res.first_prev))
        printf(prev_file ? ", continues %s" : ", continues an earlier file (list it "
               "first to check the link)", prev_file);
    else if (prev_file != NULL && res.records > 0)
        printf(", starts a new chain");
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
    char last[AUDIT_HASH_HEX + 1] = "";
    for (int i = 2; i < argc; i++) {
        char prev_last[AUDIT_HASH_HEX + 1];
        memcpy(prev_last, last, sizeof(last));
        int rc = verify_one(argv[i], i > 2 ? argv[i - 1] : NULL, prev_last, last);
        if (rc == EX_NOINPUT || (rc == 1 && worst == 0))
            worst = rc;
    }
    return worst;
}
