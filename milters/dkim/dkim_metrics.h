/*
 * dkim_metrics.h - what postern-dkim counts for the metrics listener:
 *
 *	postern_dkim_verify_results_total{result}     counter
 *	    one per signature verified (none, pass, fail, neutral, policy,
 *	    temperror, permerror); a message without a signature counts
 *	    once as none, one that could not be verified at all as error
 *	postern_dkim_signatures_total{algorithm}      counter
 *	    signatures added, by algorithm (rsa-sha256, ed25519-sha256)
 *	postern_dkim_sign_errors_total                counter
 *	    signatures that could not be made or added
 *
 * Before dkim_metrics_init() the updates do nothing.
 */
#ifndef POSTERN_DKIM_METRICS_H
#define POSTERN_DKIM_METRICS_H

#include <stdbool.h>

#include "config.h"

#include "dkim_keys.h"
#include "dkim_result.h"

void dkim_metrics_init(const config_t *cfg);
void dkim_metrics_verified(dkim_res_t r);
void dkim_metrics_unverifiable(void);
void dkim_metrics_signed(dkim_keyalg_t alg, bool ok);

#endif
