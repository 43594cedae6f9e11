/*
 * gcra.c - GCRA arithmetic (see gcra.h), with overflow checks: rates and
 * costs come from the config and from the MTA ("size").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gcra.h"

/* Ten years in microseconds: no sane window or wait is longer. */
#define GCRA_MAX_US (10LL * 366 * 86400 * GCRA_SECOND)

int gcra_params_init(gcra_params_t *p, uint64_t rate, int64_t period_us,
                     uint64_t burst, char *err, size_t errlen)
{
    if (rate == 0 || period_us < 1000 || period_us > GCRA_MAX_US) {
        snprintf(err, errlen, "a rate needs at least 1 unit per at least 1 ms, "
                 "and a period of at most 10 years");
        return -1;
    }
    if (burst == 0)
        burst = rate;
    p->interval_us = period_us / (int64_t) rate;
    if (p->interval_us == 0) {
        snprintf(err, errlen, "rate too high: more than one unit per microsecond");
        return -1;
    }
    if (burst > (uint64_t) (GCRA_MAX_US / p->interval_us)) {
        snprintf(err, errlen, "burst too large for this rate");
        return -1;
    }
    p->tolerance_us = p->interval_us * (int64_t) burst;
    return 0;
}

gcra_result_t gcra_apply(const gcra_params_t *p, int64_t *tat, int64_t now_us,
                         uint64_t cost)
{
    gcra_result_t r = { false, 0, 0 };
    int64_t base = *tat > now_us ? *tat : now_us;

    /* The clock went back: never more than one burst of penalty. */
    if (base - now_us > p->tolerance_us)
        base = now_us + p->tolerance_us;
    if (cost > (uint64_t) (p->tolerance_us / p->interval_us)) {
        r.retry_after_us = -1;          /* will never fit */
        return r;
    }
    int64_t next = base + (int64_t) cost * p->interval_us;
    if (next - now_us > p->tolerance_us) {
        r.retry_after_us = next - now_us - p->tolerance_us;
        r.remaining = (uint64_t) ((p->tolerance_us - (base - now_us)) / p->interval_us);
        if (*tat > now_us + p->tolerance_us)
            *tat = base;                /* store the clamp */
        return r;
    }
    *tat = next;
    r.allowed = true;
    r.remaining = (uint64_t) ((p->tolerance_us - (next - now_us)) / p->interval_us);
    return r;
}

bool gcra_expired(int64_t tat, int64_t now_us)
{
    return tat <= now_us;
}

int gcra_parse_rate(const char *text, uint64_t *rate, int64_t *period_us, char *err,
                    size_t errlen)
{
    static const struct {
        const char *unit;
        int64_t us;
    } units[] = { { "ms", 1000 }, { "s", GCRA_SECOND }, { "m", 60 * GCRA_SECOND },
                  { "h", 3600 * GCRA_SECOND }, { "d", 86400 * GCRA_SECOND } };
    char *end;
    unsigned long long n, len;

    errno = 0;
    n = strtoull(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || errno != 0 || *end != '/' || n == 0)
        goto bad;
    text = end + 1;
    len = 1;
    if (*text >= '0' && *text <= '9') {
        len = strtoull(text, &end, 10);
        if (errno != 0 || len == 0 || len > 1000000)
            goto bad;
        text = end;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(text, units[i].unit) == 0) {
            *rate = n;
            *period_us = (int64_t) len * units[i].us;
            return 0;
        }
    }
bad:
    snprintf(err, errlen, "not a rate (e.g. 100/1h, 5/30s, 2000/1d)");
    return -1;
}
