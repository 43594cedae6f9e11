/*
 * main.c - postern-spf, the SPF milter: milterd does the rest.
 */
#include "milterd.h"

#include "spf_conf.h"
#include "spf_metrics.h"
#include "spf_milter.h"

static const conf_section_t *const own[] = { &spf_conf_section, NULL };

static const milterd_spec_t spec = {
    .component = "spf", .daemon = "postern-spf", .sections = own,
    .desc = &spf_desc, .proto = &spf_proto,
    .state_new = spf_state_new, .state_free = spf_state_free,
    .metrics_init = spf_metrics_init,
};

int main(int argc, char **argv)
{
    return milterd_main(&spec, argc, argv);
}
