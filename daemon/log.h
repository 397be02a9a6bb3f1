/* log.h - alcmd's log: one line per event on stderr, prefixed "<N>" with the syslog level
 * so journald records the priority. */
#ifndef ALCMD_LOG_H
#define ALCMD_LOG_H

enum {
    ALCMD_LOG_ERR = 3,
    ALCMD_LOG_WARNING = 4,
    ALCMD_LOG_NOTICE = 5,
    ALCMD_LOG_INFO = 6,
    ALCMD_LOG_DEBUG = 7
};

/* Messages above this level are dropped (default ALCMD_LOG_INFO). */
void alcmd_log_set_level(int level);
int alcmd_log_level(void);

/* Parses "err", "warning", "notice", "info", "debug" (or 3..7). Returns the level or -1. */
int alcmd_log_parse_level(const char *text);

/* Writes "<level>message\n" to stderr in one write, if level passes the filter. */
void alcmd_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
