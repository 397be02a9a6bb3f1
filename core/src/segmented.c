/* segmented.c - the segmented gradient codec (docs/FORMAT.md, codec 5): a flat tensor cut
 * at caller-given element offsets, each segment encoded as its own gradient blob under the
 * full error budget, the inner blobs concatenated into one outer blob. */
#include <math.h>
#include <string.h>

#include "bytes.h"
#include "ctx.h"

/* Σ (x + r)² over n elements, in double. */
static double segment_energy(const float *x, const float *r, size_t n)
{
    double acc[4] = {0.0, 0.0, 0.0, 0.0};
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int k = 0; k < 4; k++) {
            double y = r ? (double)(x[i + k] + r[i + k]) : (double)x[i + k];
            acc[k] += y * y;
        }
    for (; i < n; i++) {
        double y = r ? (double)(x[i] + r[i]) : (double)x[i];
        acc[0] += y * y;
    }
    return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

alcm_status alcm_segmented_check(const alcm_params *p, uint64_t numel)
{
    for (uint32_t k = 0; k < p->n_segments; k++) {
        if (p->segments[k] > numel) return ALCM_E_ARG;
        if (k && p->segments[k] < p->segments[k - 1]) return ALCM_E_ARG;
    }
    return ALCM_OK;
}

alcm_status alcm_segmented_encode(alcm_cctx *cx, const alcm_enc_job *job, const float *x,
                                  float *residual, uint8_t *dst, size_t cap, size_t *len,
                                  alcm_info *info)
{
    const alcm_params *p = job->params;
    size_t prefix = alcm_frame_prefix_size(job->shape->rank, ALCM_CODEC_SEGMENTED);
    if (cap < prefix + ALCM_CRC_SIZE) return ALCM_E_DST_TOO_SMALL;
    const size_t end = cap - ALCM_CRC_SIZE;
    size_t pos = prefix;

    alcm_params sp = *p;
    sp.segments = NULL;
    sp.n_segments = 0;
    double e_total = 0.0, d_total = 0.0, bits = 0.0, pruned = 0.0, worst = 0.0;
    uint32_t count = 0, channels = 0;
    int exact = 1;
    uint64_t start = 0;
    for (uint32_t k = 0; k <= p->n_segments; k++) {
        uint64_t stop = k < p->n_segments ? p->segments[k] : job->numel;
        if (stop < start || stop > job->numel) return ALCM_E_ARG;
        if (stop == start) continue;
        uint64_t n = stop - start;
        alcm_shape sh;
        alcm_shape_1d(&sh, n);
        double energy = 0.0;
        alcm_enc_job sj = {.params = &sp, .shape = &sh, .numel = n, .coder = job->coder,
                           .energy_out = &energy};
        alcm_info si;
        memset(&si, 0, sizeof si);
        si.exact = 1;
        size_t used = 0;
        float *r = residual ? residual + start : NULL;
        alcm_status st = alcm_gradient_encode(cx, &sj, x + start, r, dst + pos, end - pos,
                                              &used, &si);
        if (st != ALCM_OK) return st;
        if (si.exact) energy = segment_energy(x + start, NULL, (size_t)n); /* error 0 anyway */
        e_total += energy;
        d_total += si.rel_l2_error * si.rel_l2_error * energy;
        if (si.rel_l2_error > worst) worst = si.rel_l2_error;
        bits += si.mean_bits * (double)n;
        pruned += si.pruned_fraction * (double)n;
        channels += si.n_channels;
        exact &= si.exact;
        pos += used;
        count++;
        start = stop;
    }

    alcm_frame f;
    memset(&f, 0, sizeof f);
    f.codec = ALCM_CODEC_SEGMENTED;
    f.dtype = ALCM_DTYPE_F32;
    f.backend = (uint8_t)job->coder.backend;
    f.shape = *job->shape;
    f.raw_size = job->numel * sizeof(float);
    f.seg.budget = p->error_budget;
    f.seg.max_error = worst;
    f.seg.count = count;
    alcm_frame_finish(dst, &f, pos, len);

    double n_all = (double)job->numel;
    info->rel_l2_error = e_total > 0.0 ? sqrt(d_total / e_total) : 0.0;
    if (info->rel_l2_error > worst) info->rel_l2_error = worst;
    info->mean_bits = job->numel ? bits / n_all : 0.0;
    info->pruned_fraction = job->numel ? pruned / n_all : 0.0;
    info->n_channels = channels;
    info->exact = exact;
    info->n_segments = count;
    info->max_segment_error = worst;
    return ALCM_OK;
}

alcm_status alcm_segmented_next(const uint8_t *blob, const alcm_frame *f, size_t *pos,
                                uint64_t *off, alcm_frame *inner)
{
    size_t at = *pos;
    if (at > f->payload_end || f->payload_end - at < ALCM_HEADER_FIXED) return ALCM_E_CORRUPT;
    uint64_t size = alcm_get_u64(blob + at + 12);
    if (size < ALCM_BLOB_MIN || size > f->payload_end - at) return ALCM_E_CORRUPT;
    alcm_status st = alcm_frame_parse(blob + at, (size_t)size, inner);
    if (st != ALCM_OK) return st;
    if (inner->codec != ALCM_CODEC_GRADIENT && inner->codec != ALCM_CODEC_LOSSLESS_FLOAT)
        return ALCM_E_CORRUPT;
    if (inner->dtype != ALCM_DTYPE_F32 || inner->shape.rank != 1 || inner->numel == 0)
        return ALCM_E_CORRUPT;
    if (inner->codec == ALCM_CODEC_GRADIENT &&
        (inner->grad.budget != f->seg.budget || inner->grad.achieved > f->seg.max_error))
        return ALCM_E_CORRUPT;
    if (inner->numel > f->numel - *off) return ALCM_E_CORRUPT;
    *pos = at + (size_t)size;
    *off += inner->numel;
    return ALCM_OK;
}

alcm_status alcm_segmented_decode(alcm_dctx *dx, const uint8_t *blob, const alcm_frame *f,
                                  float *dst)
{
    size_t pos = f->payload_off;
    uint64_t off = 0;
    for (uint32_t k = 0; k < f->seg.count; k++) {
        size_t at = pos;
        uint64_t first = off;
        alcm_frame g;
        alcm_status st = alcm_segmented_next(blob, f, &pos, &off, &g);
        if (st != ALCM_OK) return st;
        /* Every inner blob passes every check of docs/FORMAT.md, its payload CRC too. */
        if ((st = alcm_frame_check_payload(blob + at, &g)) != ALCM_OK) return st;
        if (g.codec == ALCM_CODEC_GRADIENT)
            st = alcm_gradient_decode(dx, blob + at, &g, dst + first);
        else
            st = alcm_lossless_float_decode(dx, blob + at, &g, (uint8_t *)(dst + first));
        if (st != ALCM_OK) return st;
    }
    if (pos != f->payload_end || off != f->numel) return ALCM_E_CORRUPT;
    return ALCM_OK;
}
