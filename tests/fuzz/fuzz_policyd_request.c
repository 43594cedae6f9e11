/*
 * fuzz_policyd_request.c - the policy request parser and the limit key
 * and cost functions on arbitrary bytes, fed as a stream the way a
 * client's writes arrive: never a crash, never a read past the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#include "limit.h"
#include "request.h"

static limits_t *limits;

static void setup(void)
{
    static const conf_section_t *const sections[] = { &conf_global_section,
                                                      &limit_conf_section, NULL };
    char err[256];
    config_t *cfg = config_load_string("fuzz.conf",
        "[limit a]\nkey = sender_domain, client_net\nstage = rcpt\nrate = 10/1m\n"
        "[limit b]\nkey = sasl_username, recipient_domain\ncount = bytes\nrate = 1000/1h\n"
        "exempt = 10.0.0.0/8\n", sections, err, sizeof(err));

    limits = cfg ? limits_from_config(cfg, err, sizeof(err)) : NULL;
    config_unref(cfg);
    if (limits == NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static request_t req;
    char err[256], key[LIMIT_KEY_MAX];
    size_t pos = 0, used;

    if (limits == NULL)
        setup();
    /* Requests back to back, as on a kept-open connection. */
    while (pos < size) {
        request_status_t st = request_parse((const char *) data + pos, size - pos, &req,
                                            &used, err, sizeof(err));
        if (st != REQUEST_OK)
            break;
        if (used == 0 || used > size - pos)
            abort();
        for (size_t i = 0; i < limits_count(limits); i++) {
            if (limit_key(limits_get(limits, i), &req, key, sizeof(key)) && key[0] == '\0')
                abort();
            (void) limit_cost(limits_get(limits, i), &req);
        }
        pos += used;
    }
    return 0;
}
