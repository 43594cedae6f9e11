/*
 * dmarc_milter.h - the libmilter side of postern-dmarc.
 *
 * NAME
 *	dmarc_milter - milterd specification of postern-dmarc
 *
 * SYNOPSIS
 *	return milterd_main(&dmarc_milter_spec, argc, argv);
 *
 * DESCRIPTION
 *	One inbound milter: SPF (spf_core) and DKIM (dkim_core) are
 *	evaluated on the message as it arrives, then DMARC (dmarc_policy)
 *	at end of message: forged Authentication-Results fields with our
 *	authserv-id are removed, one field with our dmarc=, spf= and dkim=
 *	results is added, the action is applied, audited, logged and the
 *	evaluation stored in the history.
 */
#ifndef POSTERN_DMARC_MILTER_H
#define POSTERN_DMARC_MILTER_H

#include "milterd.h"

extern const milterd_spec_t dmarc_milter_spec;

#endif
