/*
 * policyd_conf.h - the [policyd] section of postern.conf.
 */
#ifndef POSTERN_POLICYD_CONF_H
#define POSTERN_POLICYD_CONF_H

#include "config.h"

extern const conf_section_t policyd_conf_section;

/* Every section postern-policyd reads: [global], [policyd], [limit NAME]. */
extern const conf_section_t *const policyd_sections[];

#endif
