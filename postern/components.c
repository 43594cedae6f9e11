/*
 * components.c - the component table. A component's author adds one
 * line here and links its key table into the postern target.
 */
#include <stddef.h>

#include "config.h"

#include "components.h"

static const component_t table[] = {
    { NULL, NULL, COMPONENT_MILTER, NULL }   /* end */
};

#define NSLOTS (sizeof(table) / sizeof(table[0]))

static const conf_section_t *sections[NSLOTS + 1];

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
        size_t n = components_count();
        for (size_t i = 0; i < n; i++)
            sections[i + 1] = table[i].section;
        sections[n + 1] = NULL;
    }
    return sections;
}
