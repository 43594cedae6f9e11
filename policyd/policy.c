/*
 * policy.c - charge the limits for one request and pick the reply. The
 * per-request state is a small job that outlives policy_decide() when
 * the back end answers later.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "log.h"

#include "pmetrics.h"
#include "policy.h"

struct policy {
    const limits_t *limits;
    backend_t *backend;
    audit_t *audit;
    policy_opts_t opts;
    policy_stats_t stats;
};

typedef struct job job_t;

typedef struct charge {
    job_t *job;
    const limit_t *limit;
    char key[LIMIT_KEY_MAX];
} charge_t;

/* What the audit record and logs say about the request. */
enum { F_QID, F_CLIENT, F_HELO, F_SENDER, F_RCPT, F_COUNT };

struct job {
    policy_t *p;
    unsigned pending;           /* back end answers still to come, +1 while charging */
    bool failed;
    char why[160];
    const limit_t *worst;       /* most severe limit that is over */
    gcra_result_t worst_res;
    policy_reply_fn reply;
    void *arg;
    struct timespec t0;
    /* Point into the request while policy_decide() runs; into store
     * once an answer is left for later (the request is gone by then). */
    const char *field[F_COUNT];
    char *store;
    size_t ncharges;
    charge_t charges[];         /* one per limit */
};

policy_t *policy_new(const limits_t *limits, backend_t *backend, audit_t *audit,
                     const policy_opts_t *opts)
{
    policy_t *p = calloc(1, sizeof(*p));

    if (p == NULL)
        return NULL;
    p->limits = limits;
    p->backend = backend;
    p->audit = audit;
    p->opts = *opts;
    return p;
}

void policy_free(policy_t *p)
{
    free(p);
}

void policy_get_stats(const policy_t *p, policy_stats_t *out)
{
    *out = p->stats;
}

static double ms_since(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double) (t1.tv_sec - t0->tv_sec) * 1e3 + (double) (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void record_hit(job_t *j, const charge_t *c, const gcra_result_t *r)
{
    const char *rcpt[1] = { j->field[F_RCPT] };
    const char *qid = j->field[F_QID][0] ? j->field[F_QID] : "NOQUEUE";
    char reason[LIMIT_KEY_MAX + 128], err[256], action[32];

    snprintf(reason, sizeof(reason), "rate %s exceeded for key %s", c->limit->rate_text,
             c->key);
    snprintf(action, sizeof(action), "%s%s", j->p->opts.monitor ? "monitor:" : "",
             limit_action_name(c->limit->action));
    log_notice("%.32s: policyd: limit %s exceeded by %s (client %.64s, sender <%.256s>),"
               " retry in %llds, action %s", qid, c->limit->name, c->key, j->field[F_CLIENT],
               j->field[F_SENDER], (long long) (r->retry_after_us / GCRA_SECOND), action);
    audit_record_t rec = { .component = "policyd", .qid = j->field[F_QID][0] ? qid : NULL,
                           .client_ip = j->field[F_CLIENT], .helo = j->field[F_HELO],
                           .from = j->field[F_SENDER], .rcpt = rcpt,
                           .nrcpt = rcpt[0][0] ? 1 : 0, .step = c->limit->name,
                           .result = "over-limit", .reason = reason, .action = action,
                           .ms = ms_since(&j->t0) };
    if (j->p->audit != NULL && audit_write(j->p->audit, &rec, err, sizeof(err)) < 0)
        log_err("policyd: audit log: %s", err);
}

static void finish(job_t *j)
{
    char reply[512];

    if (j->worst != NULL && !j->p->opts.monitor)
        limit_reply(j->worst, &j->worst_res, reply, sizeof(reply));
    else if (j->failed && j->p->opts.fail_closed)
        snprintf(reply, sizeof(reply), "action=DEFER_IF_PERMIT 4.3.0 Rate limit service "
                 "unavailable, try again later");
    else
        memcpy(reply, "action=DUNNO", sizeof("action=DUNNO"));
    metric_observe_ms(pmetrics.decision, ms_since(&j->t0));
    if (j->failed)
        log_err("%.32s: policyd: %s; answered %s",
                j->field[F_QID][0] ? j->field[F_QID] : "NOQUEUE", j->why,
                reply + 7);
    j->reply(j->arg, reply);
    free(j->store);
    free(j);
}

static void charged(void *arg, int status, const gcra_result_t *r, const char *err)
{
    charge_t *c = arg;
    job_t *j = c->job;

    if (status < 0) {
        j->failed = true;
        j->p->stats.backend_errors++;
        metric_add(pmetrics.backend_errors, 1);
        snprintf(j->why, sizeof(j->why), "limit %s: %s", c->limit->name, err ? err : "error");
    } else if (!r->allowed) {
        j->p->stats.over_limit++;
        metric_add(pmetrics.over_limit, 1);
        metric_add(pmetrics.actions[c->limit->action], 1);
        mnamed_add(pmetrics.hits, c->limit->name, 1);
        record_hit(j, c, r);
        if (c->limit->action != ACTION_WARN
            && (j->worst == NULL || c->limit->action > j->worst->action)) {
            j->worst = c->limit;
            j->worst_res = *r;
        }
    }
    if (--j->pending == 0)
        finish(j);
}

static const request_known_t field_attr[F_COUNT] = {
    REQ_QUEUE_ID, REQ_CLIENT_ADDRESS, REQ_HELO_NAME, REQ_SENDER, REQ_RECIPIENT
};

/* The request's text outlives nothing: copy what the logs need before an
 * answer is left for later. Bounded like the request. */
static int keep_fields(job_t *j)
{
    size_t len[F_COUNT], total = 0, o = 0;

    for (int f = 0; f < F_COUNT; f++)
        total += (len[f] = strlen(j->field[f])) + 1;
    if ((j->store = malloc(total)) == NULL)
        return -1;
    for (int f = 0; f < F_COUNT; f++) {
        memcpy(j->store + o, j->field[f], len[f] + 1);
        j->field[f] = j->store + o;
        o += len[f] + 1;
    }
    return 0;
}

static job_t *job_new(policy_t *p, const request_t *req, policy_reply_fn reply, void *arg)
{
    size_t n = limits_count(p->limits);
    job_t *j = malloc(sizeof(*j) + n * sizeof(charge_t));

    if (j == NULL)
        return NULL;
    *j = (job_t) { .p = p, .reply = reply, .arg = arg, .pending = 1 };
    clock_gettime(CLOCK_MONOTONIC, &j->t0);
    for (int f = 0; f < F_COUNT; f++)
        j->field[f] = request_value(req, field_attr[f]);
    return j;
}

int policy_decide(policy_t *p, const request_t *req, int64_t now_us, policy_reply_fn reply,
                  void *arg)
{
    job_t *j = job_new(p, req, reply, arg);

    if (j == NULL)
        return -1;
    p->stats.requests++;
    metric_add(pmetrics.requests, 1);
    for (size_t i = 0; i < limits_count(p->limits); i++) {
        const limit_t *l = limits_get(p->limits, i);
        uint64_t cost = limit_cost(l, req);
        charge_t *c = &j->charges[j->ncharges];
        if (cost == 0 || !limit_key(l, req, c->key, sizeof(c->key)))
            continue;
        c->job = j;
        c->limit = l;
        j->ncharges++;
        j->pending++;
        p->backend->ops->apply(p->backend, c->key, &l->gcra, now_us, cost, charged, c);
    }
    if (j->pending > 1 && keep_fields(j) < 0) {
        /* Answers still to come and nowhere to keep the request's words:
         * the logs go without them. */
        for (int f = 0; f < F_COUNT; f++)
            j->field[f] = "";
    }
    if (--j->pending == 0)
        finish(j);
    return 0;
}
