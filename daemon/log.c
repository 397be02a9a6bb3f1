/* log.c - leveled, journald-friendly logging to stderr. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int g_level = ALCMD_LOG_INFO;

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

void alcmd_log(int level, const char *fmt, ...)
{
    if (level > g_level) return;
    char line[1024];
    int n = snprintf(line, sizeof line, "<%d>", level);
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
