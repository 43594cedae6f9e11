/*
 * components.h - the table of postern's components, as the admin command
 * sees them: which daemon binary serves which config section.
 *
 * NAME
 *	components - registry of milters and the policy daemon
 *
 * DESCRIPTION
 *	common/ knows no component, so the table lives here. Each component
 *	contributes its config section (the key table from its own
 *	directory) and the name of its daemon; "postern check" validates a
 *	file against every section, "postern run" starts the enabled ones in
 *	table order, which is also the order of smtpd_milters (a milter that
 *	reads another's Authentication-Results must come after it).
 */
#ifndef POSTERN_COMPONENTS_H
#define POSTERN_COMPONENTS_H

#include <stddef.h>

#include "config.h"

typedef enum { COMPONENT_MILTER, COMPONENT_POLICY } component_kind_t;

typedef struct component {
    const char *name;                 /* config section, e.g. "dkim" */
    const char *binary;               /* daemon, e.g. "postern-dkim" */
    component_kind_t kind;
    const conf_section_t *const *sections;  /* its sections, NULL-terminated
                                               ([global] is not one) */
} component_t;

/* Number of components built into this postern. */
size_t components_count(void);

/* Component i, 0 <= i < components_count(). */
const component_t *components_get(size_t i);

/* NULL-terminated list of every section ([global] first), for
 * config_load(); static storage. */
const conf_section_t *const *components_sections(void);

#endif
