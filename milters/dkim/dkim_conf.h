/*
 * dkim_conf.h - the [dkim] section of postern.conf.
 *
 * NAME
 *	dkim_conf - keys of postern-dkim
 *
 * DESCRIPTION
 *	The milter keys every section has (conf_milter_keys) plus the
 *	signing and verifying keys of postern-dkim. The same table drives
 *	parsing, "postern check" and postern.conf(5).
 */
#ifndef POSTERN_DKIM_CONF_H
#define POSTERN_DKIM_CONF_H

#include "config.h"

extern const conf_section_t dkim_conf_section;

/* The keys of [dkim] beyond conf_milter_keys; exposed for tests. */
extern const conf_key_t dkim_keys[];

#endif
