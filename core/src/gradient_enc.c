/* gradient_enc.c - the gradient encoder (docs/DESIGN.md "Gradient encoder"): per-channel
 * statistics and entropy map, budget split, pruning, allocation, measured quantisation with
 * calibration and refinement, code widths, blob assembly, residual update, lossless
 * fallback. The code streams themselves are packed in gradient_pack.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alcm_tools.h"
#include "alloc.h"
#include "ctx.h"
#include "detmath.h"
#include "gradient.h"
#include "gradient_enc.h"
#include "quant.h"
#include "select.h"
#include "stats_sum.h"

#define BUDGET_MARGIN 1e-5           /* covers the float rounding of the measured error */
#define CALIBRATE_BELOW 0.97         /* re-allocate with calibrated models below this use */
#define REFINE_ROUNDS 24
/* The flat map's entropy: a Gaussian's at the reference step std/16, log2(16·√(2πe)) / 8,
 * so a_c = std_c · √(2πe) in every channel (docs/DESIGN.md, "Ablation"). */
#define ALCM_ENTROPY_FLAT_VALUE 0.7558869f

/* Measures channel c at grid index s (0 = zeroed) into its state. */
static void measure_channel(alcm_genc *E, uint32_t c, int32_t s)
{
    alcm_genc_chan *ch = &E->ch[c];
    ch->s = s;
    ch->over[0] = ch->over[1] = ch->over[2] = 0;
    ch->maxq = 0;
    if (s == 0) {
        ch->dist = ch->energy;
        return;
    }
    uint64_t off = (uint64_t)c * E->len;
    size_t n = (size_t)alcm_chan_len(E->numel, E->len, c, E->C);
    float step = alcm_step((uint32_t)s), inv = 1.0f / step;
    alcm_qstats m = {0};
    if (E->kept && E->ynext && ch->held == 0) /* y there: measured in place */
        alcm_q_measure_codes(E->rnext + off, NULL, n, step, inv, E->thr, &m, E->kept + off,
                             E->rnext + off);
    else if (E->kept)
        alcm_q_measure_codes(E->x + off, E->r ? E->r + off : NULL, n, step, inv, E->thr, &m,
                             E->kept + off, E->rnext ? E->rnext + off : NULL);
    else
        alcm_q_measure(E->x + off, E->r ? E->r + off : NULL, n, step, inv, E->thr, &m);
    ch->held = s;
    ch->dist = m.dist_units * ((double)step * (double)step);
    ch->maxq = m.maxq;
    ch->over[0] = m.over1;
    ch->over[1] = m.over7;
    ch->over[2] = m.over127;
}

/* ------------------------------------------------------------------------------------------
 * Statistics and the entropy map
 * ---------------------------------------------------------------------------------------- */

/* Finiteness of n floats, for the residual after an update. */
static int all_finite(const float *y, size_t n)
{
    return alcm_q_all_finite(y, n);
}

static alcm_status channel_stats(alcm_genc *E, const alcm_params *p, double *total_energy)
{
    const alcm_predictor *model = alcm_predictor_default();
    float *ybuf = NULL;
    if (E->r && !E->yout) {
        if (alcm_buf_reserve(&E->cx->ybuf, (size_t)E->len * sizeof(float))) return ALCM_E_NOMEM;
        ybuf = E->cx->ybuf.p;
    }
    double total = 0.0;
    for (uint32_t c = 0; c < E->C; c++) {
        uint64_t off = (uint64_t)c * E->len;
        size_t n = (size_t)alcm_chan_len(E->numel, E->len, c, E->C);
        const float *y = E->x + off;
        alcm_stats st;
        if (E->r) {
            uint64_t after = E->numel - off - n; /* the next channel's, at most */
            size_t ahead = (size_t)(after < n ? after : n);
            if (E->yout) { /* y is kept for the later passes: written past the caches */
                ybuf = E->yout + off;
                alcm_stats_compute_sum_nt(y, E->r + off, ybuf, n, ahead, &st);
            } else {
                alcm_stats_compute_sum(y, E->r + off, ybuf, n, ahead, &st);
            }
            y = ybuf;
        } else {
            alcm_stats_compute(y, n, &st);
        }
        if (!isfinite(st.absmax)) return ALCM_E_NONFINITE; /* an infinity or a NaN */
        float e;
        if (p->entropy_mode == ALCM_ENTROPY_MEASURED) {
            e = alcm_measured_entropy(y, n, &st);
        } else if (p->entropy_mode == ALCM_ENTROPY_FLAT) {
            e = ALCM_ENTROPY_FLAT_VALUE;
        } else {
            float f[ALCM_N_FEATURES];
            alcm_features(&st, f);
            e = alcm_predict(model, f);
        }
        alcm_genc_chan *ch = &E->ch[c];
        memset(ch, 0, sizeof *ch);
        ch->energy = st.sumsq;
        ch->absmax = (float)st.absmax;
        ch->a = st.std * alcm_det_exp((8.0 * (double)e - 4.0) * 0.69314718055994530942);
        ch->smin = alcm_alloc_smin(ch->absmax);
        ch->dense = 1.0 - st.sparsity;
        total += ch->energy;
    }
    *total_energy = total;
    return ALCM_OK;
}

/* ------------------------------------------------------------------------------------------
 * Allocation, calibration and refinement
 * ---------------------------------------------------------------------------------------- */

static double sum_dist(const alcm_genc *E)
{
    double d = 0.0;
    for (uint32_t c = 0; c < E->C; c++) d += E->ch[c].dist;
    return d;
}

/* Allocates steps for `budget` (calibrated: distortion models scaled by the measured
 * ratio of each channel) and measures every channel whose step changed. -1: infeasible. */
static int allocate_and_measure(alcm_genc *E, double budget, int calibrated)
{
    alcm_alloc_chan *ac = E->cx->alloc.p;
    uint16_t *steps = E->cx->steps.p;
    for (uint32_t c = 0; c < E->C; c++) {
        const alcm_genc_chan *ch = &E->ch[c];
        ac[c].n = (double)alcm_chan_len(E->numel, E->len, c, E->C);
        ac[c].a = ch->a;
        ac[c].energy = ch->energy;
        ac[c].smin = ch->smin;
        /* Exact zeros carry no error: scale the uniform-error model by the dense share. */
        ac[c].dscale = ch->dense > 1e-3 ? ch->dense : 1e-3;
        if (calibrated && ch->s > 0) {
            double st = (double)alcm_step((uint32_t)ch->s);
            double model = ac[c].n * st * st / 12.0;
            double k = model > 0.0 ? ch->dist / model : 1.0;
            ac[c].dscale = k < 1e-3 ? 1e-3 : k > 1e3 ? 1e3 : k;
        }
    }
    double md;
    if (alcm_allocate(ac, E->C, budget, steps, &md) != 0) return -1;
    for (uint32_t c = 0; c < E->C; c++)
        if (!calibrated || steps[c] != E->ch[c].s) measure_channel(E, c, steps[c]);
    return 0;
}

typedef struct {
    double key;
    uint32_t c;
} order_item;

static int order_cmp(const void *a, const void *b)
{
    const order_item *x = a, *y = b;
    if (x->key != y->key) return x->key > y->key ? -1 : 1;
    return x->c < y->c ? -1 : x->c > y->c;
}

/* Refines channels one grid notch at a time, largest distortion per element first, until
 * the measured total is within target. -1 when no channel can be refined any further. */
static int refine(alcm_genc *E, double target)
{
    order_item *ord = E->cx->order.p;
    double total = sum_dist(E);
    for (int round = 0; round < REFINE_ROUNDS; round++) {
        uint32_t m = 0;
        for (uint32_t c = 0; c < E->C; c++) {
            const alcm_genc_chan *ch = &E->ch[c];
            if (!(ch->dist > 0.0) || ch->smin > ALCM_STEP_MAX) continue;
            if (ch->s != 0 && ch->s <= ch->smin) continue;
            double n = (double)alcm_chan_len(E->numel, E->len, c, E->C);
            ord[m].key = ch->dist / n;
            ord[m].c = c;
            m++;
        }
        if (m == 0) return -1;
        qsort(ord, m, sizeof *ord, order_cmp);
        for (uint32_t k = 0; k < m; k++) {
            uint32_t c = ord[k].c;
            alcm_genc_chan *ch = &E->ch[c];
            int32_t s;
            if (ch->s == 0) {
                double n = (double)alcm_chan_len(E->numel, E->len, c, E->C);
                s = alcm_alloc_index(sqrt(3.0 * ch->energy / n)); /* model D = energy / 4 */
                if (s < ch->smin) s = ch->smin;
            } else {
                s = ch->s - 1;
            }
            double before = ch->dist;
            measure_channel(E, c, s);
            total += ch->dist - before;
            if (total <= target) {
                total = sum_dist(E); /* resynchronise the running sum once it fits */
                if (total <= target) return 0;
            }
        }
    }
    return -1;
}

/* Code width of a measured channel: the narrowest whose escapes stay rare (measured with
 * zstd and zlib on Gaussian, Laplace, sparse and Student-t codes, docs/DESIGN.md). */
static uint8_t pick_width(const alcm_genc_chan *ch, uint64_t n)
{
    if (ch->over[0] * 16 <= n) return ALCM_W2;
    if (ch->over[1] * 32 <= n) return ALCM_W4;
    if (ch->over[2] * 4 <= n) return ALCM_W8;
    return ALCM_W16;
}

static alcm_status reserve_scratch(alcm_cctx *cx, uint32_t C)
{
    size_t c = C ? C : 1;
    if (alcm_buf_reserve(&cx->chan, c * sizeof(alcm_genc_chan)) ||
        alcm_buf_reserve(&cx->alloc, c * sizeof(alcm_alloc_chan)) ||
        alcm_buf_reserve(&cx->steps, c * sizeof(uint16_t)) ||
        alcm_buf_reserve(&cx->order, c * sizeof(order_item)) ||
        alcm_buf_reserve(&cx->params, c * 6) ||
        alcm_buf_reserve(&cx->codes, ALCM_GENC_BLOCK * sizeof(uint16_t)))
        return ALCM_E_NOMEM;
    return ALCM_OK;
}

/* ------------------------------------------------------------------------------------------
 * The encoder
 * ---------------------------------------------------------------------------------------- */

static alcm_status write_blob(alcm_genc *E, const alcm_enc_job *job, double budget, double achieved,
                              float *residual, uint8_t *dst, size_t cap, size_t *len)
{
    alcm_cctx *cx = E->cx;
    alcm_chan_param *cp = cx->alloc.p; /* the allocator input is no longer needed */
    uint64_t escapes = 0;
    for (uint32_t c = 0; c < E->C; c++) {
        const alcm_genc_chan *ch = &E->ch[c];
        cp[c].levels = (uint16_t)ch->maxq;
        cp[c].step = ch->maxq ? (uint16_t)ch->s : 0;
        cp[c].width = ch->maxq ? ch->width : 0;
        if (ch->maxq && ch->width != ALCM_W16) escapes += ch->over[ch->width];
    }
    size_t prefix = alcm_frame_prefix_size(job->shape->rank, ALCM_CODEC_GRADIENT);
    if (cap < prefix + ALCM_CRC_SIZE) return ALCM_E_DST_TOO_SMALL;
    size_t end = cap - ALCM_CRC_SIZE, pos = prefix, used;
    size_t pbytes = alcm_params_stream_write(cp, E->C, cx->params.p);
    alcm_status st = ALCM_OK;
    if (pbytes) {
        st = alcm_stream_write(&cx->benc, &job->coder, cx->params.p, pbytes, dst + pos,
                               end - pos, &used);
        if (st != ALCM_OK) return st;
        pos += used;
    }
    uint64_t elems[ALCM_NWIDTH], bytes[5];
    alcm_class_sizes(cp, E->C, E->numel, E->len, elems, bytes);
    /* When every stream fits even stored, nothing can fail once the residual changes, so
     * it is updated while the codes are packed (the residual is untouched on error). */
    uint64_t worst = escapes ? ALCM_STREAM_HEADER + 2 * escapes : 0;
    for (int k = 0; k < 5; k++) worst += bytes[k] ? ALCM_STREAM_HEADER + bytes[k] : 0;
    E->update_r = residual && worst <= end - pos ? residual : NULL;
    E->n_esc = 0;
    E->zz = cx->codes.p;
    for (unsigned wc = 0; wc < ALCM_NWIDTH; wc++) {
        st = alcm_genc_write_class(E, &job->coder, wc, bytes, dst + pos, end - pos, &used);
        if (st != ALCM_OK) return st;
        pos += used;
    }
    /* Escapes were counted by the measuring pass; the packing pass found others only if
     * the input changed in between. */
    if (E->n_esc != escapes) return ALCM_E_INPUT_CHANGED;
    if (escapes) {
        st = alcm_stream_write(&cx->benc, &job->coder, E->esc, (size_t)escapes * 2, dst + pos,
                               end - pos, &used);
        if (st != ALCM_OK) return st;
        pos += used;
    }
    alcm_frame f;
    memset(&f, 0, sizeof f);
    f.codec = ALCM_CODEC_GRADIENT;
    f.dtype = ALCM_DTYPE_F32;
    f.backend = (uint8_t)job->coder.backend;
    f.shape = *job->shape;
    f.raw_size = E->numel * sizeof(float);
    f.grad.budget = budget;
    f.grad.achieved = achieved;
    f.grad.channel_len = E->len;
    f.grad.n_channels = E->C;
    f.grad.layout = ALCM_GRAD_LAYOUT_CLASSES;
    f.grad.escapes = escapes;
    f.grad.param_bytes = pbytes;
    alcm_frame_finish(dst, &f, pos, len);
    return ALCM_OK;
}

/* Zeroes channel c of the residual if it holds an infinity or a NaN (an input rewritten
 * during the call); 1 when it did. */
static int zero_if_nonfinite(const alcm_genc *E, float *r, uint32_t c)
{
    uint64_t off = (uint64_t)c * E->len;
    size_t n = (size_t)alcm_chan_len(E->numel, E->len, c, E->C);
    if (all_finite(r + off, n)) return 0;
    memset(r + off, 0, n * sizeof *r);
    return 1;
}

/* The residual after decoding, into out: of every channel, or (packed: the packing pass or,
 * with a second buffer, the measurements wrote the others) of the zeroed ones only, which
 * get y = x + E->r. Unpacked channels are updated in place (out is E->r, or with y given
 * the buffer that holds y, where zeroed channels already are). An input rewritten during
 * the call can make a channel non-finite: it is zeroed (never kept to poison later steps)
 * and ALCM_E_INPUT_CHANGED returned. */
static alcm_status update_residual(const alcm_genc *E, float *out, int packed)
{
    alcm_status st = ALCM_OK;
    for (uint32_t c = 0; c < E->C; c++) {
        const alcm_genc_chan *ch = &E->ch[c];
        if (packed && ch->maxq) continue;
        uint64_t off = (uint64_t)c * E->len;
        size_t n = (size_t)alcm_chan_len(E->numel, E->len, c, E->C);
        if (ch->maxq == 0) {
            if (!E->y_given && !(E->ynext && ch->held == 0)) /* else y is already there */
                for (size_t i = 0; i < n; i++) out[off + i] = E->x[off + i] + E->r[off + i];
        } else {
            float step = alcm_step((uint32_t)ch->s);
            alcm_q_residual(E->y_given ? NULL : E->x + off, out + off, n, step, 1.0f / step,
                            E->thr);
        }
        if (zero_if_nonfinite(E, out, c)) st = ALCM_E_INPUT_CHANGED;
    }
    return st;
}

/* The tensor x + r stored losslessly; the new residual, in out (r or the job's r_next), is
 * zero. */
static alcm_status fallback_lossless(alcm_cctx *cx, const alcm_enc_job *job, const float *x,
                                     const float *r, float *out, uint8_t *dst, size_t cap,
                                     size_t *len, alcm_info *info)
{
    alcm_status st = alcm_lossless_float_encode(cx, job, ALCM_DTYPE_F32, x, r, dst, cap, len);
    if (st != ALCM_OK) return st;
    if (out) memset(out, 0, (size_t)job->numel * sizeof(float));
    info->rel_l2_error = 0.0;
    info->mean_bits = 32.0;
    info->pruned_fraction = 0.0;
    info->exact = 1;
    return ALCM_OK;
}

/* One encode's state over x (+ r) in the channel layout of the job. */
static alcm_status genc_init(alcm_genc *E, alcm_cctx *cx, const alcm_enc_job *job,
                             const float *x, const float *r)
{
    memset(E, 0, sizeof *E);
    E->cx = cx;
    E->x = x;
    E->r = r;
    E->numel = job->numel;
    return alcm_channel_layout(job->shape, job->params->block_size, &E->len, &E->C);
}

alcm_status alcm_gradient_analyse(alcm_cctx *cx, const alcm_enc_job *job, const float *x,
                                  const float *r, alcm_genc_chan *chan, double *energy)
{
    alcm_genc E;
    alcm_status st = genc_init(&E, cx, job, x, r);
    if (st != ALCM_OK) return st;
    E.ch = chan;
    return channel_stats(&E, job->params, energy);
}

alcm_status alcm_gradient_encode(alcm_cctx *cx, const alcm_enc_job *job, const float *x,
                                 float *residual, uint8_t *dst, size_t cap, size_t *len,
                                 alcm_info *info)
{
    const alcm_params *p = job->params;
    /* A second residual buffer gets the new residual: from the measurements with kept
     * codes; else the statistics write y = x + r there, the later passes read y alone, and
     * the packing pass overwrites it with the new residual (docs/DESIGN.md, "Error
     * feedback"). */
    float *r_next = residual ? job->r_next : NULL;
    const int keep = !cx->remake_codes && job->numel <= ALCM_GENC_KEEP_CODES_MAX;
    const int y_given = r_next && !keep;
    /* Above ALCM_GENC_YNEXT_ABOVE elements the statistics write y there with kept codes too,
     * and the measurements read it in place of x and r. */
    const int y_next = r_next && keep && job->numel > ALCM_GENC_YNEXT_ABOVE;
    if ((y_given || y_next) && job->chan) return ALCM_E_INTERNAL; /* y would not be written */
    alcm_genc E; /* E.r: what is added to x (none once y is the input) */
    alcm_status st = genc_init(&E, cx, job, x, residual);
    if (st != ALCM_OK) return st;
    if ((st = reserve_scratch(cx, E.C)) != ALCM_OK) return st;
    info->n_channels = E.C;

    double energy;
    if (job->chan) {
        E.ch = job->chan;
        energy = job->chan_energy;
    } else {
        E.ch = cx->chan.p;
        E.yout = y_given || y_next ? r_next : NULL;
        if ((st = channel_stats(&E, p, &energy)) != ALCM_OK) return st;
    }
    if (y_given) { /* from here on y, in the second buffer, is the input */
        x = E.x = residual = r_next;
        E.r = NULL;
        r_next = NULL;
    }
    E.y_given = y_given;
    float *rout = r_next ? r_next : residual; /* where the new residual goes */
    if (job->energy_out) *job->energy_out = energy;

    /* Budget split: total squared error E, of which pruning may take half. */
    double f = p->error_budget * (0.5 + 0.5 * p->aggressiveness);
    double total = f * f * energy;
    double target = total * (1.0 - BUDGET_MARGIN);
    alcm_prune pr = {0};
    if (p->prune_ratio > 0.0) {
        st = alcm_select_prune(x, E.r, (size_t)E.numel, p->prune_ratio, total * 0.5,
                               &cx->select, &pr);
        if (st != ALCM_OK) return st;
    }
    E.thr = pr.threshold;
    if (keep) {
        if (alcm_buf_reserve(&cx->kept, (size_t)E.numel * sizeof(uint16_t))) return ALCM_E_NOMEM;
        E.kept = cx->kept.p;
        E.rnext = r_next;
        E.ynext = y_next;
    }

    if (allocate_and_measure(&E, target - pr.energy, 0) != 0)
        return fallback_lossless(cx, job, x, E.r, rout, dst, cap, len, info);
    double d = sum_dist(&E);
    if (d < CALIBRATE_BELOW * target) {
        /* The model over-estimated the error (coarse steps, sparse data): re-allocate with
         * each channel's measured distortion ratio. */
        if (allocate_and_measure(&E, target, 1) != 0)
            return fallback_lossless(cx, job, x, E.r, rout, dst, cap, len, info);
        d = sum_dist(&E);
    }
    if (d > target) {
        if (refine(&E, target) != 0)
            return fallback_lossless(cx, job, x, E.r, rout, dst, cap, len, info);
        d = sum_dist(&E);
    }

    /* The statistics found every value finite; a measured distortion that is not finite
     * means the input changed since (a NaN or an infinity was quantised). Kept codes agree
     * with their measurement, so no later pass would notice: stop here, with the residual
     * untouched. */
    if (!isfinite(d)) return ALCM_E_INPUT_CHANGED;
    double bits = 0.0;
    for (uint32_t c = 0; c < E.C; c++) {
        alcm_genc_chan *ch = &E.ch[c];
        uint64_t n = alcm_chan_len(E.numel, E.len, c, E.C);
        ch->width = ch->maxq ? pick_width(ch, n) : 0;
        if (ch->maxq) bits += (double)n * alcm_det_log2(2.0 * ch->maxq + 1.0);
    }
    double achieved = energy > 0.0 ? sqrt(d / energy) : 0.0;
    if (achieved > p->error_budget) achieved = p->error_budget;
    if ((st = write_blob(&E, job, p->error_budget, achieved, r_next ? NULL : residual, dst, cap,
                         len)) != ALCM_OK) {
        /* Only an input rewritten during the call fails a pass that updates the residual:
         * the channels it left non-finite are zeroed, never kept to poison later steps. */
        if (E.update_r)
            for (uint32_t c = 0; c < E.C; c++) zero_if_nonfinite(&E, residual, c);
        return st;
    }
    if (rout && (st = update_residual(&E, rout, r_next || E.update_r)) != ALCM_OK) {
        *len = 0;
        return st;
    }

    info->rel_l2_error = achieved;
    info->mean_bits = E.numel ? bits / (double)E.numel : 0.0;
    info->pruned_fraction = E.numel ? (double)pr.count / (double)E.numel : 0.0;
    info->exact = 0;
    return ALCM_OK;
}
