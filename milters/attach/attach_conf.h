/*
 * attach_conf.h - the keys of postern-attach: the [attach] section (the
 * milter keys plus limits and failure actions) and the named
 * "[attach-rule NAME]" sections read by arule.c.
 */
#ifndef POSTERN_ATTACH_CONF_H
#define POSTERN_ATTACH_CONF_H

#include "config.h"

extern const conf_section_t attach_conf_section;
extern const conf_section_t attach_rule_conf_section;
/* { &conf_global_section, &attach_conf_section, &attach_rule_conf_section, NULL } */
extern const conf_section_t *const attach_sections[];

#define ATTACH_RULE_SECTION "attach-rule"
/* Actions a failure key may name. */
#define ATTACH_FAIL_CHOICES "accept|tag|quarantine|tempfail|reject"

#endif
