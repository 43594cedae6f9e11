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
 * on loopback. A unix socket inside QUEUE_DIR (Postfix's
 * queue_directory; NULL: none) is named relative to it ("unix:postern/
 * dkim.sock"), the one form that works for chrooted and unchrooted
 * Postfix daemons alike. Returns 0, or -1 for a spec it does not know. */
int postfix_milter_address(const char *spec, const char *queue_dir, char *buf,
                           size_t buflen);

/* Writes the main.cf lines for the enabled components of CFG to OUT,
 * milter sockets named as above. Returns the number of enabled
 * components. */
int postfix_hint_write(FILE *out, const config_t *cfg, const char *queue_dir);

/* Postfix's queue_directory from "postconf -h", or /var/spool/postfix
 * when postconf is not there. Writes BUF; returns BUF. */
const char *postfix_queue_dir(char *buf, size_t buflen);

#endif
