/* config.h - alcmd settings: defaults, the key = value file format (deploy/alcmd.conf.example),
 * command-line overrides with the same keys, and validation. */
#ifndef ALCMD_CONFIG_H
#define ALCMD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define ALCMD_MAX_IDS 64
#define ALCMD_PATH_MAX 4096
#define ALCMD_SOCKET_PATH_MAX 108   /* sizeof(sockaddr_un.sun_path) */

typedef struct {
    char socket_path[ALCMD_SOCKET_PATH_MAX];  /* "" with socket activation */
    uint32_t threads;              /* encoder threads; 0 = available parallelism */
    uint64_t max_message_bytes;    /* largest request payload / decoded tensor */
    uint32_t max_streams;          /* live streams (state held) */
    uint64_t memory_cap;           /* bytes of per-stream state (alcm_stream_memory) */
    uint64_t inflight_cap;         /* bytes of request and reply buffers */
    uint64_t shm_max_bytes;        /* largest shared region a client may attach; 0: none */
    uint32_t max_pending;          /* requests read ahead per connection */
    uint32_t idle_timeout_ms;      /* progress interval: a connection mid-frame must deliver
                                      min_progress_bytes (or the rest of the frame), and one
                                      with replies queued must take some, per interval */
    uint32_t min_progress_bytes;   /* bytes per idle_timeout_ms a sender must keep up */
    uint32_t max_connections;      /* open client connections; more are refused */
    uint32_t max_fds_per_connection; /* descriptors queued on one connection before it is
                                        dropped */
    uint32_t shutdown_timeout_ms;  /* drain limit after SIGTERM */
    uint32_t n_uids, uids[ALCMD_MAX_IDS];   /* allowed peer uids */
    uint32_t n_gids, gids[ALCMD_MAX_IDS];   /* allowed peer gids (primary or supplementary) */
    int log_level;                 /* ALCMD_LOG_* */
    int log_format;                /* ALCMD_LOG_FORMAT_* */
    int deterministic;             /* default scheduler mode of streams */
    char prometheus_file[ALCMD_PATH_MAX];   /* "" = no textfile */
    uint32_t prometheus_interval_ms;
    char state_dir[ALCMD_PATH_MAX];         /* "" = stream state is not kept across restarts */
    uint32_t state_interval_ms;             /* periodic save of the stream states */
} alcmd_config;

/* Fills *cfg with the defaults (docs in deploy/alcmd.conf.example). */
void alcmd_config_default(alcmd_config *cfg);

/* Sets one key from its text value. Returns 0, or -1 with a reason in err. */
int alcmd_config_set(alcmd_config *cfg, const char *key, const char *value, char *err,
                     size_t err_cap);

/* Applies every "key = value" line of a file on top of *cfg ('#' starts a comment, blank
 * lines are skipped). Returns 0, or -1 with "path:line: reason" in err; *cfg may then hold
 * part of the file, so callers load into a copy. */
int alcmd_config_load(alcmd_config *cfg, const char *path, char *err, size_t err_cap);

/* Largest config file accepted. */
#define ALCMD_CONFIG_MAX_BYTES ((size_t)1 << 20)

/* alcmd_config_load on text already in memory (len bytes, NUL bytes refused); name is used
 * in the messages. */
int alcmd_config_parse(alcmd_config *cfg, const char *name, const char *text, size_t len,
                       char *err, size_t err_cap);

/* Checks the settings together (ranges, limits that must fit each other). 0 or -1. */
int alcmd_config_check(const alcmd_config *cfg, char *err, size_t err_cap);

/* Parses a byte size: digits with an optional K, M, G, T (powers of 1024, optionally
 * followed by "iB" or "B"). Returns 0, or -1 when malformed or above 2^62. */
int alcmd_parse_size(const char *text, uint64_t *out);

#endif
