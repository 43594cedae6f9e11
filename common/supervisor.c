/*
 * supervisor.c - the process supervisor behind "postern run": start each
 * component's daemon, restart it with back-off when it dies, pass SIGHUP
 * on, and stop everything cleanly. See supervisor.h.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "supervisor.h"

#define SUP_MAX_ARGS     64
#define SUP_BACKOFF_MAX  60000u

struct child {
    char   *name;
    char  **argv;
    pid_t   pid;            /* 0 when not running */
    int64_t started_ms;
    int64_t restart_at_ms;  /* when to start again; -1 = not scheduled */
    unsigned quick_failures;
    unsigned starts;
};

struct sup {
    struct child children[SUP_MAX_CHILDREN];
    size_t  n;
    int     stop_fd;        /* eventfd: sup_request_stop wakes sup_run */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

unsigned sup_backoff_ms(unsigned quick_failures)
{
    if (quick_failures <= 1)
        return 0;
    if (quick_failures > 8)
        return SUP_BACKOFF_MAX;
    unsigned ms = 1000u << (quick_failures - 2);
    return ms > SUP_BACKOFF_MAX ? SUP_BACKOFF_MAX : ms;
}

sup_t *sup_new(void)
{
    sup_t *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->stop_fd < 0) {
        free(s);
        return NULL;
    }
    return s;
}

int sup_add(sup_t *s, const char *name, char *const argv[])
{
    size_t argc = 0;

    if (s->n >= SUP_MAX_CHILDREN || argv == NULL || argv[0] == NULL)
        return -1;
    while (argv[argc] != NULL)
        if (++argc >= SUP_MAX_ARGS)
            return -1;
    struct child *c = &s->children[s->n];
    c->argv = calloc(argc + 1, sizeof(char *));
    c->name = strdup(name);
    if (c->argv == NULL || c->name == NULL)
        goto fail;
    for (size_t i = 0; i < argc; i++)
        if ((c->argv[i] = strdup(argv[i])) == NULL)
            goto fail;
    c->restart_at_ms = 0;
    s->n++;
    return 0;
fail:
    if (c->argv != NULL)
        for (size_t i = 0; i < argc; i++)
            free(c->argv[i]);
    free(c->argv);
    free(c->name);
    memset(c, 0, sizeof(*c));
    return -1;
}

unsigned sup_starts(const sup_t *s, size_t i)
{
    return i < s->n ? s->children[i].starts : 0;
}

void sup_request_stop(sup_t *s)
{
    uint64_t one = 1;
    /* write(2) is async-signal-safe; a full counter still wakes poll. */
    ssize_t rc = write(s->stop_fd, &one, sizeof(one));
    (void) rc;
}

static void start_child(struct child *c, int64_t now)
{
    pid_t pid = fork();

    if (pid < 0) {
        log_err("supervisor: %s: fork: %s; retrying", c->name, strerror(errno));
        c->restart_at_ms = now + 1000;
        return;
    }
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        /* Own process group: a final SIGKILL reaches the child's children. */
        setpgid(0, 0);
        execv(c->argv[0], c->argv);
        /* Only async-signal-safe calls between fork and _exit. */
        static const char msg[] = "postern: supervisor: exec failed\n";
        ssize_t rc = write(STDERR_FILENO, msg, sizeof(msg) - 1);
        (void) rc;
        _exit(127);
    }
    c->pid = pid;
    c->started_ms = now;
    c->restart_at_ms = -1;
    c->starts++;
    log_info("supervisor: started %s (pid %ld): %s", c->name, (long) pid,
             c->argv[0]);
}

static struct child *find_child(sup_t *s, pid_t pid)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->children[i].pid == pid)
            return &s->children[i];
    return NULL;
}

static void describe_exit(int status, char *buf, size_t len)
{
    if (WIFEXITED(status))
        snprintf(buf, len, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "killed by signal %d%s", WTERMSIG(status),
                 WCOREDUMP(status) ? " (core dumped)" : "");
    else
        snprintf(buf, len, "status 0x%x", (unsigned) status);
}

/* Reap every exited child; schedule restarts unless stopping. */
static size_t reap(sup_t *s, int stopping, unsigned quick_ms)
{
    size_t reaped = 0;
    int status;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        struct child *c = find_child(s, pid);
        if (c == NULL)
            continue;
        char why[64];
        int64_t now = now_ms();
        describe_exit(status, why, sizeof(why));
        c->pid = 0;
        reaped++;
        if (stopping) {
            log_info("supervisor: %s stopped (%s)", c->name, why);
            continue;
        }
        if (now - c->started_ms < (int64_t) quick_ms)
            c->quick_failures++;
        else
            c->quick_failures = 1;
        unsigned delay = sup_backoff_ms(c->quick_failures);
        c->restart_at_ms = now + delay;
        log_err("supervisor: %s (pid %ld) died: %s; restarting in %u ms",
                c->name, (long) pid, why, delay);
    }
    return reaped;
}

static size_t running(const sup_t *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += s->children[i].pid > 0;
    return n;
}

static void signal_all(sup_t *s, int sig)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->children[i].pid > 0)
            kill(s->children[i].pid, sig);
}

/* SIGTERM everyone, wait for the drain, then SIGKILL what is left. */
static void stop_all(sup_t *s, int sfd, unsigned timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;

    signal_all(s, SIGTERM);
    while (running(s) > 0) {
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            log_warn("supervisor: %zu component(s) still running after %u ms;"
                     " killing", running(s), timeout_ms);
            for (size_t i = 0; i < s->n; i++)
                if (s->children[i].pid > 0)
                    kill(-s->children[i].pid, SIGKILL);
            deadline = now_ms() + 5000;     /* bounded: SIGKILL cannot be caught */
            while (running(s) > 0 && now_ms() < deadline) {
                reap(s, 1, 0);
                usleep(10000);
            }
            return;
        }
        struct pollfd pfd = { .fd = sfd, .events = POLLIN };
        poll(&pfd, 1, left > 100 ? 100 : (int) left);
        if (pfd.revents & POLLIN) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof(si)) == sizeof(si))
                ;
        }
        reap(s, 1, 0);
    }
}

int sup_run(sup_t *s, const sup_opts_t *opts, char *err, size_t errlen)
{
    unsigned stop_ms = opts && opts->stop_timeout_ms ? opts->stop_timeout_ms : 30000;
    unsigned quick_ms = opts && opts->quick_exit_ms ? opts->quick_exit_ms : 10000;
    sigset_t mask, old;

    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &mask, &old) < 0) {
        snprintf(err, errlen, "sigprocmask: %s", strerror(errno));
        return -1;
    }
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0) {
        snprintf(err, errlen, "signalfd: %s", strerror(errno));
        sigprocmask(SIG_SETMASK, &old, NULL);
        return -1;
    }

    int stopping = 0;
    while (!stopping) {
        int64_t now = now_ms();
        int64_t next = now + 1000;      /* wake at least once a second to reap */
        for (size_t i = 0; i < s->n; i++) {
            struct child *c = &s->children[i];
            if (c->pid == 0 && c->restart_at_ms >= 0 && c->restart_at_ms <= now)
                start_child(c, now);
            if (c->pid == 0 && c->restart_at_ms >= 0 && c->restart_at_ms < next)
                next = c->restart_at_ms;
        }
        struct pollfd pfd[2] = {
            { .fd = sfd, .events = POLLIN },
            { .fd = s->stop_fd, .events = POLLIN },
        };
        int wait_ms = (int) (next - now_ms());
        poll(pfd, 2, wait_ms < 0 ? 0 : wait_ms);
        if (pfd[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
                if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
                    log_info("supervisor: signal %u: stopping", si.ssi_signo);
                    stopping = 1;
                } else if (si.ssi_signo == SIGHUP) {
                    log_info("supervisor: SIGHUP: asking components to reload");
                    signal_all(s, SIGHUP);
                }
            }
        }
        if (pfd[1].revents & POLLIN) {
            uint64_t v;
            ssize_t rc = read(s->stop_fd, &v, sizeof(v));
            (void) rc;
            stopping = 1;
        }
        reap(s, stopping, quick_ms);
    }
    stop_all(s, sfd, stop_ms);
    close(sfd);
    sigprocmask(SIG_SETMASK, &old, NULL);
    return 0;
}

void sup_free(sup_t *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++) {
        struct child *c = &s->children[i];
        for (size_t j = 0; c->argv && c->argv[j]; j++)
            free(c->argv[j]);
        free(c->argv);
        free(c->name);
    }
    close(s->stop_fd);
    free(s);
}
