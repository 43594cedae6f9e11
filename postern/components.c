/*
 * components.c - the component table. A component's author adds one
 * line here and links its key table into the postern target.
 */
#include <stddef.h>

#include "config.h"

#include "av_conf.h"
#include "components.h"
#include "limit.h"
#include "policyd_conf.h"

static const conf_section_t *const policyd_own[] = {
    &policyd_conf_section, &limit_conf_section, NULL
};

static const conf_section_t *const av_own[] = { &av_conf_section, NULL };

static const component_t table[] = {
    { "policyd", "postern-policyd", COMPONENT_POLICY, policyd_own },
    { "av", "postern-av", COMPONENT_MILTER, av_own },
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
