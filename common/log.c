/*
 * log.c - process-wide diagnostic logger: syslog (mail) or stderr.
 * See log.h for the contract.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "pidcache.h"

#define LOG_LINE_MAX 2048

static const char *const level_names[] = {
    "error", "warning", "notice", "info", "debug"
};
static const int syslog_prio[] = {
    LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG
};

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_ident[64] = "postern";
static log_dest_t log_dest = LOG_TO_STDERR;
static _Atomic int log_level = LOG_LVL_INFO;
static int syslog_open;

void log_open(const char *ident, log_dest_t dest, log_level_t level)
{
    pthread_mutex_lock(&log_lock);
    snprintf(log_ident, sizeof(log_ident), "%s", ident ? ident : "postern");
    log_dest = dest;
    atomic_store(&log_level, (int) level);
    if (dest == LOG_TO_SYSLOG) {
        /* openlog keeps the pointer: log_ident is static and stays valid. */
        openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
        syslog_open = 1;
    }
    pthread_mutex_unlock(&log_lock);
}

void log_set_level(log_level_t level)
{
    atomic_store(&log_level, (int) level);
}

log_level_t log_get_level(void)
{
    return (log_level_t) atomic_load(&log_level);
}

int log_level_parse(const char *name, log_level_t *level)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            *level = (log_level_t) i;
            return 0;
        }
    }
    if (strcasecmp(name, "err") == 0) {
        *level = LOG_LVL_ERR;
        return 0;
    }
    if (strcasecmp(name, "warn") == 0) {
        *level = LOG_LVL_WARN;
        return 0;
    }
    return -1;
}

const char *log_level_name(log_level_t level)
{
    if ((int) level < 0 || level > LOG_LVL_DEBUG)
        return "unknown";
    return level_names[level];
}

static void write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n <= 0)
            return;                     /* nowhere left to report it */
        buf += n;
        len -= (size_t) n;
    }
}

/* "ident[pid]: level: text" to stderr (systemd's journal under
 * postern@.service). The text is formatted once, behind the prefix, and
 * cut at LOG_LINE_MAX - 1 bytes as on the syslog path. */
__attribute__((format(printf, 2, 0)))
static void log_stderr(log_level_t level, const char *fmt, va_list ap)
{
    char line[LOG_LINE_MAX + 128];
    int n = snprintf(line, sizeof(line), "%s[%ld]: %s: ", log_ident,
                     (long) pidcache_pid(), level_names[level]);
    int t;

    if (n < 0 || (size_t) n >= sizeof(line) - LOG_LINE_MAX)
        return;
    if ((t = vsnprintf(line + n, LOG_LINE_MAX, fmt, ap)) < 0)
        return;
    n += t < LOG_LINE_MAX ? t : LOG_LINE_MAX - 1;
    line[n++] = '\n';
    /* One write per line keeps lines from concurrent threads whole. */
    write_all(STDERR_FILENO, line, (size_t) n);
}

void log_msg(log_level_t level, const char *fmt, ...)
{
    char text[LOG_LINE_MAX];
    va_list ap;

    if ((int) level > atomic_load(&log_level) || (int) level < 0)
        return;
    va_start(ap, fmt);
    if (log_dest == LOG_TO_SYSLOG && syslog_open) {
        vsnprintf(text, sizeof(text), fmt, ap);
        syslog(syslog_prio[level], "%s", text);
    } else {
        log_stderr(level, fmt, ap);
    }
    va_end(ap);
}

void log_close(void)
{
    pthread_mutex_lock(&log_lock);
    if (syslog_open)
        closelog();
    syslog_open = 0;
    log_dest = LOG_TO_STDERR;
    pthread_mutex_unlock(&log_lock);
}
