/*
 * dkim_testdir.h - a scratch directory for the dkim unit tests that
 * write key files and key tables.
 */
#ifndef POSTERN_DKIM_TESTDIR_H
#define POSTERN_DKIM_TESTDIR_H

#include <stdio.h>
#include <stdlib.h>

/* Makes /tmp/PREFIX.XXXXXX into DIR (at least 64 bytes); 0 or -1. */
static inline int dkim_testdir_new(char *dir, size_t len, const char *prefix)
{
    snprintf(dir, len, "/tmp/%s.XXXXXX", prefix);
    return mkdtemp(dir) != NULL ? 0 : -1;
}

/* Removes DIR and everything in it; 0 or -1. */
static inline int dkim_testdir_remove(const char *dir)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

#endif
