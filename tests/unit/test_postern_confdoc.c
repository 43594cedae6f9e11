/*
 * test_postern_confdoc.c - postern.conf(5) lists every key this build
 * knows, exactly as the key tables describe it (the KEYS part of the
 * man page is the output of "postern check -k"), and the sample config
 * loads with every component's keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "components.h"
#include "config.h"

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf;
    long n;

    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = calloc(1, (size_t) n + 1);
    if (buf != NULL && fread(buf, 1, (size_t) n, f) != (size_t) n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

static void man_page_has_the_key_reference(void **state)
{
    char path[1024], *page, *ref = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&ref, &len);

    (void) state;
    snprintf(path, sizeof(path), "%s/docs/man/postern.conf.5.scd",
             getenv("POSTERN_SOURCE_DIR"));
    page = slurp(path);
    assert_non_null(page);
    config_write_reference(mem, components_sections());
    fclose(mem);
    if (strstr(page, ref) == NULL)
        fail_msg("%s is out of date: put the output of \"postern check -k\" "
                 "in its KEYS part", path);
    free(ref);
    free(page);
}

static void sample_config_loads_with_every_component(void **state)
{
    char path[1024], err[256] = "";
    config_t *cfg;

    (void) state;
    snprintf(path, sizeof(path), "%s/conf/postern.conf", getenv("POSTERN_SOURCE_DIR"));
    if ((cfg = config_load(path, components_sections(), err, sizeof(err))) == NULL)
        fail_msg("%s", err);
    config_unref(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(man_page_has_the_key_reference),
        cmocka_unit_test(sample_config_loads_with_every_component),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
