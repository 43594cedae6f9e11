/*
 * attach_milter.h - the libmilter side of postern-attach: callbacks that
 * collect the message and carry out the decision, and the state built
 * from the config (rules, walker, limits).
 */
#ifndef POSTERN_ATTACH_MILTER_H
#define POSTERN_ATTACH_MILTER_H

#include "milterd.h"

extern const milterd_spec_t attach_milterd_spec;

#endif
