/* log.h - alcmd's log: one line per event on stderr. Under systemd (stderr is the journal
 * stream named by JOURNAL_STREAM) each line is "<N>message", N the syslog level, so journald
 * records the priority; elsewhere "alcmd: info: message". log_format = journal | plain
 * forces either. */
#ifndef ALCMD_LOG_H
#define ALCMD_LOG_H

enum {
    ALCMD_LOG_ERR = 3,
    ALCMD_LOG_WARNING = 4,
    ALCMD_LOG_NOTICE = 5,
    ALCMD_LOG_INFO = 6,
    ALCMD_LOG_DEBUG = 7
};

enum {
    ALCMD_LOG_FORMAT_AUTO = 0,      /* journal when stderr is the journal stream, else plain */
    ALCMD_LOG_FORMAT_JOURNAL = 1,   /* "<6>message" */
    ALCMD_LOG_FORMAT_PLAIN = 2      /* "alcmd: info: message" */
};

/* Messages above this level are dropped (default ALCMD_LOG_INFO). */
void alcmd_log_set_level(int level);
int alcmd_log_level(void);

/* Parses "err", "warning", "notice", "info", "debug" (or 3..7). Returns the level or -1. */
int alcmd_log_parse_level(const char *text);

/* Parses "auto", "journal", "plain". Returns an ALCMD_LOG_FORMAT_* or -1. */
int alcmd_log_parse_format(const char *text);

/* Chooses the line format (default ALCMD_LOG_FORMAT_AUTO). */
void alcmd_log_set_format(int format);

/* The format lines are written in now: JOURNAL or PLAIN (AUTO resolved on first use). */
int alcmd_log_format(void);

/* 1 when JOURNAL_STREAM names the device and inode of the open stderr. */
int alcmd_log_stderr_is_journal(void);

/* Writes one line to stderr in one write, if level passes the filter. */
void alcmd_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
