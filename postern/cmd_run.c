/*
 * cmd_run.c - "postern run": start every enabled component from one
 * config file in the foreground and supervise them (common/supervisor).
 * Each daemon is started as "BINARY -f -c CONFIG" from the directory the
 * postern binary itself lives in, so a build tree and an installed tree
 * both work.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "supervisor.h"

#include "cmdconf.h"
#include "commands.h"
#include "components.h"
#include "postfix_hint.h"

static int run_usage(void)
{
    fprintf(stderr, "usage: postern run [-c FILE] [-n]\n"
                    "  -n  check the configuration and what would start, then exit\n");
    return EX_USAGE;
}

/* Directory of our own executable, where the component daemons are. */
static int own_dir(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    char *slash;

    if (n <= 0)
        return -1;
    buf[n] = '\0';
    if ((slash = strrchr(buf, '/')) == NULL)
        return -1;
    *slash = '\0';
    return 0;
}

/* An enabled milter needs a socket; say which section lacks it. */
static int check_enabled(const config_t *cfg, const component_t *c,
                         const char *dir)
{
    char path[PATH_MAX];

    if (c->kind == COMPONENT_MILTER && config_str(cfg, c->name, "socket") == NULL) {
        fprintf(stderr, "postern: %s: [%s] socket: required when enable = yes\n",
                config_path(cfg), c->name);
        return EX_CONFIG;
    }
    if (snprintf(path, sizeof(path), "%s/%s", dir, c->binary) >= (int) sizeof(path)
        || access(path, X_OK) != 0) {
        fprintf(stderr, "postern: [%s] daemon %s/%s: %s\n", c->name, dir,
                c->binary, strerror(errno));
        return EX_UNAVAILABLE;
    }
    return 0;
}

/* mkdir -p PATH, the last component owned by PW (when we are root). */
static void ensure_dir(const char *path, mode_t mode, const struct passwd *pw)
{
    char buf[PATH_MAX];

    if (path == NULL || *path != '/' || strlen(path) >= sizeof(buf))
        return;
    strcpy(buf, path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        mkdir(buf, 0755);
        *p = '/';
    }
    if (mkdir(buf, mode) < 0 && errno != EEXIST) {
        log_warn("cannot create %s: %s", buf, strerror(errno));
        return;
    }
    if (pw != NULL && geteuid() == 0 && chown(buf, pw->pw_uid, pw->pw_gid) < 0)
        log_warn("cannot give %s to %s: %s", buf, pw->pw_name, strerror(errno));
}

static void ensure_parent(const char *file, mode_t mode, const struct passwd *pw)
{
    char buf[PATH_MAX];

    if (file == NULL || *file == '\0' || strlen(file) >= sizeof(buf))
        return;
    strcpy(buf, file);
    ensure_dir(dirname(buf), mode, pw);
}

/* The directory of each enabled milter's unix socket (for Postfix's
 * chrooted daemons it is inside the queue directory, not run_dir).
 * 0750: the MTA reaches it through the run user's group. */
static void prepare_socket_dirs(const config_t *cfg, const struct passwd *pw)
{
    for (size_t i = 0; i < components_count(); i++) {
        const component_t *c = components_get(i);
        const char *spec = config_str(cfg, c->name, "socket");
        if (c->kind != COMPONENT_MILTER || !config_bool(cfg, c->name, "enable")
            || spec == NULL)
            continue;
        if (strncmp(spec, "unix:", 5) == 0)
            ensure_parent(spec + 5, 0750, pw);
        else if (strncmp(spec, "local:", 6) == 0)
            ensure_parent(spec + 6, 0750, pw);
    }
}

/* The directories the daemons write to after dropping privileges: the
 * socket directories, the audit log's and the policy daemon's state. */
static void prepare_dirs(const config_t *cfg)
{
    const char *user = config_str(cfg, "global", "user");
    const struct passwd *pw = user && *user ? getpwnam(user) : NULL;

    if (user && *user && pw == NULL && geteuid() == 0)
        log_warn("user '%s' does not exist: create it (see postern(8))", user);
    ensure_dir(config_str(cfg, "global", "run_dir"), 0755, pw);
    prepare_socket_dirs(cfg, pw);
    ensure_parent(config_str(cfg, "global", "audit_log"), 0750, pw);
    if (config_bool(cfg, "policyd", "enable"))
        ensure_parent(config_str(cfg, "policyd", "state_file"), 0750, pw);
}

static int add_children(sup_t *s, const config_t *cfg, const char *dir,
                        const char *conf)
{
    char path[PATH_MAX];

    for (size_t i = 0; i < components_count(); i++) {
        const component_t *c = components_get(i);
        if (!config_bool(cfg, c->name, "enable"))
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", dir, c->binary) >= (int) sizeof(path))
            return -1;
        char *const argv[] = { path, "-f", "-c", (char *) conf, NULL };
        if (sup_add(s, c->name, argv) < 0)
            return -1;
    }
    return 0;
}

static int supervise(const config_t *cfg, const char *dir, const char *conf)
{
    sup_opts_t opts = { 0, 0 };
    char err[256];
    sup_t *s = sup_new();
    int rc = 0;

    if (s == NULL || add_children(s, cfg, dir, conf) < 0) {
        log_err("cannot set up the supervisor");
        rc = EX_OSERR;
    } else if (sup_run(s, &opts, err, sizeof(err)) < 0) {
        log_err("supervisor: %s", err);
        rc = EX_OSERR;
    }
    sup_free(s);
    return rc;
}

static int run_config(const config_t *cfg, const char *conf, int dry_run)
{
    char dir[PATH_MAX];
    int n = 0, rc;

    if (own_dir(dir, sizeof(dir)) < 0) {
        fprintf(stderr, "postern: cannot find my own directory\n");
        return EX_OSERR;
    }
    for (size_t i = 0; i < components_count(); i++) {
        const component_t *c = components_get(i);
        if (!config_bool(cfg, c->name, "enable"))
            continue;
        if ((rc = check_enabled(cfg, c, dir)) != 0)
            return rc;
        n++;
    }
    if (n == 0) {
        printf("postern: no component is enabled in %s "
               "(set \"enable = yes\" in a component's section; see postern.conf(5))\n",
               conf);
        return 0;
    }
    char qdir[PATH_MAX];
    postfix_hint_write(stdout, cfg, postfix_queue_dir(qdir, sizeof(qdir)));
    fflush(stdout);
    if (dry_run)
        return 0;
    prepare_dirs(cfg);
    log_info("starting %d component%s from %s", n, n == 1 ? "" : "s", conf);
    return supervise(cfg, dir, conf);
}

int cmd_run(int argc, char **argv)
{
    const char *path = cmdconf_default_path();
    char conf[PATH_MAX];
    int dry_run = 0, c, rc;
    log_level_t level;

    optind = 1;
    while ((c = getopt(argc, argv, "c:n")) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'n': dry_run = 1; break;
        default:  return run_usage();
        }
    }
    if (optind != argc)
        return run_usage();
    config_t *cfg = cmdconf_load(path);
    if (cfg == NULL)
        return EX_CONFIG;
    /* Children may change directory; give them an absolute path. */
    if (realpath(path, conf) == NULL)
        snprintf(conf, sizeof(conf), "%s", path);
    const char *lvl = config_str(cfg, "global", "log_level");
    if (lvl == NULL || log_level_parse(lvl, &level) < 0)
        level = LOG_LVL_INFO;
    log_open("postern", LOG_TO_STDERR, level);
    rc = run_config(cfg, conf, dry_run);
    config_unref(cfg);
    return rc;
}
