/*
 * fuzz_config.c - the config parser on arbitrary bytes: it must either
 * load or give an error message, never crash or leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static const conf_key_t fuzz_keys[] = {
    { "count", CONF_INT, "3", NULL, 1, 10, "" },
    { "limit", CONF_SIZE, "1M", NULL, 0, 0, "" },
    { NULL, CONF_STRING, NULL, NULL, 0, 0, NULL }
};
static const conf_key_t *const fuzz_keysets[] = { conf_milter_keys, fuzz_keys, NULL };
static const conf_section_t fuzz_section = { "testmilter", "", fuzz_keysets, false };
static const conf_key_t *const limit_keysets[] = { fuzz_keys, NULL };
static const conf_section_t limit_section = { "limit", "", limit_keysets, true };
static const conf_section_t *const sections[] = { &conf_global_section, &fuzz_section,
                                                  &limit_section, NULL };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    char *text = malloc(size + 1);
    const char *const *items;

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';          /* config_load refuses NUL bytes earlier */
    config_t *cfg = config_load_string("fuzz.conf", text, sections, err, sizeof(err));
    if (cfg != NULL) {
        (void) config_str(cfg, "global", "log_level");
        (void) config_list(cfg, "global", "dns_upstream", &items);
        (void) config_duration_ms(cfg, "testmilter", "timeout");
        const char *const *names;
        size_t n = config_instances(cfg, "limit", &names);
        char sect[300];
        for (size_t i = 0; i < n; i++) {
            snprintf(sect, sizeof(sect), "limit %s", names[i]);
            (void) config_int(cfg, sect, "count");
        }
        config_unref(cfg);
    }
    free(text);
    return 0;
}
