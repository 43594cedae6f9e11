/*
 * attach_metrics.c - register postern-attach's decision, rule and parse
 * time metrics once, at start; the milter counts each message.
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "mnamed.h"

#include "arule.h"
#include "attach_metrics.h"

static const char *const causes[] = { "rule", "limit", "suspect", "clean", "error" };
#define NCAUSES (sizeof(causes) / sizeof(causes[0]))
#define NACTIONS (MACT_QUARANTINE + 1)

static metric_t *decisions[NCAUSES][NACTIONS], *parse_time;
static mnamed_t *rule_hits;

static void rules_init(const config_t *cfg)
{
    const char *names[MNAMED_MAX];
    char err[256];
    size_t n = 0;
    arule_set_t *rs = arule_set_new(cfg, err, sizeof(err));

    /* The state built from the same file a moment ago had no error. */
    if (rs == NULL) {
        log_warn("attach: metrics: rules: %s", err);
        return;
    }
    for (size_t i = 0; i < arule_set_count(rs) && n < MNAMED_MAX; i++)
        names[n++] = arule_set_name(rs, i);
    rule_hits = mnamed_new("postern_attach_rule_hits_total",
                           "Messages decided by a rule, by the rule's name.", "rule", names, n);
    arule_set_free(rs);
}

void attach_metrics_init(const config_t *cfg)
{
    char labels[96];

    for (size_t c = 0; c < NCAUSES; c++)
        for (int a = 0; a < NACTIONS; a++) {
            snprintf(labels, sizeof(labels), "cause=\"%s\",action=\"%s\"", causes[c],
                     mact_name((mact_t) a));
            decisions[c][a] = metrics_counter("postern_attach_decisions_total",
                                              "Messages by what decided and the action.",
                                              labels);
        }
    parse_time = metrics_histogram("postern_attach_parse_seconds",
                                   "Time to walk one message's MIME tree.", NULL);
    rules_init(cfg);
}

void attach_metrics_decision(const char *cause, mact_t action, const char *rule)
{
    for (size_t c = 0; c < NCAUSES; c++)
        if (strcmp(causes[c], cause) == 0 && (unsigned) action < NACTIONS) {
            metric_add(decisions[c][action], 1);
            break;
        }
    if (rule != NULL)
        mnamed_add(rule_hits, rule, 1);
}

void attach_metrics_parse(double ms)
{
    metric_observe_ms(parse_time, ms);
}
