/* log.c - leveled logging to stderr: "<N>message" lines for journald, "alcmd: info: message"
 * lines for a terminal or a file. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int g_level = ALCMD_LOG_INFO;
static int g_format = ALCMD_LOG_FORMAT_AUTO;
static int g_resolved = -1;   /* the format in use; -1 until the first line */

void alcmd_log_set_level(int level)
{
    g_level = level;
}

int alcmd_log_level(void)
{
    return g_level;
}

int alcmd_log_parse_level(const char *text)
{
    static const char *const names[] = {"err", "warning", "notice", "info", "debug"};
    for (int i = 0; i < 5; i++)
        if (!strcmp(text, names[i])) return ALCMD_LOG_ERR + i;
    if (!strcmp(text, "error")) return ALCMD_LOG_ERR;
    if (text[0] >= '3' && text[0] <= '7' && text[1] == '\0') return text[0] - '0';
    return -1;
}

int alcmd_log_parse_format(const char *text)
{
    if (!strcmp(text, "auto")) return ALCMD_LOG_FORMAT_AUTO;
    if (!strcmp(text, "journal")) return ALCMD_LOG_FORMAT_JOURNAL;
    if (!strcmp(text, "plain")) return ALCMD_LOG_FORMAT_PLAIN;
    return -1;
}

void alcmd_log_set_format(int format)
{
    g_format = format;
    g_resolved = -1;
}

int alcmd_log_stderr_is_journal(void)
{
    /* systemd sets JOURNAL_STREAM=<dev>:<inode> of the stream it connected to stderr
     * (systemd.exec(5)); a redirected stderr no longer matches. */
    const char *js = getenv("JOURNAL_STREAM");
    if (!js || !*js) return 0;
    unsigned long long dev, ino;
    char tail;
    if (sscanf(js, "%llu:%llu%c", &dev, &ino, &tail) != 2) return 0;
    struct stat st;
    if (fstat(STDERR_FILENO, &st) != 0) return 0;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

int alcmd_log_format(void)
{
    if (g_resolved < 0)
        g_resolved = g_format != ALCMD_LOG_FORMAT_AUTO ? g_format
                     : alcmd_log_stderr_is_journal() ? ALCMD_LOG_FORMAT_JOURNAL
                                                     : ALCMD_LOG_FORMAT_PLAIN;
    return g_resolved;
}

static const char *level_name(int level)
{
    static const char *const names[] = {"error", "warning", "notice", "info", "debug"};
    return level >= ALCMD_LOG_ERR && level <= ALCMD_LOG_DEBUG ? names[level - ALCMD_LOG_ERR]
                                                              : "log";
}

void alcmd_log(int level, const char *fmt, ...)
{
    if (level > g_level) return;
    char line[1024];
    int n = alcmd_log_format() == ALCMD_LOG_FORMAT_JOURNAL
                ? snprintf(line, sizeof line, "<%d>", level)
                : snprintf(line, sizeof line, "alcmd: %s: ", level_name(level));
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2) len = sizeof line - 2;
    /* One line per message: embedded newlines (from peer-supplied text) become spaces. */
    for (size_t i = (size_t)n; i < len; i++)
        if (line[i] == '\n' || line[i] == '\r') line[i] = ' ';
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
