/*
 * spf_conf.h - the [spf] section of postern.conf: the milter keys every
 * section has (conf_milter_keys) and the SPF keys below.
 */
#ifndef POSTERN_SPF_CONF_H
#define POSTERN_SPF_CONF_H

#include "config.h"

extern const conf_section_t spf_conf_section;

/* Every section postern-spf reads: [global] and [spf]. */
extern const conf_section_t *const spf_sections[];

#endif
