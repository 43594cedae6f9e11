/*
 * milterd.h - the main() of every postern milter: command line, config,
 * logging, audit log, a state rebuilt on SIGHUP, and the runtime.
 *
 * NAME
 *	milterd - milter daemon skeleton
 *
 * SYNOPSIS
 *	static const conf_section_t *const own[] = { &spf_conf_section, NULL };
 *	static const milterd_spec_t spec = {
 *		.component = "spf", .daemon = "postern-spf",
 *		.sections = own, .desc = &spf_desc, .proto = &spf_proto,
 *		.state_new = spf_state_new, .state_free = spf_state_free,
 *	};
 *	int main(int argc, char **argv) { return milterd_main(&spec, argc, argv); }
 *
 *	In callbacks, for one message or connection:
 *	spf_state_t *st = milterd_acquire();
 *	... st is valid, even across a reload ...
 *	milterd_release(st);
 *
 * DESCRIPTION
 *	Command line: DAEMON [-c FILE] [-f] [-n] [-d]
 *	  -c FILE  the config (default /etc/postern/postern.conf)
 *	  -f       stay in the foreground and log to stderr
 *	  -n       check the config, build the state once, and exit:
 *	           0 when good, 78 (EX_CONFIG) with the reason when not
 *	  -d       log at debug level
 *
 *	The file is parsed with [global] and SPEC.sections. Logging goes to
 *	syslog (facility mail) or stderr with -f, at [global] log_level;
 *	the audit log is [global] audit_log, opened once for the process.
 *	The milter keys (socket, user, ...) come from the section named
 *	SPEC.component (runtime_opts_from_config).
 *
 *	SPEC.state_new builds everything the callbacks need from a config
 *	(key tables, resolvers, compiled rules): parse once here, never per
 *	message. It runs at start (failure: exit 78) and on each SIGHUP; a
 *	new state that fails to build leaves the old one serving and logs
 *	why. A state is freed by SPEC.state_free once it is replaced and no
 *	callback holds it any more.
 *
 *	Metrics: every callback of SPEC.desc is timed and its reply
 *	counted (mmetrics.h), and SPEC.metrics_init adds the component's
 *	own; with metrics_listen set in the section they are served for
 *	Prometheus and "postern stats".
 *
 *	The socket, user and other milter keys are read once at start: a
 *	change to them needs a restart (the socket is already bound).
 *
 *	The state is built before privileges are dropped, so it may read
 *	root-only files such as private keys at start; on SIGHUP it runs as
 *	the run user.
 *
 * RETURNS
 *	milterd_main: the process exit status (0, or a sysexits.h code).
 *	milterd_acquire: the current state (never NULL once serving).
 */
#ifndef POSTERN_MILTERD_H
#define POSTERN_MILTERD_H

#include <stddef.h>

#include <libmilter/mfapi.h>

#include "audit.h"
#include "config.h"
#include "runtime.h"

typedef struct milterd_spec {
    const char *component;                  /* section and audit name: "spf" */
    const char *daemon;                     /* "postern-spf" */
    const conf_section_t *const *sections;  /* own sections, NULL-terminated */
    struct smfiDesc *desc;
    const runtime_proto_t *proto;
    /* CFG is borrowed for the call; take config_ref() to keep it. NULL
     * with ERR on failure. AUDIT is the process's audit log. */
    void *(*state_new)(config_t *cfg, audit_t *audit, char *err, size_t errlen);
    void (*state_free)(void *state);
    /* Optional: registers the component's own metrics (results,
     * scan times) once, before serving; CFG is the start-up config. */
    void (*metrics_init)(const config_t *cfg);
} milterd_spec_t;

int milterd_main(const milterd_spec_t *spec, int argc, char **argv);

void *milterd_acquire(void);
void milterd_release(void *state);

/* The authserv-id for our Authentication-Results: [global] authserv_id,
 * or the host name when that is empty. Writes it to BUF; returns BUF. */
const char *milterd_authserv_id(const config_t *cfg, char *buf, size_t buflen);

#endif
