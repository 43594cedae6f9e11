/*
 * fuzz_config.c - the config parser on arbitrary bytes: it must either
 * load or give an error message, never crash or leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static const conf_key_t fuzz_keys[] = {
    { "count", CONF_INT, "3", NULL, 1, 10, "" },
    { "limit", CONF_SIZE, "1M", NULL, 0, 0, "" },
    { NULL, CONF_STRING, NULL, NULL, 0, 0, NULL }
};
static const conf_key_t *const fuzz_keysets[] = { conf_milter_keys, fuzz_keys, NULL };
static const conf_section_t fuzz_section = { "testmilter", "", fuzz_keysets };
static const conf_section_t *const sections[] = { &conf_global_section, &fuzz_section, NULL };

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
        config_unref(cfg);
    }
    free(text);
    return 0;
}
