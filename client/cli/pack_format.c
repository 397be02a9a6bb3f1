/* pack_format.c - `alcm pack` files, versions 1 and 2, coded and checked in memory
 * (docs/PACK.md). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cli.h"
#include "pack_format.h"
#include "safetensors.h"

#define PACK_MAGIC "ALPK"
#define PACK_V1_FIXED 24   /* magic, version, size, crc, count */
#define PACK_V2_FIXED 12   /* magic, version, crc; then varints */
#define VARINT_MAX 10
#define BLOB_HEAD 36       /* a rank-1 blob header (docs/FORMAT.md) */
#define BLOB_SECTION 8     /* the codec section of codecs 2 and 3 */
#define BLOB_PAYLOAD_AT 48 /* header, section, header CRC */
#define BLOB_IMPLIED 39    /* bytes of a blob a version 2 record leaves out */
#define RECORD_MIN 13      /* backend, section, payload CRC */
#define GROUP_COST 96.0    /* estimated bytes a group costs beyond its planes */

/* The preset DEFLATE window of a method-1 header (docs/PACK.md, 496 bytes). */
static const char header_dict[] =
    "\"I64\",\"I32\",\"I16\",\"I8\",\"U64\",\"U32\",\"U16\",\"U8\",\"BOOL\",\"F8_E4M3\","
    "\"F8_E5M2\",\"F64\",model.layers.self_attn.q_proj.k_proj.v_proj.o_proj.mlp.gate_proj."
    "up_proj.down_proj.input_layernorm.post_attention_layernorm.embed_tokens.lm_head.norm."
    "running_mean.running_var.num_batches_tracked{\"__metadata__\":{\"format\":\"pt\"},"
    "\"dtype\":\"F16\",\"shape\":[],\"data_offsets\":[0,\"dtype\":\"F32\",\"shape\":[],"
    "\"data_offsets\":[0,.bias\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,"
    ".weight\":{\"dtype\":\"BF16\",\"shape\":[],\"data_offsets\":[0,";
#define HEADER_DICT_LEN (sizeof header_dict - 1)

typedef struct {
    size_t first, k;        /* index in st_file.t of its first tensor; non-empty tensors */
    uint64_t r0, r1;        /* data range */
    alcm_dtype cls;
} pack_group;

/* ---- varints (unsigned LEB128, shortest form) ---- */

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* Reads one varint at *pos. Prints why and returns -1 if truncated, longer than 10 bytes,
 * above 2^64 - 1 or not in the shortest form. */
static int get_varint(const char *cmd, const char *path, const uint8_t *src, size_t len,
                      size_t *pos, const char *what, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned i = 0; i < VARINT_MAX; i++) {
        if (*pos >= len) {
            cli_error(cmd, "%s: truncated in the %s", path, what);
            return -1;
        }
        uint8_t b = src[(*pos)++];
        if (i == VARINT_MAX - 1 && b > 1) break;
        x |= (uint64_t)(b & 0x7F) << (7 * i);
        if (!(b & 0x80)) {
            if (b == 0 && i > 0) break;
            *v = x;
            return 0;
        }
    }
    cli_error(cmd, "%s: malformed varint in the %s", path, what);
    return -1;
}

/* ---- grouping estimate ---- */

/* Histogram of the top byte of each element's sign-rotated word (the exponent plane): every
 * element of tensors up to HIST_SAMPLES elements, evenly spaced ones (each counted with the
 * weight of the elements it stands for) above, so the estimate costs at most one pass over
 * HIST_SAMPLES elements per tensor. Four counter tables, since consecutive exponents are
 * often equal and one table would make each count wait for the previous store. */
#define HIST_SAMPLES 1024u
static void exponent_hist(const uint8_t *p, uint64_t bytes, alcm_dtype d, uint32_t h[256])
{
    const unsigned es = d == ALCM_DTYPE_F32 ? 4 : 2;
    const uint64_t n = bytes / es, stride = n > HIST_SAMPLES ? n / HIST_SAMPLES : 1;
    const uint64_t step = stride * es;
    const uint32_t w = (uint32_t)stride;
    const uint8_t *top = p + es - 2; /* the top 16 bits of each element */
    if (n <= 64) { /* biases and norms: straight into h */
        for (uint64_t i = 0; i + es <= bytes; i += es)
            h[(((uint32_t)top[i + 1] << 8 | top[i]) >> 7) & 0xFF]++;
        return;
    }
    uint32_t c[4][256];
    memset(c, 0, sizeof c);
    uint64_t i = 0;
    for (; i + 4 * step <= bytes; i += 4 * step)
        for (unsigned k = 0; k < 4; k++) {
            const uint8_t *e = top + i + k * step;
            c[k][(((uint32_t)e[1] << 8 | e[0]) >> 7) & 0xFF]++;
        }
    for (; i + es <= bytes; i += step) c[0][(((uint32_t)top[i + 1] << 8 | top[i]) >> 7) & 0xFF]++;
    for (int v = 0; v < 256; v++) h[v] += (c[0][v] + c[1][v] + c[2][v] + c[3][v]) * w;
}

/* Estimated bytes of a group whose exponent histogram is h: n log2 n - sum c log2 c bits
 * (the order-0 entropy of n values) plus GROUP_COST. */
static double plane_cost(const uint32_t h[256])
{
    /* the occupied values first, without a branch per value (their pattern is irregular) */
    uint8_t occ[256];
    int k = 0;
    uint64_t n = 0;
    for (int v = 0; v < 256; v++) {
        occ[k] = (uint8_t)v;
        k += h[v] != 0;
        n += h[v];
    }
    double clogc = 0;
    for (int j = 0; j < k; j++) clogc += h[occ[j]] * log2((double)h[occ[j]]);
    return (n ? (double)n * log2((double)n) - clogc : 0.0) / 8 + GROUP_COST;
}

/* Cuts the non-empty tensors into groups (docs/PACK.md, "What the encoder does"). g has
 * room for one group per tensor. Returns the group count. The open group's cost is kept
 * from the step that formed it, so each tensor costs at most two estimates. */
static size_t plan_groups(const st_file *f, const uint8_t *data, pack_group *g)
{
    uint32_t cur[256], one[256], both[256];
    double cur_cost = 0.0;
    size_t ng = 0;
    for (size_t i = 0; i < f->n; i++) {
        const st_tensor *t = &f->t[i];
        uint64_t nb = t->end - t->begin;
        if (!nb) continue;
        int fl = t->dtype != ALCM_DTYPE_BYTES, join = 0;
        double one_cost = -1.0, both_cost = 0.0;
        if (fl && nb <= PACK_GROUP_MAX) {
            memset(one, 0, sizeof one);
            exponent_hist(data + t->begin, nb, t->dtype, one);
        }
        if (ng && g[ng - 1].cls == t->dtype && g[ng - 1].r1 - g[ng - 1].r0 + nb <= PACK_GROUP_MAX) {
            if (!fl) {
                join = 1;
            } else {
                for (int v = 0; v < 256; v++) both[v] = cur[v] + one[v];
                one_cost = plane_cost(one);
                both_cost = plane_cost(both);
                join = both_cost <= cur_cost + one_cost;
            }
        }
        if (join) {
            g[ng - 1].k++;
            g[ng - 1].r1 = t->end;
            if (fl) {
                memcpy(cur, both, sizeof cur);
                cur_cost = both_cost;
            }
        } else {
            g[ng++] = (pack_group){i, 1, t->begin, t->end, t->dtype};
            if (fl && nb <= PACK_GROUP_MAX) {
                memcpy(cur, one, sizeof cur);
                cur_cost = one_cost >= 0.0 ? one_cost : plane_cost(one);
            }
        }
    }
    return ng;
}

/* ---- encoders ---- */

static int compress_range(const char *cmd, const char *path, alcm_cctx *cctx,
                          alcm_backend backend, alcm_dtype cls, const uint8_t *src, uint64_t nb,
                          const char *what, uint8_t *dst, size_t cap, size_t *blen)
{
    alcm_params params;
    alcm_params_default(&params, ALCM_PROFILE_LOSSLESS);
    params.dtype = cls;
    params.backend = backend;
    alcm_shape shape;
    alcm_shape_1d(&shape, nb / alcm_dtype_size(cls));
    alcm_status st = alcm_compress(cctx, &params, &shape, src, (size_t)nb, NULL, dst, cap, blen,
                                   NULL);
    if (st != ALCM_OK) {
        cli_error(cmd, "%s: %s: %s (%s)", path, what, alcm_strerror(st), alcm_status_name(st));
        return -1;
    }
    return 0;
}

static int encode_v1(const char *cmd, const char *path, const uint8_t *src, size_t len,
                     const st_file *f, alcm_cctx *cctx, alcm_backend backend, uint8_t **out,
                     size_t *out_len, pack_stats *s)
{
    const uint64_t hdr = 8 + f->header_len;
    const uint8_t *data = src + hdr;
    size_t cap = PACK_V1_FIXED + (size_t)hdr;
    for (size_t i = 0; i < f->n; i++)
        cap += 8 + alcm_compress_bound((size_t)(f->t[i].end - f->t[i].begin));
    uint8_t *dst = malloc(cap);
    if (!dst) {
        cli_error(cmd, "out of memory");
        return -1;
    }
    memcpy(dst, PACK_MAGIC, 4);
    st_put_u32(dst + 4, 1);
    st_put_u64(dst + 8, len);
    st_put_u32(dst + 16, alcm_crc32(src, len));
    st_put_u32(dst + 20, (uint32_t)f->n);
    memcpy(dst + PACK_V1_FIXED, src, (size_t)hdr);
    size_t pos = PACK_V1_FIXED + (size_t)hdr;
    s->header_raw = hdr;
    s->header_packed = pos;
    for (size_t i = 0; i < f->n; i++) {
        size_t nb = (size_t)(f->t[i].end - f->t[i].begin), blen = 0;
        char what[64];
        snprintf(what, sizeof what, "tensor '%.40s'", f->t[i].name);
        if (nb && compress_range(cmd, path, cctx, backend, f->t[i].dtype, data + f->t[i].begin,
                                 nb, what, dst + pos + 8, cap - pos - 8, &blen)) {
            free(dst);
            return -1;
        }
        st_put_u64(dst + pos, blen);
        pos += 8 + blen;
        s->raw[f->t[i].dtype] += nb;
        s->packed[f->t[i].dtype] += 8 + blen;
        s->groups += nb != 0;
    }
    *out = dst;
    *out_len = pos;
    return 0;
}

/* The JSON header as raw DEFLATE over the preset dictionary, in *z (malloc'd). The window
 * is the smallest that reaches from the header's end back to the dictionary's start (zlib
 * matches reach at most the window less 262 bytes), and the hash and block buffers scale
 * with it: a small header does not set up (and clear) 256 KiB of tables. Any window up to
 * 2^15 inflates with the decoder's. */
static int deflate_header(const uint8_t *h, uint64_t n, uint8_t **z, size_t *zlen)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    int wbits = 9;
    while (wbits < 15 && ((uint64_t)1 << wbits) < n + HEADER_DICT_LEN + 262) wbits++;
    if (deflateInit2(&zs, 4, Z_DEFLATED, -wbits, wbits - 7, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    int rc = -1;
    if (deflateSetDictionary(&zs, (const Bytef *)header_dict, (uInt)HEADER_DICT_LEN) != Z_OK)
        goto out;
    uLong bound = deflateBound(&zs, (uLong)n);
    *z = malloc(bound);
    if (!*z) goto out;
    zs.next_in = (Bytef *)(uintptr_t)h;
    zs.avail_in = (uInt)n;
    zs.next_out = *z;
    zs.avail_out = (uInt)bound;
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
        free(*z);
        *z = NULL;
        goto out;
    }
    *zlen = (size_t)zs.total_out;
    rc = 0;
out:
    deflateEnd(&zs);
    return rc;
}

static int encode_v2(const char *cmd, const char *path, const uint8_t *src, size_t len,
                     const st_file *f, alcm_cctx *cctx, alcm_backend backend, uint8_t **out,
                     size_t *out_len, pack_stats *s)
{
    const uint64_t n = f->header_len;
    const uint8_t *data = src + 8 + n;
    uint8_t *z = NULL, *dst = NULL;
    size_t zlen = 0, ng;
    pack_group *g = calloc(f->n ? f->n : 1, sizeof *g);
    if (!g || deflate_header(src + 8, n, &z, &zlen)) {
        cli_error(cmd, "out of memory");
        goto fail;
    }
    const int method = zlen < n;
    const size_t hlen = method ? zlen : (size_t)n;
    ng = plan_groups(f, data, g);
    size_t cap = PACK_V2_FIXED + 4 * VARINT_MAX + 1 + hlen + VARINT_MAX;
    for (size_t i = 0; i < ng; i++)
        cap += 2 * VARINT_MAX + alcm_compress_bound((size_t)(g[i].r1 - g[i].r0));
    dst = malloc(cap);
    if (!dst) {
        cli_error(cmd, "out of memory");
        goto fail;
    }
    memcpy(dst, PACK_MAGIC, 4);
    st_put_u32(dst + 4, 2);
    st_put_u32(dst + 8, alcm_crc32(src, len));
    size_t pos = PACK_V2_FIXED;
    pos += put_varint(dst + pos, len);
    pos += put_varint(dst + pos, f->n);
    pos += put_varint(dst + pos, n);
    dst[pos++] = (uint8_t)method;
    pos += put_varint(dst + pos, hlen);
    memcpy(dst + pos, method ? z : src + 8, hlen);
    pos += hlen;
    pos += put_varint(dst + pos, ng);
    s->header_raw = 8 + n;
    s->header_packed = pos;
    for (size_t i = 0; i < ng; i++) {
        const uint64_t nb = g[i].r1 - g[i].r0;
        /* The blob goes where its payload needs no move: the record's fields (varints k and
         * L, backend, section) end where the blob's header ends, the bytes already written
         * under the header kept aside meanwhile. L's varint length is taken from the bound;
         * when the real one is shorter the payload moves down. */
        uint8_t tmp[VARINT_MAX], kept[BLOB_PAYLOAD_AT];
        size_t fields = put_varint(tmp, g[i].k) +
                        put_varint(tmp, alcm_compress_bound((size_t)nb) - BLOB_IMPLIED) + 1 +
                        BLOB_SECTION;
        size_t under = 0; /* bytes before pos the blob's header covers */
        uint8_t *b = dst + pos + 2 * VARINT_MAX;
        if (pos + fields >= BLOB_PAYLOAD_AT) {
            b = dst + pos + fields - BLOB_PAYLOAD_AT;
            under = BLOB_PAYLOAD_AT - fields;
            memcpy(kept, b, under);
        }
        size_t blen = 0;
        char what[96];
        snprintf(what, sizeof what, "group of %zu tensors from '%.40s'", g[i].k,
                 f->t[g[i].first].name);
        if (compress_range(cmd, path, cctx, backend, g[i].cls, data + g[i].r0, nb, what, b,
                           cap - (size_t)(b - dst), &blen))
            goto fail;
        /* The layout the record relies on: a version 2, rank 1 blob of codec 2 or 3. */
        if (blen < BLOB_PAYLOAD_AT + 4 || b[4] != 2 || b[8] != 1 ||
            b[5] != (g[i].cls == ALCM_DTYPE_BYTES ? 3 : 2)) {
            cli_error(cmd, "%s: %s: unexpected blob layout (codec %u, version %u, rank %u)",
                      path, what, b[5], b[4], b[8]);
            goto fail;
        }
        uint8_t backend_byte = b[7], section[BLOB_SECTION];
        memcpy(section, b + BLOB_HEAD, BLOB_SECTION);
        memcpy(b, kept, under);
        const size_t at = pos;
        uint8_t *q = dst + pos; /* overwrites the blob's header only, which is read */
        q += put_varint(q, g[i].k);
        q += put_varint(q, blen - BLOB_IMPLIED);
        *q++ = backend_byte;
        memcpy(q, section, BLOB_SECTION);
        q += BLOB_SECTION;
        if (q != b + BLOB_PAYLOAD_AT) memmove(q, b + BLOB_PAYLOAD_AT, blen - BLOB_PAYLOAD_AT);
        q += blen - BLOB_PAYLOAD_AT;
        pos = (size_t)(q - dst);
        s->raw[g[i].cls] += nb;
        s->packed[g[i].cls] += pos - at;
    }
    s->groups = ng;
    free(z);
    free(g);
    *out = dst;
    *out_len = pos;
    return 0;
fail:
    free(z);
    free(g);
    free(dst);
    return -1;
}

int pack_encode(const char *cmd, const char *path, const uint8_t *src, size_t len,
                unsigned version, alcm_backend backend, uint8_t **out, size_t *out_len,
                pack_stats *stats)
{
    st_file f;
    memset(stats, 0, sizeof *stats);
    if (version != 1 && version != 2) {
        cli_error(cmd, "pack version %u not supported (1 or 2)", version);
        return -1;
    }
    alcm_cctx *cctx = alcm_cctx_create();
    if (!cctx) {
        cli_error(cmd, "out of memory");
        return -1;
    }
    if (st_parse(cmd, path, src, len, 0, 0, &f)) {
        alcm_cctx_free(cctx);
        return -1;
    }
    int rc = version == 1 ? encode_v1(cmd, path, src, len, &f, cctx, backend, out, out_len, stats)
                          : encode_v2(cmd, path, src, len, &f, cctx, backend, out, out_len, stats);
    stats->tensors = f.n;
    st_free(&f);
    alcm_cctx_free(cctx);
    return rc;
}

/* ---- decoders ---- */

/* Decodes blob[0, blen) into out (exactly nb bytes expected). */
static int decode_blob(const char *cmd, const char *path, alcm_dctx *dctx, const uint8_t *blob,
                       size_t blen, alcm_dtype cls, uint8_t *out, uint64_t nb, const char *what)
{
    alcm_header bh;
    size_t got = 0;
    alcm_status st = alcm_blob_header(blob, blen, &bh);
    if (st == ALCM_OK && (bh.raw_bytes != nb || bh.blob_bytes != blen || bh.dtype != cls ||
                          bh.profile != ALCM_PROFILE_LOSSLESS))
        st = ALCM_E_CORRUPT;
    if (st == ALCM_OK) st = alcm_decompress(dctx, blob, blen, out, (size_t)nb, &got);
    if (st == ALCM_OK && got != nb) st = ALCM_E_CORRUPT;
    if (st != ALCM_OK) {
        cli_error(cmd, "%s: %s: %s (%s)", path, what, alcm_strerror(st), alcm_status_name(st));
        return -1;
    }
    return 0;
}

static int decode_v1(const char *cmd, const char *path, const uint8_t *src, size_t len,
                     alcm_dctx *dctx, st_file *f, uint8_t **out, size_t *out_len)
{
    if (len < PACK_V1_FIXED) {
        cli_error(cmd, "%s: truncated", path);
        return -1;
    }
    uint64_t size = st_get_u64(src + 8);
    uint32_t crc = st_get_u32(src + 16), count = st_get_u32(src + 20);
    if (size > SIZE_MAX || size < 8) {
        cli_error(cmd, "%s: original size %llu out of range", path, (unsigned long long)size);
        return -1;
    }
    /* The embedded header: its length word must leave room in both files. */
    const uint8_t *h = src + PACK_V1_FIXED;
    uint64_t avail = len - PACK_V1_FIXED;
    if (avail < 8 || st_get_u64(h) > avail - 8 || st_get_u64(h) > size - 8) {
        cli_error(cmd, "%s: embedded header truncated", path);
        return -1;
    }
    uint64_t n = st_get_u64(h);
    if (st_parse(cmd, path, h, 8 + n, 1, size - 8 - n, f)) return -1;
    if (count != f->n) {
        cli_error(cmd, "%s: %u tensors stored, header lists %zu", path, count, f->n);
        return -1;
    }
    uint8_t *dst = malloc((size_t)size);
    if (!dst) {
        cli_error(cmd, "out of memory (%llu bytes)", (unsigned long long)size);
        return -1;
    }
    memcpy(dst, h, (size_t)(8 + n));
    size_t pos = PACK_V1_FIXED + (size_t)(8 + n);
    uint8_t *data = dst + 8 + n;
    for (size_t i = 0; i < f->n; i++) {
        uint64_t nb = f->t[i].end - f->t[i].begin;
        if (len - pos < 8) goto truncated;
        uint64_t blen = st_get_u64(src + pos);
        pos += 8;
        if (blen > len - pos) goto truncated;
        if ((blen == 0) != (nb == 0)) {
            cli_error(cmd, "%s: tensor '%s': blob length %llu for %llu bytes", path,
                      f->t[i].name, (unsigned long long)blen, (unsigned long long)nb);
            goto fail;
        }
        char what[64];
        snprintf(what, sizeof what, "tensor '%.40s'", f->t[i].name);
        if (nb && decode_blob(cmd, path, dctx, src + pos, (size_t)blen, f->t[i].dtype,
                              data + f->t[i].begin, nb, what))
            goto fail;
        pos += (size_t)blen;
    }
    if (pos != len) {
        cli_error(cmd, "%s: %zu bytes after the last tensor", path, len - pos);
        goto fail;
    }
    if (alcm_crc32(dst, (size_t)size) != crc) {
        cli_error(cmd, "%s: rebuilt file does not match the stored CRC32", path);
        goto fail;
    }
    *out = dst;
    *out_len = (size_t)size;
    return 0;
truncated:
    cli_error(cmd, "%s: truncated", path);
fail:
    free(dst);
    return -1;
}

/* Inflates a method-1 header (h, hlen) into exactly n bytes at out. */
static int inflate_header(const uint8_t *h, size_t hlen, uint8_t *out, uint64_t n)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, -15) != Z_OK) return -1;
    int rc = -1;
    if (inflateSetDictionary(&zs, (const Bytef *)header_dict, (uInt)HEADER_DICT_LEN) != Z_OK)
        goto out;
    zs.next_in = (Bytef *)(uintptr_t)h;
    zs.avail_in = (uInt)hlen;
    zs.next_out = out;
    zs.avail_out = (uInt)n;
    if (inflate(&zs, Z_FINISH) == Z_STREAM_END && zs.total_out == n && zs.avail_in == 0) rc = 0;
out:
    inflateEnd(&zs);
    return rc;
}

static int decode_v2(const char *cmd, const char *path, const uint8_t *src, size_t len,
                     alcm_dctx *dctx, st_file *f, uint8_t **out, size_t *out_len)
{
    if (len < PACK_V2_FIXED) {
        cli_error(cmd, "%s: truncated", path);
        return -1;
    }
    const uint32_t crc = st_get_u32(src + 8);
    size_t pos = PACK_V2_FIXED;
    uint64_t size, count, n, hlen, ng;
    if (get_varint(cmd, path, src, len, &pos, "original size", &size) ||
        get_varint(cmd, path, src, len, &pos, "tensor count", &count) ||
        get_varint(cmd, path, src, len, &pos, "header length", &n))
        return -1;
    if (size < 8 || size > SIZE_MAX) {
        cli_error(cmd, "%s: original size %llu out of range", path, (unsigned long long)size);
        return -1;
    }
    if (n < 2 || n > ST_MAX_HEADER || n > size - 8) {
        cli_error(cmd, "%s: header length %llu out of range (2..%llu, file of %llu bytes)",
                  path, (unsigned long long)n, ST_MAX_HEADER, (unsigned long long)size);
        return -1;
    }
    if (pos >= len) {
        cli_error(cmd, "%s: truncated in the header method", path);
        return -1;
    }
    const uint8_t method = src[pos++];
    if (method > 1) {
        cli_error(cmd, "%s: header method %u unknown (0 stored, 1 DEFLATE)", path, method);
        return -1;
    }
    if (get_varint(cmd, path, src, len, &pos, "header data length", &hlen)) return -1;
    if (hlen > len - pos) {
        cli_error(cmd, "%s: header data of %llu bytes past the end of the file", path,
                  (unsigned long long)hlen);
        return -1;
    }
    if (method == 0 ? hlen != n : hlen == 0 || hlen >= n) {
        cli_error(cmd, "%s: header data of %llu bytes for a %llu-byte header (method %u)", path,
                  (unsigned long long)hlen, (unsigned long long)n, method);
        return -1;
    }
    uint8_t *dst = malloc((size_t)size), *blob = NULL;
    size_t blob_cap = 0;
    if (!dst) {
        cli_error(cmd, "out of memory (%llu bytes)", (unsigned long long)size);
        return -1;
    }
    st_put_u64(dst, n);
    if (method == 0) {
        memcpy(dst + 8, src + pos, (size_t)n);
    } else if (inflate_header(src + pos, (size_t)hlen, dst + 8, n)) {
        cli_error(cmd, "%s: header data do not inflate to exactly %llu bytes", path,
                  (unsigned long long)n);
        goto fail;
    }
    pos += (size_t)hlen;
    if (st_parse(cmd, path, dst, 8 + n, 1, size - 8 - n, f)) goto fail;
    if (count != f->n) {
        cli_error(cmd, "%s: %llu tensors stored, header lists %zu", path,
                  (unsigned long long)count, f->n);
        goto fail;
    }
    size_t nonempty = 0;
    for (size_t i = 0; i < f->n; i++) nonempty += f->t[i].end != f->t[i].begin;
    if (get_varint(cmd, path, src, len, &pos, "group count", &ng)) goto fail;
    if (ng > nonempty) {
        cli_error(cmd, "%s: %llu groups for %zu non-empty tensors", path,
                  (unsigned long long)ng, nonempty);
        goto fail;
    }
    uint8_t *data = dst + 8 + n;
    size_t ti = 0, grouped = 0;   /* next tensor to group; non-empty tensors grouped */
    for (uint64_t gi = 0; gi < ng; gi++) {
        uint64_t k, L;
        if (get_varint(cmd, path, src, len, &pos, "group tensor count", &k) ||
            get_varint(cmd, path, src, len, &pos, "group record length", &L))
            goto fail;
        if (k == 0 || k > nonempty - grouped) {
            cli_error(cmd, "%s: group %llu holds %llu tensors, %zu left", path,
                      (unsigned long long)gi, (unsigned long long)k, nonempty - grouped);
            goto fail;
        }
        while (f->t[ti].end == f->t[ti].begin) ti++;
        const size_t first = ti;
        const alcm_dtype cls = f->t[ti].dtype;
        const uint64_t r0 = f->t[ti].begin;
        uint64_t r1 = r0;
        for (uint64_t j = 0; j < k; j++, ti++) {
            while (f->t[ti].end == f->t[ti].begin) ti++;
            if (f->t[ti].dtype != cls) {
                cli_error(cmd, "%s: group %llu mixes classes: tensor '%s' is %s, '%s' is %s",
                          path, (unsigned long long)gi, f->t[first].name,
                          alcm_dtype_name(cls), f->t[ti].name,
                          alcm_dtype_name(f->t[ti].dtype));
                goto fail;
            }
            r1 = f->t[ti].end;
        }
        grouped += (size_t)k;
        if (k > 1 && r1 - r0 > PACK_GROUP_MAX) {
            cli_error(cmd, "%s: group %llu of %llu tensors holds %llu bytes (at most %llu)",
                      path, (unsigned long long)gi, (unsigned long long)k,
                      (unsigned long long)(r1 - r0), (unsigned long long)PACK_GROUP_MAX);
            goto fail;
        }
        if (L < RECORD_MIN || L > len - pos) {
            cli_error(cmd, "%s: group %llu: record length %llu (%zu bytes left, at least %d)",
                      path, (unsigned long long)gi, (unsigned long long)L, len - pos,
                      RECORD_MIN);
            goto fail;
        }
        /* Rebuild the blob the record abbreviates (docs/PACK.md, "Record"). */
        const size_t blen = (size_t)L + BLOB_IMPLIED;
        if (blen > blob_cap) {
            uint8_t *nb = realloc(blob, blen);
            if (!nb) {
                cli_error(cmd, "out of memory");
                goto fail;
            }
            blob = nb;
            blob_cap = blen;
        }
        const uint8_t *rec = src + pos;
        memcpy(blob, "ALCM", 4);
        blob[4] = 2;
        blob[5] = cls == ALCM_DTYPE_BYTES ? 3 : 2;
        blob[6] = (uint8_t)cls;
        blob[7] = rec[0];
        blob[8] = 1;
        blob[9] = blob[10] = blob[11] = 0;
        st_put_u64(blob + 12, blen);
        st_put_u64(blob + 20, r1 - r0);
        st_put_u64(blob + 28, (r1 - r0) / alcm_dtype_size(cls));
        memcpy(blob + BLOB_HEAD, rec + 1, BLOB_SECTION);
        st_put_u32(blob + BLOB_HEAD + BLOB_SECTION,
                   alcm_crc32(blob, BLOB_HEAD + BLOB_SECTION));
        memcpy(blob + BLOB_PAYLOAD_AT, rec + 1 + BLOB_SECTION, (size_t)L - 1 - BLOB_SECTION);
        char what[96];
        snprintf(what, sizeof what, "group %llu ('%.30s' ..)", (unsigned long long)gi,
                 f->t[first].name);
        if (decode_blob(cmd, path, dctx, blob, blen, cls, data + r0, r1 - r0, what)) goto fail;
        pos += (size_t)L;
    }
    if (grouped != nonempty) {
        cli_error(cmd, "%s: %llu groups hold %zu of the %zu non-empty tensors", path,
                  (unsigned long long)ng, grouped, nonempty);
        goto fail;
    }
    if (pos != len) {
        cli_error(cmd, "%s: %zu bytes after the last group", path, len - pos);
        goto fail;
    }
    if (alcm_crc32(dst, (size_t)size) != crc) {
        cli_error(cmd, "%s: rebuilt file does not match the stored CRC32", path);
        goto fail;
    }
    free(blob);
    *out = dst;
    *out_len = (size_t)size;
    return 0;
fail:
    free(blob);
    free(dst);
    return -1;
}

int pack_decode(const char *cmd, const char *path, const uint8_t *src, size_t len,
                uint8_t **out, size_t *out_len)
{
    if (len < 8 || memcmp(src, PACK_MAGIC, 4) != 0) {
        cli_error(cmd, "%s: not an `alcm pack` file (bad magic or too short)", path);
        return -1;
    }
    const uint32_t version = st_get_u32(src + 4);
    if (version != 1 && version != 2) {
        cli_error(cmd, "%s: pack version %u not supported (1 or 2)", path, version);
        return -1;
    }
    alcm_dctx *dctx = alcm_dctx_create();
    if (!dctx) {
        cli_error(cmd, "out of memory");
        return -1;
    }
    st_file f;
    memset(&f, 0, sizeof f);
    int rc = version == 1 ? decode_v1(cmd, path, src, len, dctx, &f, out, out_len)
                          : decode_v2(cmd, path, src, len, dctx, &f, out, out_len);
    st_free(&f);
    alcm_dctx_free(dctx);
    return rc;
}
