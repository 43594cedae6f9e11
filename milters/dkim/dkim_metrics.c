/*
 * dkim_metrics.c - register postern-dkim's verify and sign counters once,
 * at start; the milter counts as it reports each signature.
 */
#include <stdio.h>

#include "metrics.h"

#include "dkim_metrics.h"

#define NRES (DKIM_RES_PERMERROR + 1)
#define NALG (DKIM_KEY_ED25519 + 1)

static metric_t *verified[NRES], *unverifiable, *signed_[NALG], *sign_errors;

static metric_t *verify_counter(const char *result)
{
    char labels[64];

    snprintf(labels, sizeof(labels), "result=\"%s\"", result);
    return metrics_counter("postern_dkim_verify_results_total",
                           "DKIM signatures verified, by result (none: no signature).",
                           labels);
}

void dkim_metrics_init(const config_t *cfg)
{
    char labels[64];

    (void) cfg;
    for (int r = 0; r < NRES; r++)
        verified[r] = verify_counter(dkim_result_name((dkim_res_t) r));
    unverifiable = verify_counter("error");
    for (int a = 0; a < NALG; a++) {
        snprintf(labels, sizeof(labels), "algorithm=\"%s\"",
                 dkim_keys_alg_name((dkim_keyalg_t) a));
        signed_[a] = metrics_counter("postern_dkim_signatures_total",
                                     "DKIM signatures added, by algorithm.", labels);
    }
    sign_errors = metrics_counter("postern_dkim_sign_errors_total",
                                  "DKIM signatures that could not be made or added.", NULL);
}

void dkim_metrics_verified(dkim_res_t r)
{
    if ((unsigned) r < NRES)
        metric_add(verified[r], 1);
}

void dkim_metrics_unverifiable(void)
{
    metric_add(unverifiable, 1);
}

void dkim_metrics_signed(dkim_keyalg_t alg, bool ok)
{
    if (!ok)
        metric_add(sign_errors, 1);
    else if ((unsigned) alg < NALG)
        metric_add(signed_[alg], 1);
}
