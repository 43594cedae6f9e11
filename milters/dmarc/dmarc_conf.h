/*
 * dmarc_conf.h - the [dmarc] section of postern.conf.
 */
#ifndef POSTERN_DMARC_CONF_H
#define POSTERN_DMARC_CONF_H

#include "config.h"

extern const conf_section_t dmarc_conf_section;

/* Every section postern-dmarc reads: [global] and [dmarc]. */
extern const conf_section_t *const dmarc_sections[];

#endif
