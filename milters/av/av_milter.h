/*
 * av_milter.h - the libmilter side of postern-av: the filter
 * description, the negotiated protocol and the state milterd builds
 * from the config.
 */
#ifndef POSTERN_AV_MILTER_H
#define POSTERN_AV_MILTER_H

#include "milterd.h"

/* Everything milterd_main needs to run postern-av. */
extern const milterd_spec_t av_milter_spec;

#endif
