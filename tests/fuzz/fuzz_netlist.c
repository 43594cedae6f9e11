/*
 * fuzz_netlist.c - netlist entries from arbitrary text: either an error
 * or a list that answers lookups; never a crash or leak.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const probes[] = { "127.0.0.1", "10.1.2.3", "::1", "2001:db8::1",
                                          "::ffff:192.0.2.1", "[192.0.2.9]", "garbage" };
    char err[256], *text = malloc(size + 1);
    netlist_t *nl = netlist_new();

    if (text == NULL || nl == NULL)
        goto out;
    memcpy(text, data, size);
    text[size] = '\0';
    /* Files are not for fuzzing: keep only inline entries. */
    for (char *p = text; *p; p++)
        if (*p == '/' && (p == text || p[-1] == ' ' || p[-1] == ',' || p[-1] == '\t'
                          || p[-1] == '\n' || p[-1] == '\r'))
            *p = 'x';
    if (netlist_add_list(nl, text, err, sizeof(err)) == 0)
        for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
            (void) netlist_match_str(nl, probes[i]);
    else if (netlist_count(nl) != 0)
        abort();                /* a failed list must add nothing */
out:
    netlist_free(nl);
    free(text);
    return 0;
}
