/*
 * dkim_milter.h - the libmilter side of postern-dkim: what milterd runs.
 *
 * NAME
 *	dkim_milter - callbacks of postern-dkim
 *
 * DESCRIPTION
 *	dkim_milter_spec is the milterd_spec_t of the daemon: the [dkim]
 *	section, the callbacks, the protocol (stages, actions, macros) and
 *	the state builder (dkim_state.h). main.c only passes it to
 *	milterd_main().
 */
#ifndef POSTERN_DKIM_MILTER_H
#define POSTERN_DKIM_MILTER_H

#include "milterd.h"

extern const milterd_spec_t dkim_milter_spec;

#endif
