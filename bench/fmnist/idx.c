/* idx.c - checked parsing of IDX files and reading them through zlib's gzread. */
#include "fmnist.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

alcm_fmnist_status alcm_fmnist_idx_parse(const uint8_t *buf, size_t len,
                                         alcm_fmnist_idx_view *view)
{
    if (!view) return ALCM_FMNIST_E_ARG;
    memset(view, 0, sizeof *view);
    if (!buf && len) return ALCM_FMNIST_E_ARG;
    if (len < 4) return ALCM_FMNIST_E_TRUNCATED;
    if (buf[0] != 0 || buf[1] != 0 || buf[2] != 0x08) return ALCM_FMNIST_E_MAGIC;
    uint32_t rank = buf[3];
    if (rank != 1 && rank != 3) return ALCM_FMNIST_E_HEADER;
    size_t header = 4 + 4 * (size_t)rank;
    if (len < header) return ALCM_FMNIST_E_TRUNCATED;
    uint64_t size = 1;
    for (uint32_t i = 0; i < rank; i++) {
        uint32_t d = be32(buf + 4 + 4 * i);
        if (d == 0) return ALCM_FMNIST_E_HEADER;
        size *= d;                       /* at most 2^31 * 2^32 before the check below */
        if (size > ALCM_FMNIST_IDX_MAX_BYTES) return ALCM_FMNIST_E_LIMIT;
        view->dims[i] = d;
    }
    if (len - header < size) return ALCM_FMNIST_E_TRUNCATED;
    if (len - header > size) return ALCM_FMNIST_E_TRAILING;
    view->rank = rank;
    view->size = size;
    view->data = buf + header;
    return ALCM_FMNIST_OK;
}

alcm_fmnist_status alcm_fmnist_idx_read_file(const char *path, uint64_t max_bytes,
                                             uint8_t **data, size_t *len, char *msg,
                                             size_t msg_cap)
{
    if (!path || !data || !len) return ALCM_FMNIST_E_ARG;
    *data = NULL;
    *len = 0;
    alcm_fmnist_set_message(msg, msg_cap, "%s", "");
    gzFile gz = gzopen(path, "rb");
    if (!gz) {
        alcm_fmnist_set_message(msg, msg_cap, "%s: %s", path,
                                errno ? strerror(errno) : "cannot open");
        return ALCM_FMNIST_E_IO;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    alcm_fmnist_status st = ALCM_FMNIST_OK;
    if (!buf) {
        st = ALCM_FMNIST_E_NOMEM;
        goto out;
    }
    for (;;) {
        if (n == cap) {
            if ((uint64_t)cap > max_bytes) {
                alcm_fmnist_set_message(msg, msg_cap, "%s: more than %llu bytes once decompressed",
                                        path, (unsigned long long)max_bytes);
                st = ALCM_FMNIST_E_LIMIT;
                goto out;
            }
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                st = ALCM_FMNIST_E_NOMEM;
                goto out;
            }
            buf = nb;
            cap *= 2;
        }
        size_t want = cap - n;
        if (want > (1u << 30)) want = 1u << 30;
        int got = gzread(gz, buf + n, (unsigned)want);
        if (got < 0) {
            int zerr;
            const char *m = gzerror(gz, &zerr);
            alcm_fmnist_set_message(msg, msg_cap, "%s: gzip stream error: %s", path, m ? m : "?");
            st = ALCM_FMNIST_E_IO;
            goto out;
        }
        if (got == 0) break;
        n += (size_t)got;
    }
    if ((uint64_t)n > max_bytes) {
        alcm_fmnist_set_message(msg, msg_cap, "%s: more than %llu bytes once decompressed", path,
                                (unsigned long long)max_bytes);
        st = ALCM_FMNIST_E_LIMIT;
        goto out;
    }
    *data = buf;
    *len = n;
    buf = NULL;
out:
    if (st == ALCM_FMNIST_E_NOMEM)
        alcm_fmnist_set_message(msg, msg_cap, "%s: out of memory", path);
    free(buf);
    gzclose(gz);
    return st;
}
