/*
 * confref.c - print the key tables as scdoc text. The KEYS part of
 * postern.conf(5) is this output, and a unit test compares the two, so
 * the manual cannot fall behind the parser.
 */
#include <stdio.h>

#include "config.h"
#include "confvalue.h"

static void write_key(FILE *out, const conf_key_t *k)
{
    fprintf(out, "*%s* = ", k->name);
    if (k->type == CONF_ENUM)
        fprintf(out, "%s", k->choices);
    else
        fprintf(out, "_%s_", confvalue_type_name(k->type));
    if (k->def == NULL)
        fprintf(out, " (no default)\n");
    else if (k->def[0] == '\0')
        fprintf(out, " (default: empty)\n");
    else
        fprintf(out, " (default: %s)\n", k->def);
    fprintf(out, "\t%s\n\n", k->doc);
}

static void write_keyset(FILE *out, const conf_key_t *keys)
{
    for (const conf_key_t *k = keys; k->name != NULL; k++)
        write_key(out, k);
}

void config_write_reference(FILE *out, const conf_section_t *const *sections)
{
    for (size_t s = 0; sections[s] != NULL; s++) {
        const conf_section_t *sec = sections[s];
        fprintf(out, sec->named ? "## [%s NAME]\n\n%s\n\n" : "## [%s]\n\n%s\n\n",
                sec->name, sec->doc);
        for (const conf_key_t *const *ks = sec->keysets; *ks != NULL; ks++) {
            if (*ks == conf_milter_keys) {
                fprintf(out, "The milter keys (see *MILTER KEYS*).\n\n");
                continue;
            }
            write_keyset(out, *ks);
        }
    }
    fprintf(out, "## MILTER KEYS\n\nEvery milter section also takes these keys.\n\n");
    write_keyset(out, conf_milter_keys);
}
