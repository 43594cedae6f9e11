/*
 * dkim_state.h - everything postern-dkim builds from one config: key
 * table (private keys read once), header lists, libopendkim engine,
 * resolver, internal networks and the policy. Built at start and on
 * each SIGHUP; messages hold a reference through milterd.
 *
 * NAME
 *	dkim_state - per-config state of postern-dkim
 *
 * SYNOPSIS
 *	dkim_state_t *st = dkim_state_new(cfg, audit, err, sizeof(err));
 *	... st->keys, st->eng, st->select, st->policy ...
 *	dkim_state_free(st);
 *
 * DESCRIPTION
 *	Reads [global] (authserv_id, internal_hosts, DNS) and [dkim]. Every
 *	problem is an error naming the key or file: an unreadable key
 *	file, a key that others may read, an RSA key below 1024 bits, a bad
 *	header name. With an empty keytable the milter only verifies.
 *
 *	dkim_state_new_with() is the same with a resolver the caller owns
 *	(NULL: none, every key lookup is a temperror): for tests.
 *
 * RETURNS
 *	A state (free with dkim_state_free), or NULL with ERR.
 */
#ifndef POSTERN_DKIM_STATE_H
#define POSTERN_DKIM_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "audit.h"
#include "config.h"
#include "dns.h"
#include "mact.h"
#include "netlist.h"

#include "dkim_engine.h"
#include "dkim_hdrlist.h"
#include "dkim_keys.h"
#include "dkim_result.h"
#include "dkim_select.h"

typedef struct dkim_state {
    config_t *cfg;                  /* one reference: lists point into it */
    audit_t *audit;                 /* borrowed: the process's audit log */
    dnsr_t *dns;
    bool own_dns;
    netlist_t *internal;
    dkim_keys_t *keys;
    dkim_hdrlist_t *hdrs;
    dkim_engine_t *eng;
    dkim_select_policy_t select;
    dkim_result_policy_t policy;
    mact_t on_sign_error;
    unsigned max_headers;
    bool monitor;
    char authserv_id[256];
} dkim_state_t;

dkim_state_t *dkim_state_new(config_t *cfg, audit_t *audit, char *err, size_t errlen);
dkim_state_t *dkim_state_new_with(config_t *cfg, audit_t *audit, dnsr_t *dns,
                                  char *err, size_t errlen);
void dkim_state_free(dkim_state_t *st);

#endif
