/*
 * components.c - the component table. A component's author adds one
 * line here and links its key table into the postern target.
 */
#include <stddef.h>

#include "config.h"

#include "attach_conf.h"
#include "av_conf.h"
#include "components.h"
#include "dkim_conf.h"
#include "dmarc_conf.h"
#include "limit.h"
#include "policyd_conf.h"
#include "spf_conf.h"

static const conf_section_t *const policyd_own[] = {
    &policyd_conf_section, &limit_conf_section, NULL
};

static const conf_section_t *const spf_own[] = { &spf_conf_section, NULL };
static const conf_section_t *const dmarc_own[] = { &dmarc_conf_section, NULL };

static const conf_section_t *const attach_own[] = {
    &attach_conf_section, &attach_rule_conf_section, NULL
};

static const conf_section_t *const dkim_own[] = { &dkim_conf_section, NULL };
static const conf_section_t *const av_own[] = { &av_conf_section, NULL };

/* Milters in smtpd_milters order: a milter that reads another's
 * Authentication-Results comes after it. */
static const component_t table[] = {
    { "policyd", "postern-policyd", COMPONENT_POLICY, policyd_own },
    { "spf", "postern-spf", COMPONENT_MILTER, spf_own },
    { "dkim", "postern-dkim", COMPONENT_MILTER, dkim_own },
    { "dmarc", "postern-dmarc", COMPONENT_MILTER, dmarc_own },
    { "av", "postern-av", COMPONENT_MILTER, av_own },
    { "attach", "postern-attach", COMPONENT_MILTER, attach_own },
    { NULL, NULL, COMPONENT_MILTER, NULL }   /* end */
};

/* [global] plus up to four sections per component. */
#define NSLOTS (sizeof(table) / sizeof(table[0]) * 4 + 2)

static const conf_section_t *sections[NSLOTS];

size_t components_count(void)
{
    size_t n = 0;

    while (table[n].name != NULL)
        n++;
    return n;
}

const component_t *components_get(size_t i)
{
    return i < components_count() ? &table[i] : NULL;
}

const conf_section_t *const *components_sections(void)
{
    /* Built on first use; the table is constant, so a race would only
     * write the same pointers twice. The admin command is single-threaded. */
    if (sections[0] == NULL) {
        sections[0] = &conf_global_section;
        size_t n = 1;
        for (size_t i = 0; i < components_count(); i++)
            for (const conf_section_t *const *s = table[i].sections; *s && n < NSLOTS - 1; s++)
                sections[n++] = *s;
        sections[n] = NULL;
    }
    return sections;
}
