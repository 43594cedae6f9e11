/*
 * avscan_clamav.c - the libclamav back end: one compiled engine shared
 * by every scan, held by reference, rebuilt beside the old one when the
 * database directory changes. Loading and compiling is the expensive
 * part (seconds for a real database), so it happens only here, never
 * per message.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <clamav.h>

#include "avscan.h"

typedef struct clamav {
    avscan_t base;
    avscan_clamav_opts_t o;
    char *dbdir;

    pthread_mutex_t lock;       /* guards engine, sigs */
    struct cl_engine *engine;   /* NULL: no database (allow_no_db) */
    unsigned sigs;

    pthread_mutex_t slots;      /* guards active; free_slot signals */
    pthread_cond_t free_slot;
    unsigned active, max_active;

    pthread_mutex_t reload;     /* one rebuild at a time */
    uint64_t loaded_fp, failed_fp;

    /* The poll thread starts with the first scan: the state is built
     * before the daemon forks, and threads do not survive fork(). */
    pthread_mutex_t tlock;
    pthread_cond_t tcond;
    bool started, stop;
    pthread_t thread;
} clamav_t;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static cl_error_t init_rc = CL_SUCCESS;

/* libclamav prints its own messages to stderr unless told otherwise;
 * a daemon has no stderr, and per-file noise is not for syslog. */
static void quiet(enum cl_msg severity, const char *fullmsg, const char *msg, void *ctx)
{
    (void) severity;
    (void) fullmsg;
    (void) msg;
    (void) ctx;
}

static void init_library(void)
{
    cl_set_clcb_msg(quiet);
    init_rc = cl_init(CL_INIT_DEFAULT);
}

static void note(const clamav_t *c, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void note(const clamav_t *c, int level, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (c->o.note == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    c->o.note(c->o.note_arg, level, msg);
}

/* FNV-1a over the names, sizes, inodes and modification times of the
 * files in DIR: a cheap "has anything changed" that also sees a file
 * replaced by rename within the same second. 0: no such directory. */
static uint64_t fp_mix(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;

    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

static uint64_t dir_fingerprint(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    uint64_t sum = 1469598103934665603ULL;

    if (d == NULL)
        return 0;
    /* Entries come in no fixed order: combine per-file hashes with +. */
    while ((de = readdir(d)) != NULL) {
        char path[4096];
        struct stat st;
        uint64_t h = 1469598103934665603ULL;

        if (de->d_name[0] == '.')
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int) sizeof(path)
            || stat(path, &st) < 0)
            continue;
        h = fp_mix(h, de->d_name, strlen(de->d_name));
        h = fp_mix(h, &st.st_size, sizeof(st.st_size));
        h = fp_mix(h, &st.st_ino, sizeof(st.st_ino));
        h = fp_mix(h, &st.st_mtim, sizeof(st.st_mtim));
        sum += h;
    }
    closedir(d);
    return sum ? sum : 1;
}

static int set_limits(struct cl_engine *e, const avscan_clamav_opts_t *o)
{
    if (cl_engine_set_num(e, CL_ENGINE_MAX_SCANSIZE, (long long) o->max_scansize) != CL_SUCCESS
        || cl_engine_set_num(e, CL_ENGINE_MAX_FILESIZE, (long long) o->max_filesize) != CL_SUCCESS
        || cl_engine_set_num(e, CL_ENGINE_MAX_RECURSION, o->max_recursion) != CL_SUCCESS
        || cl_engine_set_num(e, CL_ENGINE_MAX_FILES, o->max_files) != CL_SUCCESS
        || (o->no_cache && cl_engine_set_num(e, CL_ENGINE_DISABLE_CACHE, 1) != CL_SUCCESS))
        return -1;
    return 0;
}

/* A new compiled engine from DIR, or NULL with ERR. */
static struct cl_engine *build_engine(const clamav_t *c, unsigned *sigs, char *err,
                                      size_t errlen)
{
    struct cl_engine *e = cl_engine_new();
    cl_error_t rc;

    *sigs = 0;
    if (e == NULL) {
        snprintf(err, errlen, "cannot create a scan engine");
        return NULL;
    }
    if (set_limits(e, &c->o) < 0
        || (c->o.tmpdir != NULL && c->o.tmpdir[0] != '\0'
            && cl_engine_set_str(e, CL_ENGINE_TMPDIR, c->o.tmpdir) != CL_SUCCESS)) {
        snprintf(err, errlen, "cannot set scan limits");
        cl_engine_free(e);
        return NULL;
    }
    rc = cl_load(c->dbdir, e, sigs, CL_DB_STDOPT);
    if (rc == CL_SUCCESS && *sigs == 0)
        snprintf(err, errlen, "no signatures in %s", c->dbdir);
    else if (rc != CL_SUCCESS)
        snprintf(err, errlen, "cannot load %s: %s", c->dbdir, cl_strerror(rc));
    else if ((rc = cl_engine_compile(e)) != CL_SUCCESS)
        snprintf(err, errlen, "cannot compile %s: %s", c->dbdir, cl_strerror(rc));
    else
        return e;
    cl_engine_free(e);
    return NULL;
}

/* Builds and swaps in a new engine when the directory changed, or
 * always with FORCE. */
static int reload(clamav_t *c, bool force, char *err, size_t errlen)
{
    struct cl_engine *e, *old;
    unsigned sigs;
    uint64_t fp;
    int rc = 0;

    pthread_mutex_lock(&c->reload);
    fp = dir_fingerprint(c->dbdir);
    /* A broken database is tried again only once it changes. */
    if (!force && (fp == c->loaded_fp || fp == c->failed_fp))
        goto out;
    e = build_engine(c, &sigs, err, errlen);
    if (e == NULL) {
        c->failed_fp = fp;
        rc = -1;
        goto out;
    }
    pthread_mutex_lock(&c->lock);
    old = c->engine;
    c->engine = e;
    c->sigs = sigs;
    pthread_mutex_unlock(&c->lock);
    /* Scans in flight hold their own reference; the last one frees it. */
    if (old != NULL)
        cl_engine_free(old);
    c->loaded_fp = fp;
    c->failed_fp = 0;
    rc = 1;
out:
    pthread_mutex_unlock(&c->reload);
    if (rc != 0 && !force && c->o.reloaded != NULL)
        c->o.reloaded(c->o.note_arg, rc > 0);
    return rc;
}

int avscan_clamav_check(avscan_t *s, char *err, size_t errlen)
{
    return reload((clamav_t *) s, false, err, errlen);
}

static void *poll_thread(void *arg)
{
    clamav_t *c = arg;
    char err[256];
    unsigned sigs;

    pthread_mutex_lock(&c->tlock);
    while (!c->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += (time_t) (c->o.check_ms / 1000);
        until.tv_nsec += (long) (c->o.check_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&c->tcond, &c->tlock, &until);
        if (c->stop)
            break;
        pthread_mutex_unlock(&c->tlock);
        int rc = avscan_clamav_check(&c->base, err, sizeof(err));
        if (rc > 0) {
            pthread_mutex_lock(&c->lock);
            sigs = c->sigs;
            pthread_mutex_unlock(&c->lock);
            note(c, 2 /* notice */, "virus database reloaded: %u signatures from %s", sigs,
                 c->dbdir);
        } else if (rc < 0) {
            note(c, 1 /* warning */, "virus database not reloaded, old one kept: %s", err);
        }
        pthread_mutex_lock(&c->tlock);
    }
    pthread_mutex_unlock(&c->tlock);
    return NULL;
}

static void start_poll(clamav_t *c)
{
    pthread_mutex_lock(&c->tlock);
    if (!c->started && c->o.check_ms > 0) {
        if (pthread_create(&c->thread, NULL, poll_thread, c) == 0)
            c->started = true;
        else
            c->o.check_ms = 0;  /* never try again; scans go on */
    }
    pthread_mutex_unlock(&c->tlock);
}

/* The current engine with a reference the caller drops, or NULL. */
static struct cl_engine *engine_acquire(clamav_t *c)
{
    struct cl_engine *e;

    pthread_mutex_lock(&c->lock);
    e = c->engine;
    if (e != NULL && cl_engine_addref(e) != CL_SUCCESS)
        e = NULL;
    pthread_mutex_unlock(&c->lock);
    return e;
}

static void slot_take(clamav_t *c)
{
    pthread_mutex_lock(&c->slots);
    while (c->active >= c->max_active)
        pthread_cond_wait(&c->free_slot, &c->slots);
    c->active++;
    pthread_mutex_unlock(&c->slots);
}

static void slot_give(clamav_t *c)
{
    pthread_mutex_lock(&c->slots);
    c->active--;
    pthread_cond_signal(&c->free_slot);
    pthread_mutex_unlock(&c->slots);
}

static void set_result(cl_error_t rc, const char *virname, avscan_result_t *r)
{
    char why[AVSCAN_MAX_REASON];

    if (rc == CL_CLEAN) {
        avscan_fail(r, AVSCAN_CLEAN, "");
    } else if (rc == CL_VIRUS) {
        virname = virname != NULL ? virname : "unnamed";
        avscan_found(r, virname, strlen(virname));
    } else if (rc == CL_ETIMEOUT || rc == CL_EMAXSIZE || rc == CL_EMAXREC
               || rc == CL_EMAXFILES) {
        snprintf(why, sizeof(why), "scan limit: %s", cl_strerror(rc));
        avscan_fail(r, AVSCAN_LIMIT, why);
    } else {
        snprintf(why, sizeof(why), "scan failed: %s", cl_strerror(rc));
        avscan_fail(r, AVSCAN_ERROR, why);
    }
}

static void clamav_scan(avscan_t *s, const avspool_t *msg, avscan_result_t *r)
{
    clamav_t *c = (clamav_t *) s;
    /* The whole message as mail: libclamav then walks MIME parts,
     * transfer encodings, archives and attached messages. Limit alerts
     * come back as Heuristics.Limits.Exceeded.* (see avscan_found). */
    struct cl_scan_options so = {
        .general = CL_SCAN_GENERAL_HEURISTICS,
        .parse = ~0U,
        .heuristic = CL_SCAN_HEURISTIC_EXCEEDS_MAX,
    };
    const char *virname = NULL;
    unsigned long scanned = 0;
    struct cl_engine *e;
    const void *mem;
    size_t len;
    cl_error_t rc;

    start_poll(c);
    e = engine_acquire(c);
    /* Running without a database: one appearing is used at once, not
     * only at the next poll (a cheap directory check when unchanged). */
    if (e == NULL) {
        char err[256];
        if (reload(c, false, err, sizeof(err)) > 0) {
            note(c, 2, "virus database reloaded: scanning from now on with %s", c->dbdir);
            e = engine_acquire(c);
        }
    }
    if (e == NULL) {
        avscan_fail(r, AVSCAN_UNSCANNED, "no virus database loaded");
        return;
    }
    slot_take(c);
    if ((mem = avspool_mem(msg, &len)) != NULL) {
        cl_fmap_t *map = cl_fmap_open_memory(mem, len);
        if (map == NULL) {
            rc = len == 0 ? CL_CLEAN : CL_EMEM;
        } else {
            rc = cl_scanmap_callback(map, "message", &virname, &scanned, e, &so, NULL);
            cl_fmap_close(map);
        }
    } else {
        rc = cl_scandesc(avspool_fd(msg), "message", &virname, &scanned, e, &so);
    }
    slot_give(c);
    set_result(rc, virname, r);
    cl_engine_free(e);
}

static void clamav_describe(avscan_t *s, char *buf, size_t buflen)
{
    clamav_t *c = (clamav_t *) s;

    pthread_mutex_lock(&c->lock);
    if (c->engine != NULL)
        snprintf(buf, buflen, "libclamav %s, %u signatures from %s", cl_retver(), c->sigs,
                 c->dbdir);
    else
        snprintf(buf, buflen, "libclamav %s, no database in %s: mail passes unscanned",
                 cl_retver(), c->dbdir);
    pthread_mutex_unlock(&c->lock);
}

static void clamav_free(avscan_t *s)
{
    clamav_t *c = (clamav_t *) s;

    if (c == NULL)
        return;
    pthread_mutex_lock(&c->tlock);
    c->stop = true;
    pthread_cond_signal(&c->tcond);
    pthread_mutex_unlock(&c->tlock);
    if (c->started)
        pthread_join(c->thread, NULL);
    if (c->engine != NULL)
        cl_engine_free(c->engine);
    pthread_mutex_destroy(&c->lock);
    pthread_mutex_destroy(&c->slots);
    pthread_cond_destroy(&c->free_slot);
    pthread_mutex_destroy(&c->reload);
    pthread_mutex_destroy(&c->tlock);
    pthread_cond_destroy(&c->tcond);
    free(c->dbdir);
    free(c);
}

static const avscan_ops_t clamav_ops = {
    .name = "clamav", .scan = clamav_scan, .describe = clamav_describe, .free = clamav_free,
};

avscan_t *avscan_clamav_new(const avscan_clamav_opts_t *opts, char *err, size_t errlen)
{
    clamav_t *c;
    char why[256] = "";

    pthread_once(&init_once, init_library);
    if (init_rc != CL_SUCCESS) {
        snprintf(err, errlen, "libclamav: %s", cl_strerror(init_rc));
        return NULL;
    }
    if ((c = calloc(1, sizeof(*c))) == NULL || (c->dbdir = strdup(opts->dbdir)) == NULL) {
        free(c);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->base.ops = &clamav_ops;
    c->o = *opts;
    c->o.dbdir = c->dbdir;
    pthread_mutex_init(&c->lock, NULL);
    pthread_mutex_init(&c->slots, NULL);
    pthread_cond_init(&c->free_slot, NULL);
    c->max_active = opts->max_scans;
    if (c->max_active == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        c->max_active = n > 0 ? (unsigned) n : 1;
    }
    pthread_mutex_init(&c->reload, NULL);
    pthread_mutex_init(&c->tlock, NULL);
    pthread_cond_init(&c->tcond, NULL);
    if (reload(c, true, why, sizeof(why)) < 0 && !opts->allow_no_db) {
        snprintf(err, errlen, "no usable virus database: %s (on_no_database = pass runs "
                 "without one)", why);
        clamav_free(&c->base);
        return NULL;
    }
    if (c->engine == NULL)
        note(c, 1, "no usable virus database (%s): mail passes unscanned until one appears",
             why);
    return &c->base;
}
