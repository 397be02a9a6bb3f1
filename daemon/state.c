/* state.c - stream state files in --state-dir (docs/STATE.md): encode/decode, atomic
 * writes (temporary file, fsync, rename, fsync of the directory), restore at start and
 * the periodic save. */
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alcm_tools.h"
#include "log.h"
#include "wire.h"

static const uint8_t k_magic[8] = {'A', 'L', 'C', 'M', 'D', 'S', 'T', 0};
#define STATE_FILE_VERSION 1
#define FILE_HEAD 24          /* magic, version, uid, name length, reserved */
#define FILE_COUNTERS 200     /* 10 scalars + 15 error counts, 8 bytes each */
#define FILE_SUFFIX ".alcmstate"
#define STATE_FILE_MAX ((uint64_t)1 << 40)

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static void putd(uint8_t *p, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    put64(p, v);
}

static double getd(const uint8_t *p)
{
    uint64_t v = get64(p);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

int alcmd_state_encode(const alcmd_stream *s, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    size_t nlen = strlen(s->name), slen = alcm_stream_export_size(s->st);
    size_t total = FILE_HEAD + FILE_COUNTERS + nlen + 8 + slen + 4;
    uint8_t *b = calloc(1, total);
    if (!b) return -1;
    memcpy(b, k_magic, 8);
    put32(b + 8, STATE_FILE_VERSION);
    put32(b + 12, s->uid);
    put32(b + 16, (uint32_t)nlen);
    const alcmd_counters *c = &s->counters;
    uint8_t *p = b + FILE_HEAD;
    const uint64_t scalars[] = {c->requests, c->errors, c->bytes_in, c->bytes_out,
                                c->comp_raw, c->comp_blob, c->comp_steps, c->evictions};
    for (int i = 0; i < 8; i++) put64(p + 8 * i, scalars[i]);
    putd(p + 64, c->caq_sum);
    putd(p + 72, c->caq_last);
    for (int i = 0; i < ALCMD_N_ERROR_CODES; i++) put64(p + 80 + 8 * i, c->errors_by_code[i]);
    p += FILE_COUNTERS;
    memcpy(p, s->name, nlen);
    p += nlen;
    put64(p, slen);
    p += 8;
    size_t got;
    if (alcm_stream_export(s->st, p, slen, &got) != ALCM_OK || got != slen) {
        free(b);
        return -1;
    }
    p += slen;
    put32(p, alcm_crc32(b, (size_t)(p - b)));
    *out = b;
    *len = total;
    return 0;
}

static int reject(char *why, size_t cap, const char *text)
{
    snprintf(why, cap, "%s", text);
    return -1;
}

int alcmd_state_decode(const uint8_t *buf, size_t len, uint32_t *uid, char *name,
                       size_t name_cap, alcmd_counters *counters, alcm_stream **stream,
                       char *why, size_t why_cap)
{
    *stream = NULL;
    if (len < 8 || memcmp(buf, k_magic, 8) != 0)
        return reject(why, why_cap, "not an alcmd state file (bad magic)");
    if (len < FILE_HEAD + FILE_COUNTERS + 8 + 4) return reject(why, why_cap, "truncated");
    if (get32(buf + 8) != STATE_FILE_VERSION)
        return reject(why, why_cap, "unsupported state file version");
    if (alcm_crc32(buf, len - 4) != get32(buf + len - 4))
        return reject(why, why_cap, "checksum mismatch (damaged file)");
    uint32_t nlen = get32(buf + 16);
    if (get32(buf + 20) != 0) return reject(why, why_cap, "reserved field not zero");
    size_t at = FILE_HEAD + FILE_COUNTERS, end = len - 4;
    if (nlen == 0 || nlen > ALCM_WIRE_MAX_STREAM_NAME || nlen >= name_cap || nlen > end - at)
        return reject(why, why_cap, "bad stream name length");
    memcpy(name, buf + at, nlen);
    name[nlen] = '\0';
    if (!alcm_wire_stream_name_ok(name)) return reject(why, why_cap, "invalid stream name");
    at += nlen;
    if (end - at < 8) return reject(why, why_cap, "truncated");
    uint64_t slen = get64(buf + at);
    at += 8;
    if (slen != end - at) return reject(why, why_cap, "stream state length disagrees with the file");
    alcm_status st = alcm_stream_import(buf + at, (size_t)slen, stream);
    if (st != ALCM_OK) {
        snprintf(why, why_cap, "stream state rejected: %s", alcm_strerror(st));
        return -1;
    }
    *uid = get32(buf + 12);
    memset(counters, 0, sizeof *counters);
    const uint8_t *p = buf + FILE_HEAD;
    uint64_t *scalars[] = {&counters->requests, &counters->errors, &counters->bytes_in,
                           &counters->bytes_out, &counters->comp_raw, &counters->comp_blob,
                           &counters->comp_steps, &counters->evictions};
    for (int i = 0; i < 8; i++) *scalars[i] = get64(p + 8 * i);
    counters->caq_sum = getd(p + 64);
    counters->caq_last = getd(p + 72);
    if (!(counters->caq_sum >= 0 && counters->caq_sum < 1e300) ||
        !(counters->caq_last >= 0 && counters->caq_last < 1e300)) {
        alcm_stream_free(*stream);
        *stream = NULL;
        return reject(why, why_cap, "counter out of range");
    }
    for (int i = 0; i < ALCMD_N_ERROR_CODES; i++) counters->errors_by_code[i] = get64(p + 80 + 8 * i);
    return 0;
}

/* DIR/<uid>-<hash>.alcmstate: the table's 64-bit hash of (uid, name). */
static void file_name(const alcmd_stream *s, char *out, size_t cap, const char *dir)
{
    snprintf(out, cap, "%s/%u-%016llx%s", dir, s->uid, (unsigned long long)s->hash, FILE_SUFFIX);
}

/* Writes buf to path atomically: PATH.tmp, fsync, rename, fsync of the directory. */
static int write_atomic(const char *dir, const char *path, const uint8_t *buf, size_t len)
{
    char tmp[ALCMD_PATH_MAX + 80];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return -1;
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, buf + off, len - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        off += (size_t)n;
    }
    int ok = off == len && fsync(fd) == 0;
    if (close(fd) != 0) ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
        return -1;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

int alcmd_state_save_all(alcmd_server *srv)
{
    const char *dir = srv->cfg.state_dir;
    if (!dir[0]) return -1;
    int saved = 0, skipped = 0, failed = 0;
    for (size_t b = 0; b < srv->streams.n_buckets; b++)
        for (alcmd_stream *s = srv->streams.buckets[b]; s; s = s->hnext) {
            char path[ALCMD_PATH_MAX + 64];
            file_name(s, path, sizeof path, dir);
            if (!s->st) {
                if (unlink(path) == 0)
                    alcmd_log(ALCMD_LOG_DEBUG, "state of stream '%s' (uid %u) dropped: evicted",
                              s->name, s->uid);
                continue;
            }
            if (s->busy) {   /* a worker thread is using the state right now */
                skipped++;
                continue;
            }
            uint8_t *buf;
            size_t len;
            if (alcmd_state_encode(s, &buf, &len) != 0 ||
                write_atomic(dir, path, buf, len) != 0) {
                if (failed++ == 0)
                    alcmd_log(ALCMD_LOG_WARNING, "cannot save the state of stream '%s' (uid "
                              "%u) to %s: %s", s->name, s->uid, path, strerror(errno));
            } else {
                saved++;
            }
            free(buf);
        }
    alcmd_log(ALCMD_LOG_DEBUG, "state saved: %d stream(s), %d busy skipped, %d failed", saved,
              skipped, failed);
    return saved;
}

/* Reads a whole regular file of at most max bytes. NULL with a reason in why otherwise. */
static uint8_t *read_file(const char *path, uint64_t max, size_t *len, char *why, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    uint8_t *buf = NULL;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(why, cap, "%s", strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        snprintf(why, cap, "not a regular file");
    } else if ((uint64_t)st.st_size > max) {
        snprintf(why, cap, "larger than %llu bytes", (unsigned long long)max);
    } else if (!(buf = malloc(st.st_size ? (size_t)st.st_size : 1))) {
        snprintf(why, cap, "out of memory");
    } else {
        size_t off = 0, want = (size_t)st.st_size;
        while (off < want) {
            ssize_t n = read(fd, buf + off, want - off);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            off += (size_t)n;
        }
        if (off != want) {
            snprintf(why, cap, "short read");
            free(buf);
            buf = NULL;
        }
        *len = off;
    }
    if (fd >= 0) close(fd);
    return buf;
}

static int restore_one(alcmd_server *srv, const char *path)
{
    char why[256];
    size_t len = 0;
    /* A residual never exceeds the largest tensor a request may carry. */
    uint8_t *buf = read_file(path, srv->cfg.max_message_bytes + (1u << 20), &len, why,
                             sizeof why);
    uint32_t uid = 0;
    char name[ALCM_WIRE_MAX_STREAM_NAME + 1];
    alcmd_counters counters;
    alcm_stream *st = NULL;
    int rc = -1;
    if (buf && alcmd_state_decode(buf, len, &uid, name, sizeof name, &counters, &st, why,
                                  sizeof why) == 0) {
        alcmd_stream *s = alcmd_streams_get(&srv->streams, uid, name, (size_t)srv->cfg.max_streams * 4);
        if (!s || s->st || alcmd_streams_make_room(&srv->streams, srv->cfg.max_streams) < 0) {
            snprintf(why, sizeof why, "%s", s && s->st ? "stream restored twice" : "no room");
            alcm_stream_free(st);
        } else {
            alcm_stream_config cfg;
            alcm_stream_get_config(st, &cfg);
            alcmd_streams_attach(&srv->streams, s, st, &cfg);
            alcm_stream_get_state(st, &s->sched);
            alcmd_streams_set_memory(&srv->streams, s, alcm_stream_memory(st));
            s->counters = counters;
            alcmd_log(ALCMD_LOG_INFO, "restored stream '%s' (uid %u) at step %llu from %s",
                      name, uid, (unsigned long long)s->sched.steps, path);
            rc = 0;
        }
    }
    if (rc != 0) {
        char bad[ALCMD_PATH_MAX + 320];
        snprintf(bad, sizeof bad, "%s.rejected", path);
        int moved = rename(path, bad) == 0;
        alcmd_log(ALCMD_LOG_WARNING, "state file %s rejected: %s; the stream starts fresh%s%s",
                  path, why, moved ? "; kept as " : "", moved ? bad : "");
    }
    free(buf);
    return rc;
}

int alcmd_state_restore(alcmd_server *srv)
{
    const char *dir = srv->cfg.state_dir;
    if (!dir[0]) return 0;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        alcmd_log(ALCMD_LOG_ERR, "cannot create the state directory %s: %s", dir, strerror(errno));
        return 0;
    }
    DIR *d = opendir(dir);
    if (!d) {
        alcmd_log(ALCMD_LOG_ERR, "cannot read the state directory %s: %s", dir, strerror(errno));
        return 0;
    }
    int restored = 0;
    struct dirent *e;
    const size_t sl = strlen(FILE_SUFFIX);
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n <= sl || strcmp(e->d_name + n - sl, FILE_SUFFIX) != 0) continue;
        char path[ALCMD_PATH_MAX + 300];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (restore_one(srv, path) == 0) restored++;
    }
    closedir(d);
    alcmd_log(ALCMD_LOG_NOTICE, "state directory %s: %d stream(s) restored", dir, restored);
    return restored;
}

static void on_state_timer(uv_timer_t *t)
{
    alcmd_state_save_all(t->data);
}

void alcmd_state_start(alcmd_server *srv)
{
    uv_timer_stop(&srv->state_timer);
    if (!srv->cfg.state_dir[0]) return;
    uv_timer_start(&srv->state_timer, on_state_timer, srv->cfg.state_interval_ms,
                   srv->cfg.state_interval_ms);
}
