/* manifest.c - parser of bundle manifests (manifest.tsv, docs/BENCHMARKS.md). */
#include <stdlib.h>
#include <string.h>

#include "bench_internal.h"

#define LINE_MAX_BYTES 2048
#define MAX_SIZE ((uint64_t)1 << 48)   /* 256 TiB: far above any bundle, below overflow */
#define MAX_DIM ((uint64_t)1 << 40)

/* A field of a line: [start, start + len). */
typedef struct {
    const char *p;
    size_t len;
} field;

static int valid_name(const field *f)
{
    if (f->len == 0 || f->len >= ALCM_BENCH_NAME_MAX || f->p[0] == '.') return 0;
    for (size_t i = 0; i < f->len; i++) {
        char c = f->p[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        if (!ok) return 0;
    }
    return 1;
}

/* Strict unsigned decimal of [p, p + len) into *out, at most max. 0 or -1. */
static int parse_u64(const char *p, size_t len, uint64_t max, uint64_t *out)
{
    if (len == 0 || len > 20) return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') return -1;
        uint64_t d = (uint64_t)(p[i] - '0');
        if (v > (max - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int valid_sha(const field *f)
{
    if (f->len != 64) return 0;
    for (size_t i = 0; i < 64; i++) {
        char c = f->p[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return 0;
    }
    return 1;
}

/* "bytes" or "f32:AxBx..." into *item; checks the shape against size. */
static int parse_type(const field *f, uint64_t size, alcm_codec_item *item, const char **why)
{
    memset(item, 0, sizeof *item);
    if (f->len == 5 && !memcmp(f->p, "bytes", 5)) {
        item->type = ALCM_CODEC_ITEM_BYTES;
        item->rank = 1;
        item->dims[0] = size;
        return 0;
    }
    if (f->len < 5 || memcmp(f->p, "f32:", 4) != 0) {
        *why = "type must be 'bytes' or 'f32:<shape>' (e.g. f32:256x784)";
        return -1;
    }
    item->type = ALCM_CODEC_ITEM_F32;
    const char *p = f->p + 4, *end = f->p + f->len;
    uint64_t numel = 1;
    while (p < end) {
        const char *q = p;
        while (q < end && *q != 'x') q++;
        uint64_t d;
        if (item->rank == ALCM_CODEC_MAX_RANK) {
            *why = "shape has more than 8 dimensions";
            return -1;
        }
        if (parse_u64(p, (size_t)(q - p), MAX_DIM, &d) != 0 || d == 0) {
            *why = "shape dimension is not a positive integer below 2^40";
            return -1;
        }
        if (numel > MAX_SIZE / 4 / d) {
            *why = "shape is too large";
            return -1;
        }
        numel *= d;
        item->dims[item->rank++] = d;
        if (q == end) break;
        p = q + 1;
        if (p == end) {
            *why = "shape ends with 'x'";
            return -1;
        }
    }
    if (numel * 4 != size) {
        *why = "size is not 4 bytes times the shape's element count";
        return -1;
    }
    return 0;
}

static int valid_source(const field *f)
{
    if (f->len == 0 || f->len >= sizeof(((alcm_bench_entry *)0)->source)) return 0;
    for (size_t i = 0; i < f->len; i++)
        if ((unsigned char)f->p[i] < 0x20 || f->p[i] == 0x7f) return 0;
    return 1;
}

void alcm_bench_manifest_free(alcm_bench_manifest *manifest)
{
    if (!manifest) return;
    free(manifest->entries);
    free(manifest);
}

alcm_bench_status alcm_bench_manifest_parse(const char *text, size_t len,
                                            alcm_bench_manifest **out, alcm_bench_error *err)
{
    if (!text || !out) return bench_fail(err, ALCM_BENCH_E_ARG, "manifest: NULL argument");
    *out = NULL;
    size_t mlen = strlen(ALCM_BENCH_MANIFEST_MAGIC);
    if (len < mlen || memcmp(text, ALCM_BENCH_MANIFEST_MAGIC, mlen) != 0 ||
        (len > mlen && text[mlen] != '\n'))
        return bench_fail(err, ALCM_BENCH_E_MANIFEST,
                          "manifest: first line must be '%s'", ALCM_BENCH_MANIFEST_MAGIC);
    if (memchr(text, '\0', len))
        return bench_fail(err, ALCM_BENCH_E_MANIFEST, "manifest: contains a NUL byte");

    alcm_bench_manifest *m = calloc(1, sizeof *m);
    if (!m) return bench_fail(err, ALCM_BENCH_E_NOMEM, "manifest: out of memory");
    size_t cap = 0;
    alcm_bench_status st = ALCM_BENCH_OK;
    unsigned line_no = 1;
    size_t pos = len > mlen ? mlen + 1 : len;
    while (pos < len) {
        line_no++;
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t llen = nl ? (size_t)(nl - line) : len - pos;
        pos += llen + (nl ? 1 : 0);
        if (llen == 0 || line[0] == '#') continue;
        if (llen > LINE_MAX_BYTES) {
            st = bench_fail(err, ALCM_BENCH_E_MANIFEST, "manifest line %u: longer than %d bytes",
                            line_no, LINE_MAX_BYTES);
            goto fail;
        }
        field f[5];
        size_t nf = 0;
        const char *p = line, *end = line + llen;
        while (nf < 5) {
            const char *t = memchr(p, '\t', (size_t)(end - p));
            if (nf == 4) t = NULL;   /* the source is the rest of the line */
            f[nf].p = p;
            f[nf].len = t ? (size_t)(t - p) : (size_t)(end - p);
            nf++;
            if (!t) break;
            p = t + 1;
        }
        if (nf != 5) {
            st = bench_fail(err, ALCM_BENCH_E_MANIFEST,
                            "manifest line %u: expected 5 tab-separated fields "
                            "(file, bytes, sha256, type, source), found %zu", line_no, nf);
            goto fail;
        }
        if (m->n_entries == ALCM_BENCH_MAX_ITEMS) {
            st = bench_fail(err, ALCM_BENCH_E_MANIFEST, "manifest: more than %d files",
                            ALCM_BENCH_MAX_ITEMS);
            goto fail;
        }
        if (m->n_entries == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            alcm_bench_entry *ne = realloc(m->entries, ncap * sizeof *ne);
            if (!ne) {
                st = bench_fail(err, ALCM_BENCH_E_NOMEM, "manifest: out of memory");
                goto fail;
            }
            m->entries = ne;
            cap = ncap;
        }
        alcm_bench_entry *e = &m->entries[m->n_entries];
        memset(e, 0, sizeof *e);
        const char *why = NULL;
        if (!valid_name(&f[0])) {
            st = bench_fail(err, ALCM_BENCH_E_MANIFEST,
                            "manifest line %u: file name must be 1-%d characters of "
                            "[A-Za-z0-9._-], not starting with '.'", line_no,
                            ALCM_BENCH_NAME_MAX - 1);
            goto fail;
        }
        memcpy(e->file, f[0].p, f[0].len);
        e->file[f[0].len] = '\0';
        if (parse_u64(f[1].p, f[1].len, MAX_SIZE, &e->size) != 0) {
            st = bench_fail(err, ALCM_BENCH_E_MANIFEST,
                            "manifest line %u (%s): size is not a decimal byte count",
                            line_no, e->file);
            goto fail;
        }
        if (!valid_sha(&f[2])) {
            st = bench_fail(err, ALCM_BENCH_E_MANIFEST,
                            "manifest line %u (%s): sha256 must be 64 lower-case hex digits",
                            line_no, e->file);
            goto fail;
        }
        memcpy(e->sha256, f[2].p, 64);
        e->sha256[64] = '\0';
        if (parse_type(&f[3], e->size, &e->item, &why) != 0) {
            st = bench_fail(err, ALCM_BENCH_E_MANIFEST, "manifest line %u (%s): %s", line_no,
                            e->file, why);
            goto fail;
        }
        if (!valid_source(&f[4])) {
            st = bench_fail(err, ALCM_BENCH_E_MANIFEST,
                            "manifest line %u (%s): source must be 1-255 printable characters",
                            line_no, e->file);
            goto fail;
        }
        memcpy(e->source, f[4].p, f[4].len);
        e->source[f[4].len] = '\0';
        for (size_t i = 0; i < m->n_entries; i++)
            if (!strcmp(m->entries[i].file, e->file)) {
                st = bench_fail(err, ALCM_BENCH_E_MANIFEST,
                                "manifest line %u: file %s is listed twice", line_no, e->file);
                goto fail;
            }
        m->n_entries++;
    }
    if (m->n_entries == 0) {
        st = bench_fail(err, ALCM_BENCH_E_MANIFEST, "manifest: lists no files");
        goto fail;
    }
    for (size_t i = 0; i < m->n_entries; i++) m->entries[i].item.name = m->entries[i].file;
    alcm_bench_sha256_hex(text, len, m->sha256);
    *out = m;
    bench_ok(err);
    return ALCM_BENCH_OK;
fail:
    alcm_bench_manifest_free(m);
    return st;
}
