/* format.c - writing and validating blob headers, codec sections, stream headers and the
 * CRC32 trailer (docs/FORMAT.md). */
#include "format.h"

#include <math.h>
#include <string.h>

#include "alcm_tools.h"
#include "bytes.h"

static const uint8_t k_magic[4] = {'A', 'L', 'C', 'M'};

size_t alcm_frame_section_size(int codec)
{
    switch (codec) {
    case ALCM_CODEC_GRADIENT: return ALCM_SECTION_GRADIENT;
    case ALCM_CODEC_LOSSLESS_FLOAT:
    case ALCM_CODEC_LOSSLESS_BYTES: return ALCM_SECTION_LOSSLESS;
    case ALCM_CODEC_SEGMENTED: return ALCM_SECTION_SEGMENTED;
    default: return 0;
    }
}

/* Header + section bytes (no checksum), common to both versions. */
static size_t header_size(uint32_t rank, int codec)
{
    return ALCM_HEADER_FIXED + 8 * (size_t)rank + alcm_frame_section_size(codec);
}

size_t alcm_frame_prefix_size(uint32_t rank, int codec)
{
    return header_size(rank, codec) + ALCM_CRC_SIZE;
}

alcm_profile alcm_codec_profile(int codec)
{
    switch (codec) {
    case ALCM_CODEC_GRADIENT:
    case ALCM_CODEC_SEGMENTED: return ALCM_PROFILE_GRADIENT;
    case ALCM_CODEC_BASELINE: return ALCM_PROFILE_BASELINE;
    default: return ALCM_PROFILE_LOSSLESS;
    }
}

void alcm_frame_write(uint8_t *dst, const alcm_frame *f)
{
    memcpy(dst, k_magic, 4);
    dst[4] = ALCM_FORMAT_VERSION;
    dst[5] = f->codec;
    dst[6] = f->dtype;
    dst[7] = f->backend;
    dst[8] = (uint8_t)f->shape.rank;
    dst[9] = 0;                    /* flags: none defined in version 2 */
    dst[10] = dst[11] = 0;
    alcm_put_u64(dst + 12, f->blob_size);
    alcm_put_u64(dst + 20, f->raw_size);
    uint8_t *p = dst + ALCM_HEADER_FIXED;
    for (uint32_t i = 0; i < f->shape.rank; i++, p += 8) alcm_put_u64(p, f->shape.dims[i]);
    switch (f->codec) {
    case ALCM_CODEC_GRADIENT:
        alcm_put_f64(p, f->grad.budget);
        alcm_put_f64(p + 8, f->grad.achieved);
        alcm_put_u64(p + 16, f->grad.channel_len);
        alcm_put_u32(p + 24, f->grad.n_channels);
        p[28] = f->grad.layout;
        p[29] = p[30] = p[31] = 0;
        alcm_put_u64(p + 32, f->grad.escapes);
        alcm_put_u64(p + 40, f->grad.param_bytes);
        break;
    case ALCM_CODEC_LOSSLESS_FLOAT:
        alcm_put_u32(p, f->unit);
        p[4] = f->transform;
        p[5] = p[6] = p[7] = 0;
        break;
    case ALCM_CODEC_LOSSLESS_BYTES:
        alcm_put_u32(p, f->unit);
        alcm_put_u32(p + 4, 0);
        break;
    case ALCM_CODEC_SEGMENTED:
        alcm_put_f64(p, f->seg.budget);
        alcm_put_f64(p + 8, f->seg.max_error);
        alcm_put_u32(p + 16, f->seg.count);
        alcm_put_u32(p + 20, 0);
        break;
    default: break;
    }
}

static uint32_t crc_of(const uint8_t *p, size_t n)
{
    return alcm_crc32(p, n);
}

void alcm_frame_seal(uint8_t *blob, size_t blob_size)
{
    alcm_put_u64(blob + 12, blob_size);
    size_t end = blob_size - ALCM_CRC_SIZE;
    if (blob[4] != ALCM_FORMAT_VERSION_V1) {
        uint32_t rank = blob[8] <= ALCM_MAX_RANK ? blob[8] : ALCM_MAX_RANK;
        size_t head = header_size(rank, blob[5]);
        if (head + 2 * ALCM_CRC_SIZE <= blob_size) {
            alcm_put_u32(blob + head, crc_of(blob, head));
            alcm_put_u32(blob + end, crc_of(blob + head + ALCM_CRC_SIZE,
                                            end - head - ALCM_CRC_SIZE));
            return;
        }
    }
    alcm_put_u32(blob + end, crc_of(blob, end));
}

void alcm_frame_finish(uint8_t *dst, alcm_frame *f, size_t payload_end, size_t *len)
{
    f->blob_size = payload_end + ALCM_CRC_SIZE;
    alcm_frame_write(dst, f);
    alcm_frame_seal(dst, payload_end + ALCM_CRC_SIZE);
    *len = payload_end + ALCM_CRC_SIZE;
}

void alcm_frame_finish_crc(uint8_t *dst, alcm_frame *f, size_t payload_end,
                           uint32_t payload_crc, size_t *len)
{
    f->blob_size = payload_end + ALCM_CRC_SIZE;
    alcm_frame_write(dst, f);
    alcm_put_u64(dst + 12, f->blob_size);
    size_t head = header_size(f->shape.rank, f->codec);
    alcm_put_u32(dst + head, crc_of(dst, head));
    alcm_put_u32(dst + payload_end, payload_crc);
    *len = payload_end + ALCM_CRC_SIZE;
}

uint32_t alcm_blob_crc_v2(const uint8_t *b, size_t len)
{
    size_t head = header_size(b[8], b[5]) + ALCM_CRC_SIZE, body = len - head - ALCM_CRC_SIZE;
    uint32_t crc = crc_of(b, head);
    crc = alcm_crc32_combine(crc, alcm_get_u32(b + len - ALCM_CRC_SIZE), body);
    return alcm_crc32_combine(crc, crc_of(b + len - ALCM_CRC_SIZE, ALCM_CRC_SIZE),
                              ALCM_CRC_SIZE);
}

static int dtype_allowed(int codec, int dtype)
{
    switch (codec) {
    case ALCM_CODEC_GRADIENT:
    case ALCM_CODEC_SEGMENTED: return dtype == ALCM_DTYPE_F32;
    case ALCM_CODEC_LOSSLESS_FLOAT:
        return dtype == ALCM_DTYPE_F32 || dtype == ALCM_DTYPE_F16 || dtype == ALCM_DTYPE_BF16;
    case ALCM_CODEC_LOSSLESS_BYTES: return dtype == ALCM_DTYPE_BYTES;
    case ALCM_CODEC_BASELINE: return alcm_dtype_size((alcm_dtype)dtype) != 0;
    }
    return 0;
}

static alcm_status parse_gradient_section(const uint8_t *p, alcm_frame *f)
{
    alcm_grad_section *g = &f->grad;
    g->budget = alcm_get_f64(p);
    g->achieved = alcm_get_f64(p + 8);
    g->channel_len = alcm_get_u64(p + 16);
    g->n_channels = alcm_get_u32(p + 24);
    g->layout = p[28];
    g->escapes = alcm_get_u64(p + 32);
    g->param_bytes = alcm_get_u64(p + 40);
    /* Negated comparisons reject NaN too. */
    if (!(g->budget > 0.0 && g->budget <= 1.0)) return ALCM_E_CORRUPT;
    if (!(g->achieved >= 0.0 && g->achieved <= g->budget)) return ALCM_E_CORRUPT;
    if (g->layout != ALCM_GRAD_LAYOUT_CLASSES || p[29] || p[30] || p[31]) return ALCM_E_CORRUPT;
    if (f->numel == 0) {
        if (g->channel_len != 0 || g->n_channels != 0) return ALCM_E_CORRUPT;
    } else {
        if (g->channel_len == 0 || g->channel_len > f->numel) return ALCM_E_CORRUPT;
        uint64_t count = f->numel / g->channel_len + (f->numel % g->channel_len != 0);
        if (count != g->n_channels) return ALCM_E_CORRUPT;
    }
    if (g->param_bytes < g->n_channels || g->param_bytes > 6 * (uint64_t)g->n_channels)
        return ALCM_E_CORRUPT;
    if (g->escapes > f->numel) return ALCM_E_CORRUPT;
    return ALCM_OK;
}

static alcm_status parse_segmented_section(const uint8_t *p, alcm_frame *f)
{
    alcm_seg_section *g = &f->seg;
    g->budget = alcm_get_f64(p);
    g->max_error = alcm_get_f64(p + 8);
    g->count = alcm_get_u32(p + 16);
    if (!(g->budget > 0.0 && g->budget <= 1.0)) return ALCM_E_CORRUPT;
    if (!(g->max_error >= 0.0 && g->max_error <= g->budget)) return ALCM_E_CORRUPT;
    if (alcm_get_u32(p + 20) != 0) return ALCM_E_CORRUPT;
    if ((f->numel == 0) != (g->count == 0) || g->count > f->numel) return ALCM_E_CORRUPT;
    return ALCM_OK;
}

alcm_status alcm_frame_parse(const void *blob, size_t len, alcm_frame *f)
{
    const uint8_t *b = blob;
    memset(f, 0, sizeof *f);
    if (!blob && len) return ALCM_E_ARG;
    size_t m = len < 4 ? len : 4;
    if (m && memcmp(b, k_magic, m) != 0) return ALCM_E_MAGIC;
    if (len < ALCM_HEADER_FIXED) return ALCM_E_TRUNCATED;
    const uint8_t version = b[4];
    if (version != ALCM_FORMAT_VERSION && version != ALCM_FORMAT_VERSION_V1)
        return ALCM_E_VERSION;
    const int v1 = version == ALCM_FORMAT_VERSION_V1;
    uint64_t blob_size = alcm_get_u64(b + 12);
    if (blob_size > len) return ALCM_E_TRUNCATED;
    if (blob_size != len || blob_size < (v1 ? ALCM_BLOB_MIN : ALCM_BLOB_MIN_V2))
        return ALCM_E_CORRUPT;
    uint32_t rank = b[8];
    if (rank > ALCM_MAX_RANK) return ALCM_E_CORRUPT;
    size_t head = header_size(rank, b[5]);
    if (v1) {
        if (crc_of(b, len - ALCM_CRC_SIZE) != alcm_get_u32(b + len - ALCM_CRC_SIZE))
            return ALCM_E_CHECKSUM;
    } else {
        /* The header CRC covers header, dims and section: reading a header costs no pass
         * over the payload, which has its own CRC (alcm_frame_check_payload). */
        if (head > len - 2 * ALCM_CRC_SIZE) return ALCM_E_CORRUPT;
        if (crc_of(b, head) != alcm_get_u32(b + head)) return ALCM_E_CHECKSUM;
    }

    f->version = version;
    f->codec = b[5];
    f->dtype = b[6];
    f->backend = b[7];
    f->blob_size = blob_size;
    if (f->codec < ALCM_CODEC_GRADIENT || f->codec > ALCM_CODEC_SEGMENTED) return ALCM_E_CODEC;
    if (f->backend != ALCM_BACKEND_ZLIB && f->backend != ALCM_BACKEND_ZSTD) return ALCM_E_CODEC;
    if (!dtype_allowed(f->codec, f->dtype)) return ALCM_E_CORRUPT;
    if (f->codec == ALCM_CODEC_BASELINE && f->backend != ALCM_BACKEND_ZLIB) return ALCM_E_CORRUPT;
    /* Version 1: reserved bytes; version 2: flags (no bit defined yet) and reserved. */
    if (b[9] || b[10] || b[11]) return ALCM_E_CORRUPT;
    size_t prefix = head + (v1 ? 0 : ALCM_CRC_SIZE);
    if (prefix > len - ALCM_CRC_SIZE) return ALCM_E_CORRUPT;
    f->shape.rank = rank;
    for (uint32_t i = 0; i < rank; i++) f->shape.dims[i] = alcm_get_u64(b + ALCM_HEADER_FIXED + 8 * i);
    if (alcm_shape_numel(&f->shape, &f->numel) != ALCM_OK) return ALCM_E_CORRUPT;
    f->raw_size = alcm_get_u64(b + 20);
    uint64_t esize = alcm_dtype_size((alcm_dtype)f->dtype);
    if (f->numel > UINT64_MAX / esize || f->raw_size != f->numel * esize) return ALCM_E_CORRUPT;
    if (f->raw_size > SIZE_MAX) return ALCM_E_CORRUPT;
    f->payload_off = prefix;
    f->payload_end = len - ALCM_CRC_SIZE;

    const uint8_t *sec = b + ALCM_HEADER_FIXED + 8 * (size_t)rank;
    switch (f->codec) {
    case ALCM_CODEC_GRADIENT: return parse_gradient_section(sec, f);
    case ALCM_CODEC_SEGMENTED: return parse_segmented_section(sec, f);
    case ALCM_CODEC_LOSSLESS_FLOAT:
        f->unit = alcm_get_u32(sec);
        f->transform = sec[4];
        if (f->unit == 0 || f->unit > ALCM_UNIT_MAX || f->transform > ALCM_LF_TRANSFORM_ROTATE ||
            sec[5] || sec[6] || sec[7])
            return ALCM_E_CORRUPT;
        return ALCM_OK;
    case ALCM_CODEC_LOSSLESS_BYTES:
        f->unit = alcm_get_u32(sec);
        if (f->unit == 0 || f->unit > ALCM_UNIT_MAX || alcm_get_u32(sec + 4) != 0)
            return ALCM_E_CORRUPT;
        return ALCM_OK;
    default: return ALCM_OK;
    }
}

alcm_status alcm_frame_check_payload(const void *blob, const alcm_frame *f)
{
    if (f->version == ALCM_FORMAT_VERSION_V1) return ALCM_OK;
    const uint8_t *b = blob;
    if (crc_of(b + f->payload_off, f->payload_end - f->payload_off) !=
        alcm_get_u32(b + f->payload_end))
        return ALCM_E_CHECKSUM;
    return ALCM_OK;
}

void alcm_stream_header_put(uint8_t *p, uint8_t method, uint64_t size)
{
    p[0] = method;
    alcm_put_u64(p + 1, size);
}

alcm_status alcm_stream_take(const uint8_t *blob, size_t *pos, size_t end, uint64_t decoded,
                             alcm_stream_ref *out)
{
    size_t at = *pos;
    if (at > end || end - at < ALCM_STREAM_HEADER) return ALCM_E_CORRUPT;
    uint8_t method = blob[at];
    uint64_t size = alcm_get_u64(blob + at + 1);
    at += ALCM_STREAM_HEADER;
    if (size > end - at) return ALCM_E_CORRUPT;
    if (method == ALCM_STREAM_STORED) {
        if (size != decoded) return ALCM_E_CORRUPT;
    } else if (method == ALCM_STREAM_CODED) {
        if (size == 0) return ALCM_E_CORRUPT;
    } else {
        return ALCM_E_CORRUPT;
    }
    out->method = method;
    out->data = blob + at;
    out->size = (size_t)size;
    out->decoded = decoded;
    *pos = at + (size_t)size;
    return ALCM_OK;
}
