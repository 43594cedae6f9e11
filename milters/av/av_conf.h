/*
 * av_conf.h - the [av] section of postern.conf: scanner back end,
 * signature databases, scan limits, spool sizes and the actions per
 * scan result.
 */
#ifndef POSTERN_AV_CONF_H
#define POSTERN_AV_CONF_H

#include "config.h"

extern const conf_section_t av_conf_section;

/* Every section postern-av reads: [global] and [av]. */
extern const conf_section_t *const av_sections[];

#endif
