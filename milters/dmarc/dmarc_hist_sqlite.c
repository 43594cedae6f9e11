/*
 * dmarc_hist_sqlite.c - the SQLite back end of the DMARC history: one
 * table of evaluations, an index by policy domain and time for the
 * report queries, WAL so that "postern dmarc report" reads while the
 * milter writes.
 *
 * Rows are written in batches by a writer thread: an add copies the row
 * into a bounded queue and returns, and the writer stores what is
 * queued in one transaction when SQ_BATCH rows wait or a second has
 * passed. One transaction per message cost postern-dmarc about an
 * eighth of its CPU per message and serialised the milter's threads on
 * the connection. The writer starts with the first add, not at open:
 * the daemon opens the history before it forks into the background,
 * and a thread does not survive fork(2). Nothing is lost on a clean
 * stop: close, and every
 * read, first waits until the queue is written. A full queue makes the
 * adder wait (back pressure) rather than drop an evaluation; rows a
 * failed transaction could not store are counted and reported by the
 * next add.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sqlite3.h>

#include "dmarc_hist.h"

#define SQ_QUEUE 512            /* rows waiting at most (~5 KB each) */
#define SQ_BATCH 128            /* rows that start a transaction at once */
#define SQ_LINGER_S 1           /* a row waits at most this long */

typedef struct sq {
    sqlite3 *db;
    sqlite3_stmt *insert;
    pthread_mutex_t lock;       /* the queue and everything below */
    pthread_cond_t work;        /* to the writer: rows, a flush or stop */
    pthread_cond_t room;        /* from the writer: rows were stored */
    pthread_t writer;
    bool writer_running, writer_failed, stopping;
    unsigned flushers;          /* callers waiting for an empty queue */
    dmarc_hist_row_t *q;        /* ring of SQ_QUEUE rows */
    size_t head, count;         /* oldest row; rows queued or being written */
    unsigned long lost;         /* rows failed transactions dropped */
    char lost_why[256];
} sq_t;

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS evaluations ("
    " id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, source_ip TEXT NOT NULL,"
    " header_from TEXT NOT NULL, envelope_from TEXT NOT NULL, envelope_to TEXT NOT NULL,"
    " policy_domain TEXT NOT NULL, p INTEGER, sp INTEGER, pct INTEGER,"
    " adkim TEXT, aspf TEXT, fo TEXT, rua TEXT,"
    " result INTEGER, disposition INTEGER, dkim_aligned INTEGER, spf_aligned INTEGER,"
    " override TEXT NOT NULL, spf_domain TEXT NOT NULL, spf_helo INTEGER,"
    " spf_result INTEGER, dkim TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS evaluations_domain_ts ON evaluations(policy_domain, ts);";

static const char insert_sql[] =
    "INSERT INTO evaluations (ts, source_ip, header_from, envelope_from, envelope_to,"
    " policy_domain, p, sp, pct, adkim, aspf, fo, rua, result, disposition,"
    " dkim_aligned, spf_aligned, override, spf_domain, spf_helo, spf_result, dkim)"
    " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22)";

static int fail(sqlite3 *db, const char *what, char *err, size_t errlen)
{
    snprintf(err, errlen, "history: %s: %s", what, db ? sqlite3_errmsg(db) : "out of memory");
    return -1;
}

/* ---- the writer ---- */

static char *dkim_json(const dmarc_hist_row_t *row);
static void bind_row(sqlite3_stmt *st, const dmarc_hist_row_t *r, const char *dkim);

/* N rows in one transaction: 0, or -1 with err (nothing stored). */
static int write_rows(sq_t *s, const dmarc_hist_row_t *rows, size_t n, char *err,
                      size_t errlen)
{
    if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return fail(s->db, "begin", err, errlen);
    for (size_t i = 0; i < n; i++) {
        char *dkim = dkim_json(&rows[i]);
        int rc = SQLITE_NOMEM;
        if (dkim != NULL) {
            bind_row(s->insert, &rows[i], dkim);
            rc = sqlite3_step(s->insert);
            sqlite3_reset(s->insert);
            sqlite3_clear_bindings(s->insert);
            free(dkim);
        }
        if (rc != SQLITE_DONE) {
            fail(dkim ? s->db : NULL, "add", err, errlen);
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
    }
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        fail(s->db, "commit", err, errlen);
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

/* Waits, lock held, until a batch is due: SQ_BATCH rows, rows older
 * than about SQ_LINGER_S, a flush, or stop. */
static void wait_for_batch(sq_t *s)
{
    while (!s->stopping && !(s->flushers > 0 && s->count > 0) &&
           s->count < SQ_BATCH) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += SQ_LINGER_S;
        if (pthread_cond_timedwait(&s->work, &s->lock, &until) == ETIMEDOUT &&
            s->count > 0)
            return;
    }
}

static void *writer_main(void *arg)
{
    sq_t *s = arg;

    pthread_mutex_lock(&s->lock);
    for (;;) {
        wait_for_batch(s);
        if (s->count == 0) {
            if (s->stopping)
                break;
            continue;
        }
        /* The rows up to the end of the ring are ours until released:
         * adders only write after them. */
        size_t n = s->count < SQ_QUEUE - s->head ? s->count : SQ_QUEUE - s->head;
        char err[256];
        pthread_mutex_unlock(&s->lock);
        int rc = write_rows(s, &s->q[s->head], n, err, sizeof err);
        pthread_mutex_lock(&s->lock);
        if (rc < 0) {
            s->lost += n;
            snprintf(s->lost_why, sizeof s->lost_why, "%s", err);
        }
        s->head = (s->head + n) % SQ_QUEUE;
        s->count -= n;
        pthread_cond_broadcast(&s->room);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* Returns once every row queued so far is in the database (or lost). */
static void flush(sq_t *s)
{
    pthread_mutex_lock(&s->lock);
    s->flushers++;
    pthread_cond_signal(&s->work);
    while (s->count > 0 && s->writer_running)
        pthread_cond_wait(&s->room, &s->lock);
    s->flushers--;
    pthread_mutex_unlock(&s->lock);
}

static void sq_close(void *h)
{
    sq_t *s = h;

    if (s == NULL)
        return;
    if (s->writer_running) {
        pthread_mutex_lock(&s->lock);
        s->stopping = true;
        pthread_cond_signal(&s->work);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->writer, NULL);      /* it writes what is queued */
    }
    sqlite3_finalize(s->insert);
    sqlite3_close(s->db);
    pthread_cond_destroy(&s->work);
    pthread_cond_destroy(&s->room);
    pthread_mutex_destroy(&s->lock);
    free(s->q);
    free(s);
}

static void *sq_open(const char *path, char *err, size_t errlen)
{
    sq_t *s = calloc(1, sizeof *s);

    if (s == NULL || path == NULL || *path == '\0') {
        snprintf(err, errlen, "history: %s", s ? "no database path" : "out of memory");
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->work, NULL);
    pthread_cond_init(&s->room, NULL);
    if ((s->q = malloc(SQ_QUEUE * sizeof *s->q)) == NULL) {
        snprintf(err, errlen, "history: out of memory");
        sq_close(s);
        return NULL;
    }
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(s->db, 5000) != SQLITE_OK ||
        sqlite3_exec(s->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, insert_sql, -1, &s->insert, NULL) != SQLITE_OK) {
        char what[300];
        snprintf(what, sizeof what, "%s", path);
        fail(s->db, what, err, errlen);
        sq_close(s);
        return NULL;
    }
    return s;
}

/* The DKIM results as a JSON array: grouped as one value, and readable. */
static char *dkim_json(const dmarc_hist_row_t *row)
{
    json_t *a = json_array();

    for (size_t i = 0; a && i < row->ndkim; i++)
        json_array_append_new(a, json_pack("{s:s,s:s,s:s}", "d", row->dkim[i].domain,
                                           "s", row->dkim[i].selector,
                                           "r", dmarc_auth_name(row->dkim[i].result)));
    char *text = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    return text;
}

static void dkim_parse(const char *text, dmarc_hist_row_t *row)
{
    json_t *a = text ? json_loads(text, 0, NULL) : NULL;
    size_t i;
    json_t *o;

    row->ndkim = 0;
    json_array_foreach(a, i, o) {
        if (row->ndkim >= DMARC_HIST_MAX_DKIM)
            break;
        dmarc_hist_dkim_t *d = &row->dkim[row->ndkim++];
        const char *dd = json_string_value(json_object_get(o, "d"));
        const char *ss = json_string_value(json_object_get(o, "s"));
        const char *rr = json_string_value(json_object_get(o, "r"));
        snprintf(d->domain, sizeof d->domain, "%s", dd ? dd : "");
        snprintf(d->selector, sizeof d->selector, "%s", ss ? ss : "");
        if (rr == NULL || dmarc_auth_parse(rr, &d->result) < 0)
            d->result = DMARC_AUTH_NONE;
    }
    json_decref(a);
}

static void bind_row(sqlite3_stmt *st, const dmarc_hist_row_t *r, const char *dkim)
{
    char adkim[2] = { r->adkim, 0 }, aspf[2] = { r->aspf, 0 };

    sqlite3_bind_int64(st, 1, r->ts);
    sqlite3_bind_text(st, 2, r->source_ip, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, r->header_from, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, r->envelope_from, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, r->envelope_to, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, r->policy_domain, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 7, r->p);
    sqlite3_bind_int(st, 8, r->sp);
    sqlite3_bind_int(st, 9, r->pct);
    sqlite3_bind_text(st, 10, adkim, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 11, aspf, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 12, r->fo, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 13, r->rua, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 14, r->result);
    sqlite3_bind_int(st, 15, r->disposition);
    sqlite3_bind_int(st, 16, r->dkim_aligned);
    sqlite3_bind_int(st, 17, r->spf_aligned);
    sqlite3_bind_text(st, 18, r->override, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 19, r->spf_domain, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 20, r->spf_helo);
    sqlite3_bind_int(st, 21, r->spf_result);
    sqlite3_bind_text(st, 22, dkim, -1, SQLITE_TRANSIENT);
}

/* Queues the row for the writer; -1 reports rows lost since the last
 * report (this one is queued all the same). */
static int sq_add(void *h, const dmarc_hist_row_t *row, char *err, size_t errlen)
{
    sq_t *s = h;
    int ret = 0;

    pthread_mutex_lock(&s->lock);
    if (!s->writer_running && !s->writer_failed) {
        if (pthread_create(&s->writer, NULL, writer_main, s) == 0)
            s->writer_running = true;
        else
            s->writer_failed = true;
    }
    if (!s->writer_running) {           /* no thread: store it now */
        pthread_mutex_unlock(&s->lock);
        return write_rows(s, row, 1, err, errlen);
    }
    while (s->count == SQ_QUEUE)        /* the writer is behind: wait */
        pthread_cond_wait(&s->room, &s->lock);
    s->q[(s->head + s->count) % SQ_QUEUE] = *row;
    if (++s->count >= SQ_BATCH)
        pthread_cond_signal(&s->work);
    if (s->lost > 0) {
        snprintf(err, errlen, "history: %lu evaluations not stored: %s", s->lost,
                 s->lost_why);
        s->lost = 0;
        ret = -1;
    }
    pthread_mutex_unlock(&s->lock);
    return ret;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

/* A query over what was added before it: the queue is written first. */
static sqlite3_stmt *prepare(sq_t *s, const char *sql, const char *domain, int64_t begin,
                             int64_t end, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;

    flush(s);
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        fail(s->db, "query", err, errlen);
        return NULL;
    }
    int i = 1;
    if (domain != NULL)
        sqlite3_bind_text(st, i++, domain, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, i++, begin);
    sqlite3_bind_int64(st, i, end);
    return st;
}

static int sq_domains(void *h, int64_t begin, int64_t end, dmarc_hist_domain_fn each,
                      void *arg, char *err, size_t errlen)
{
    sq_t *s = h;
    sqlite3_stmt *st = prepare(s, "SELECT DISTINCT policy_domain FROM evaluations"
                               " WHERE policy_domain <> '' AND ts >= ?1 AND ts < ?2"
                               " ORDER BY policy_domain", NULL, begin, end, err, errlen);
    int rc, ret = 0;

    if (st == NULL)
        return -1;
    while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
        ret = each(arg, col_text(st, 0));
    if (ret == 0 && rc != SQLITE_DONE)
        ret = fail(s->db, "domains", err, errlen);
    sqlite3_finalize(st);
    return ret;
}

static int sq_latest(void *h, const char *domain, int64_t begin, int64_t end,
                     dmarc_hist_row_t *out, char *err, size_t errlen)
{
    sq_t *s = h;
    sqlite3_stmt *st = prepare(s, "SELECT p, sp, pct, adkim, aspf, fo, rua FROM evaluations"
                               " WHERE policy_domain = ?1 AND ts >= ?2 AND ts < ?3"
                               " ORDER BY ts DESC, id DESC LIMIT 1", domain, begin, end,
                               err, errlen);
    if (st == NULL)
        return -1;
    memset(out, 0, sizeof *out);
    int rc = sqlite3_step(st), ret = 0;
    if (rc == SQLITE_ROW) {
        snprintf(out->policy_domain, sizeof out->policy_domain, "%s", domain);
        out->p = (dmarc_p_t)sqlite3_column_int(st, 0);
        out->sp = (dmarc_p_t)sqlite3_column_int(st, 1);
        out->pct = sqlite3_column_int(st, 2);
        out->adkim = col_text(st, 3)[0];
        out->aspf = col_text(st, 4)[0];
        snprintf(out->fo, sizeof out->fo, "%s", col_text(st, 5));
        snprintf(out->rua, sizeof out->rua, "%s", col_text(st, 6));
        ret = 1;
    } else if (rc != SQLITE_DONE) {
        ret = fail(s->db, "latest", err, errlen);
    }
    sqlite3_finalize(st);
    return ret;
}

#define GROUP_COLS "source_ip, header_from, disposition, dkim_aligned, spf_aligned," \
                   " override, spf_domain, spf_helo, spf_result, dkim"

static int sq_groups(void *h, const char *domain, int64_t begin, int64_t end,
                     dmarc_hist_group_fn each, void *arg, char *err, size_t errlen)
{
    sq_t *s = h;
    sqlite3_stmt *st = prepare(s, "SELECT " GROUP_COLS ", COUNT(*) FROM evaluations"
                               " WHERE policy_domain = ?1 AND ts >= ?2 AND ts < ?3"
                               " GROUP BY " GROUP_COLS " ORDER BY " GROUP_COLS,
                               domain, begin, end, err, errlen);
    dmarc_hist_row_t *g = malloc(sizeof *g);
    int rc = SQLITE_DONE, ret = 0;

    if (st == NULL || g == NULL) {
        sqlite3_finalize(st);
        free(g);
        return st ? fail(NULL, "groups", err, errlen) : -1;
    }
    while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        memset(g, 0, sizeof *g);
        snprintf(g->policy_domain, sizeof g->policy_domain, "%s", domain);
        snprintf(g->source_ip, sizeof g->source_ip, "%s", col_text(st, 0));
        snprintf(g->header_from, sizeof g->header_from, "%s", col_text(st, 1));
        g->disposition = (dmarc_p_t)sqlite3_column_int(st, 2);
        g->dkim_aligned = sqlite3_column_int(st, 3) != 0;
        g->spf_aligned = sqlite3_column_int(st, 4) != 0;
        snprintf(g->override, sizeof g->override, "%s", col_text(st, 5));
        snprintf(g->spf_domain, sizeof g->spf_domain, "%s", col_text(st, 6));
        g->spf_helo = sqlite3_column_int(st, 7) != 0;
        g->spf_result = (dmarc_auth_t)sqlite3_column_int(st, 8);
        dkim_parse(col_text(st, 9), g);
        ret = each(arg, g, (unsigned long)sqlite3_column_int64(st, 10));
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = fail(s->db, "groups", err, errlen);
    sqlite3_finalize(st);
    free(g);
    return ret;
}

const dmarc_hist_ops_t dmarc_hist_sqlite_ops = {
    "sqlite", sq_open, sq_add, sq_domains, sq_latest, sq_groups, sq_close
};
