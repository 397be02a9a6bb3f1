/* config.c - parses and checks alcmd settings from the config file and the command line. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "wire.h"

static int fail(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && cap) vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return -1;
}

void alcmd_config_default(alcmd_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->threads = 0;
    cfg->max_message_bytes = (uint64_t)1 << 30;
    cfg->max_streams = 4096;
    cfg->memory_cap = (uint64_t)2 << 30;
    cfg->inflight_cap = (uint64_t)2 << 30;
    cfg->shm_max_bytes = (uint64_t)4 << 30;
    cfg->max_pending = 16;
    cfg->idle_timeout_ms = 30000;
    cfg->min_progress_bytes = 65536;
    cfg->max_connections = 1024;
    cfg->max_fds_per_connection = 4;
    cfg->shutdown_timeout_ms = 30000;
    cfg->log_level = ALCMD_LOG_INFO;
    cfg->log_format = ALCMD_LOG_FORMAT_AUTO;
    cfg->deterministic = 0;
    cfg->prometheus_interval_ms = 15000;
    cfg->state_interval_ms = 60000;
}

int alcmd_parse_size(const char *text, uint64_t *out)
{
    if (!isdigit((unsigned char)text[0])) return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno) return -1;
    unsigned shift = 0;
    switch (*end) {
    case 'K': case 'k': shift = 10; end++; break;
    case 'M': case 'm': shift = 20; end++; break;
    case 'G': case 'g': shift = 30; end++; break;
    case 'T': case 't': shift = 40; end++; break;
    default: break;
    }
    if (shift && !strcmp(end, "iB")) end += 2;
    else if (shift && !strcmp(end, "B")) end += 1;
    if (*end) return -1;
    if (v > ((uint64_t)1 << 62) >> shift) return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

static int parse_u32(const char *text, uint32_t *out)
{
    uint64_t v;
    if (!isdigit((unsigned char)text[0])) return -1;
    errno = 0;
    char *end;
    v = strtoull(text, &end, 10);
    if (errno || *end || v > UINT32_MAX) return -1;
    *out = (uint32_t)v;
    return 0;
}

static int parse_bool(const char *text, int *out)
{
    static const char *const yes[] = {"1", "yes", "true", "on"};
    static const char *const no[] = {"0", "no", "false", "off"};
    for (int i = 0; i < 4; i++) {
        if (!strcmp(text, yes[i])) return *out = 1, 0;
        if (!strcmp(text, no[i])) return *out = 0, 0;
    }
    return -1;
}

/* Resolves a user or group name (or a number) to its id. */
static int resolve_id(const char *tok, int group, uint32_t *id)
{
    if (parse_u32(tok, id) == 0) return 0;
    char buf[16384];
    if (group) {
        struct group g, *res = NULL;
        if (getgrnam_r(tok, &g, buf, sizeof buf, &res) != 0 || !res) return -1;
        *id = (uint32_t)g.gr_gid;
    } else {
        struct passwd p, *res = NULL;
        if (getpwnam_r(tok, &p, buf, sizeof buf, &res) != 0 || !res) return -1;
        *id = (uint32_t)p.pw_uid;
    }
    return 0;
}

/* Parses a comma- or space-separated list of ids or names. An empty list is allowed. */
static int parse_ids(const char *text, int group, uint32_t *ids, uint32_t *n, char *err,
                     size_t cap)
{
    char copy[1024];
    if (strlen(text) >= sizeof copy) return fail(err, cap, "list too long");
    strcpy(copy, text);
    uint32_t count = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
        if (count == ALCMD_MAX_IDS) return fail(err, cap, "more than %d ids", ALCMD_MAX_IDS);
        if (resolve_id(tok, group, &ids[count]) != 0)
            return fail(err, cap, "unknown %s '%s'", group ? "group" : "user", tok);
        count++;
    }
    *n = count;
    return 0;
}

int alcmd_config_set(alcmd_config *cfg, const char *key, const char *value, char *err,
                     size_t cap)
{
    uint64_t size;
    uint32_t u;
    if (!strcmp(key, "socket")) {
        if (strlen(value) >= sizeof cfg->socket_path)
            return fail(err, cap, "socket path longer than %zu bytes",
                        sizeof cfg->socket_path - 1);
        strcpy(cfg->socket_path, value);
        return 0;
    }
    if (!strcmp(key, "state_dir")) {
        if (strlen(value) >= sizeof cfg->state_dir - 64)
            return fail(err, cap, "state_dir path too long");
        strcpy(cfg->state_dir, value);
        return 0;
    }
    if (!strcmp(key, "prometheus_file")) {
        if (strlen(value) >= sizeof cfg->prometheus_file)
            return fail(err, cap, "prometheus_file path too long");
        strcpy(cfg->prometheus_file, value);
        return 0;
    }
    struct { const char *key; uint64_t *field; } sizes[] = {
        {"max_message_bytes", &cfg->max_message_bytes},
        {"memory_cap", &cfg->memory_cap},
        {"inflight_cap", &cfg->inflight_cap},
        {"shm_max_bytes", &cfg->shm_max_bytes},
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        if (strcmp(key, sizes[i].key)) continue;
        if (alcmd_parse_size(value, &size) != 0)
            return fail(err, cap, "%s: '%s' is not a byte size (e.g. 512M, 2G)", key, value);
        *sizes[i].field = size;
        return 0;
    }
    struct { const char *key; uint32_t *field; } u32s[] = {
        {"threads", &cfg->threads},
        {"max_streams", &cfg->max_streams},
        {"max_pending", &cfg->max_pending},
        {"idle_timeout_ms", &cfg->idle_timeout_ms},
        {"min_progress_bytes", &cfg->min_progress_bytes},
        {"max_connections", &cfg->max_connections},
        {"max_fds_per_connection", &cfg->max_fds_per_connection},
        {"shutdown_timeout_ms", &cfg->shutdown_timeout_ms},
        {"prometheus_interval_ms", &cfg->prometheus_interval_ms},
        {"state_interval_ms", &cfg->state_interval_ms},
    };
    for (size_t i = 0; i < sizeof u32s / sizeof u32s[0]; i++) {
        if (strcmp(key, u32s[i].key)) continue;
        if (parse_u32(value, &u) != 0)
            return fail(err, cap, "%s: '%s' is not a non-negative integer", key, value);
        *u32s[i].field = u;
        return 0;
    }
    if (!strcmp(key, "allowed_uids"))
        return parse_ids(value, 0, cfg->uids, &cfg->n_uids, err, cap);
    if (!strcmp(key, "allowed_gids"))
        return parse_ids(value, 1, cfg->gids, &cfg->n_gids, err, cap);
    if (!strcmp(key, "log_level")) {
        int level = alcmd_log_parse_level(value);
        if (level < 0)
            return fail(err, cap, "log_level: '%s' is not err|warning|notice|info|debug", value);
        cfg->log_level = level;
        return 0;
    }
    if (!strcmp(key, "log_format")) {
        int format = alcmd_log_parse_format(value);
        if (format < 0)
            return fail(err, cap, "log_format: '%s' is not auto|journal|plain", value);
        cfg->log_format = format;
        return 0;
    }
    if (!strcmp(key, "deterministic")) {
        if (parse_bool(value, &cfg->deterministic) != 0)
            return fail(err, cap, "deterministic: '%s' is not yes or no", value);
        return 0;
    }
    return fail(err, cap, "unknown setting '%s'", key);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
    return s;
}

int alcmd_config_parse(alcmd_config *cfg, const char *name, const char *text, size_t len,
                       char *err, size_t cap)
{
    char line[8192], why[512];
    unsigned lineno = 0;
    size_t at = 0;
    while (at < len) {
        lineno++;
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
        if (n >= sizeof line) return fail(err, cap, "%s:%u: line too long", name, lineno);
        /* A NUL byte would silently cut the line short (and a reload with such a file
         * would drop every setting after it): the file is refused instead. */
        if (memchr(text + at, '\0', n))
            return fail(err, cap, "%s:%u: NUL byte in the line (not a text file?)", name,
                        lineno);
        memcpy(line, text + at, n);
        line[n] = '\0';
        at += n + (nl ? 1 : 0);
        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        char *s = trim(line);
        if (!*s) continue;
        char *eq = strchr(s, '=');
        if (!eq) return fail(err, cap, "%s:%u: expected 'key = value'", name, lineno);
        *eq = '\0';
        char *key = trim(s), *value = trim(eq + 1);
        if (alcmd_config_set(cfg, key, value, why, sizeof why) != 0)
            return fail(err, cap, "%s:%u: %s", name, lineno, why);
    }
    return 0;
}

int alcmd_config_load(alcmd_config *cfg, const char *path, char *err, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f) return fail(err, cap, "%s: %s", path, strerror(errno));
    size_t max = ALCMD_CONFIG_MAX_BYTES, len = 0;
    char *text = malloc(max + 1);
    if (!text) {
        fclose(f);
        return fail(err, cap, "%s: out of memory", path);
    }
    len = fread(text, 1, max + 1, f);
    int bad = ferror(f);
    fclose(f);
    int rc;
    if (bad) rc = fail(err, cap, "%s: read error", path);
    else if (len > max) rc = fail(err, cap, "%s: larger than %zu bytes", path, max);
    else rc = alcmd_config_parse(cfg, path, text, len, err, cap);
    free(text);
    return rc;
}

int alcmd_config_check(const alcmd_config *cfg, char *err, size_t cap)
{
    if (cfg->max_message_bytes < 1024 || cfg->max_message_bytes > ALCM_WIRE_MAX_MESSAGE_CEILING)
        return fail(err, cap, "max_message_bytes must be between 1K and 1T");
    if (cfg->max_streams < 1 || cfg->max_streams > (1u << 20))
        return fail(err, cap, "max_streams must be between 1 and 1048576");
    if (cfg->max_pending < 1 || cfg->max_pending > 1024)
        return fail(err, cap, "max_pending must be between 1 and 1024");
    if (cfg->threads > 1024) return fail(err, cap, "threads must be at most 1024");
    if (cfg->idle_timeout_ms < 10) return fail(err, cap, "idle_timeout_ms must be at least 10");
    if (cfg->max_connections < 1 || cfg->max_connections > (1u << 20))
        return fail(err, cap, "max_connections must be between 1 and 1048576");
    if (cfg->max_fds_per_connection < 1 || cfg->max_fds_per_connection > 64)
        return fail(err, cap, "max_fds_per_connection must be between 1 and 64");
    if (cfg->prometheus_file[0] && cfg->prometheus_interval_ms < 100)
        return fail(err, cap, "prometheus_interval_ms must be at least 100");
    if (cfg->state_dir[0] && cfg->state_interval_ms < 100)
        return fail(err, cap, "state_interval_ms must be at least 100");
    if (cfg->inflight_cap < cfg->max_message_bytes)
        return fail(err, cap, "inflight_cap must be at least max_message_bytes");
    return 0;
}
