/*
 * postfix_hint.h - the Postfix main.cf lines that hook the enabled
 * components in, printed by "postern run" so the admin can paste them.
 */
#ifndef POSTERN_POSTFIX_HINT_H
#define POSTERN_POSTFIX_HINT_H

#include <stdio.h>

#include "config.h"

/* Turns a milter socket spec as the daemon listens on it ("unix:/p",
 * "local:/p", "inet:PORT@HOST", "inet:PORT", "inet6:PORT@HOST") into the
 * form Postfix connects to ("unix:/p", "inet:HOST:PORT",
 * "inet:[HOST]:PORT"). A daemon listening on every address is reached
 * on loopback. Returns 0, or -1 for a spec it does not know. */
int postfix_milter_address(const char *spec, char *buf, size_t buflen);

/* Writes the main.cf lines for the enabled components of CFG to OUT.
 * Returns the number of enabled components. */
int postfix_hint_write(FILE *out, const config_t *cfg);

#endif
