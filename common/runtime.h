/*
 * runtime.h - what every postern milter daemon does around its
 * callbacks: socket, pid file, privileges, signals, drain, and a protocol
 * negotiation that keeps inet: sockets as fast as unix: ones.
 *
 * NAME
 *	runtime - libmilter daemon runtime
 *
 * SYNOPSIS
 *	runtime_opts_t o = { .name = "postern-dkim" };
 *	runtime_opts_from_config(&o, cfg, "dkim", err, sizeof(err));
 *	o.proto = &dkim_proto;     (actions, stages, macros it needs)
 *	return runtime_main(&dkim_desc, &o, err, sizeof(err)) ? 1 : 0;
 *
 * DESCRIPTION
 *	runtime_main() checks the socket spec, registers the filter, opens
 *	the socket as the starting user (so it may be in a root-owned
 *	directory), sets its mode and owner, sets TCP_NODELAY on inet
 *	listening sockets (Linux passes it on to accepted connections),
 *	detaches unless opts.foreground, writes the pid file, drops to
 *	opts.user, and runs smfi_main() in a thread of its own.
 *
 *	Why TCP_NODELAY and the negotiation: libmilter sets no TCP_NODELAY,
 *	and when a milter answers a stage with several small packets (a
 *	header change, then the verdict) or the MTA sends several commands
 *	without waiting for replies, Nagle's algorithm on one side meets
 *	delayed ACKs on the other and each message waits 40 ms, twice.
 *	With opts.reply_every_stage the runtime negotiates for the milter:
 *	it asks only for the actions in opts.proto, skips the stages the
 *	milter does not need, and requests only the macros listed per stage
 *	(smfi_setsymlist). Over inet: it sets no "no reply" flag. Over
 *	unix: (no Nagle, nothing to stall) it sets the SMFIP_NR_* flags in
 *	proto.quiet: the MTA sends those stages without waiting, which
 *	saves a round trip (two context switches on each side) per header
 *	and per stage; the runtime turns the callbacks' SMFIS_CONTINUE
 *	there into SMFIS_NOREPLY, so a milter lists only stages whose
 *	callback never answers anything else. Both switches exist so the
 *	effect can be measured.
 *
 *	Signals: every thread blocks SIGTERM, SIGINT and SIGHUP except the
 *	main thread, which catches them with a handler that never blocks
 *	them (SA_NODEFER) and passes them on through a pipe. Linux delivers
 *	a signal sent to the process to its main thread when that thread
 *	does not block it, so libmilter's own signal thread, which would
 *	treat SIGHUP as "stop", does not see them. SIGHUP calls opts.reload (the daemon keeps serving whether it
 *	succeeds or not); SIGTERM and SIGINT stop accepting connections,
 *	wait (at most opts.drain_ms) until no callback is running, so a
 *	message being judged gets its verdict, and return 0.
 *
 * RETURNS
 *	runtime_main: 0 after a clean stop, -1 when it cannot start (ERR).
 */
#ifndef POSTERN_RUNTIME_H
#define POSTERN_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>

#include <libmilter/mfapi.h>

#include "config.h"

typedef struct runtime_proto {
    unsigned long actions;      /* SMFIF_* the milter uses */
    unsigned long skip;         /* SMFIP_NO* stages it does not need */
    unsigned long quiet;        /* SMFIP_NR_* stages whose callback only
                                   ever continues: unanswered on unix: */
    const char *macros[SMFIM_LAST + 1];   /* per SMFIM_* stage; NULL: the
                                             MTA's default list */
} runtime_proto_t;

typedef struct runtime_opts {
    const char *name;           /* daemon name for logs */
    const char *socket;         /* sockspec */
    bool foreground;
    const char *pidfile;        /* NULL or "": none */
    const char *user;           /* NULL or "": keep the current user */
    unsigned socket_mode;       /* unix sockets; 0: 0660 */
    int backlog;                /* 0: libmilter's default */
    int timeout_s;              /* 0: libmilter's default (7210 s) */
    bool tcp_nodelay;
    bool reply_every_stage;
    unsigned drain_ms;          /* 0: 30 s */
    const runtime_proto_t *proto;   /* used when reply_every_stage */
    int (*reload)(void *arg, char *err, size_t errlen);   /* SIGHUP; may be NULL */
    void *reload_arg;
} runtime_opts_t;

/* Fills socket, user, pidfile, socket_mode, backlog, timeout_s,
 * tcp_nodelay and reply_every_stage from the milter keys of SECTION
 * ([global] user when the section's is empty). 0, or -1 with ERR
 * ("[section] socket: required" and the like). Strings are borrowed
 * from CFG. */
int runtime_opts_from_config(runtime_opts_t *o, const config_t *cfg,
                             const char *section, char *err, size_t errlen);

int runtime_main(struct smfiDesc *desc, const runtime_opts_t *opts,
                 char *err, size_t errlen);

/* Sets TCP_NODELAY on every listening TCP socket of this process;
 * returns how many. Exposed for tests. */
int runtime_nodelay_listeners(void);

/* Writes PID to PATH unless a live process already owns it; 0 or -1. */
int runtime_pidfile_write(const char *path, long pid, char *err, size_t errlen);

/* Switches to USER (from root), or checks that we already are USER. */
int runtime_drop_user(const char *user, char *err, size_t errlen);

/* Number of libmilter callbacks running now. */
unsigned runtime_busy(void);

#endif
