/*
 * spf_milter.h - the libmilter side of postern-spf, for main.c: the
 * filter description, the protocol it negotiates, and the state milterd
 * builds from each config (resolver, evaluator, policy).
 */
#ifndef POSTERN_SPF_MILTER_H
#define POSTERN_SPF_MILTER_H

#include <stddef.h>

#include <libmilter/mfapi.h>

#include "audit.h"
#include "config.h"
#include "runtime.h"

extern struct smfiDesc spf_desc;
/* Its skip list gains SMFIP_NOHDRS when the first state adds no
 * Authentication-Results field (see spf_milter.c). */
extern runtime_proto_t spf_proto;

/* milterd's state_new/state_free: NULL with ERR on a bad config. */
void *spf_state_new(config_t *cfg, audit_t *audit, char *err, size_t errlen);
void spf_state_free(void *state);

#endif
