/*
 * log.h - diagnostic logging for every postern process.
 *
 * NAME
 *	log - syslog (facility mail) or stderr, with levels
 *
 * SYNOPSIS
 *	log_open("postern-dkim", LOG_TO_SYSLOG, LOG_LVL_INFO);
 *	log_msg(LOG_LVL_WARN, "%s: dkim: key %s unreadable", qid, path);
 *	log_close();
 *
 * DESCRIPTION
 *	One process-wide logger. In the foreground (LOG_TO_STDERR) each line
 *	goes to stderr as "ident[pid]: level: text" in one write(2), so lines
 *	from many threads never interleave. Otherwise lines go to syslog with
 *	facility LOG_MAIL, where mail admins look first.
 *
 *	Messages below the configured level are dropped before formatting.
 *	log_set_level() may be called at any time (SIGHUP reload).
 *	All functions are thread-safe. Before log_open() messages go to stderr
 *	at level INFO, so early start-up errors are never lost.
 *
 *	Diagnostics only: per-message decisions go to the audit log (audit.h).
 */
#ifndef POSTERN_LOG_H
#define POSTERN_LOG_H

typedef enum {
    LOG_LVL_ERR = 0,
    LOG_LVL_WARN,
    LOG_LVL_NOTICE,
    LOG_LVL_INFO,
    LOG_LVL_DEBUG
} log_level_t;

typedef enum {
    LOG_TO_SYSLOG = 0,
    LOG_TO_STDERR
} log_dest_t;

/* Start logging as ident (copied). */
void log_open(const char *ident, log_dest_t dest, log_level_t level);
void log_set_level(log_level_t level);
log_level_t log_get_level(void);

/* "error", "warning", "notice", "info", "debug" -> level; 0 ok, -1 unknown. */
int log_level_parse(const char *name, log_level_t *level);
const char *log_level_name(log_level_t level);

void log_msg(log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_err(...)    log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)   log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...)   log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)  log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

void log_close(void);

#endif
