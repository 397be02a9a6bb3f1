/* segmented.c - the segmented gradient codec (docs/FORMAT.md, codec 5): a flat tensor cut
 * at caller-given element offsets and, above ALCM_CHUNK_ABOVE elements, into automatic
 * chunks at channel boundaries; each piece encoded as its own gradient blob under the full
 * error budget, the inner blobs concatenated in element order into one outer blob. The
 * pieces are encoded, and decoded, by the context's worker threads (docs/DESIGN.md,
 * "Threads"); the bytes depend on the input and params only. */
#include <math.h>
#include <string.h>

#include "alcm_tools.h"
#include "bytes.h"
#include "ctx.h"
#include "gradient_enc.h"
#include "workers.h"

/* One inner blob of an encode: its elements and what encoding it gave. */
typedef struct {
    uint64_t start, n;
    uint32_t block;    /* block_size of the inner encode (its channel length) */
    size_t used;       /* inner blob bytes */
    double energy;     /* Σ (x + r)² */
    alcm_info info;
    alcm_genc_chan *chan; /* its channel statistics, when analysed before the writing */
    uint32_t n_chan;      /* its channels (rank-1 layout), when analysed */
} piece;

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

int alcm_segmented_wanted(const alcm_params *p, const alcm_shape *shape, uint64_t numel)
{
    if (p->n_segments) return 1;
    uint64_t len;
    uint32_t C;
    if (alcm_channel_layout(shape, p->block_size, &len, &C) != ALCM_OK) return 0;
    return alcm_chunk_count(numel, len, C) > 1;
}

alcm_status alcm_segmented_check(const alcm_params *p, uint64_t numel)
{
    for (uint32_t k = 0; k < p->n_segments; k++) {
        if (p->segments[k] > numel) return ALCM_E_ARG;
        if (k && p->segments[k] < p->segments[k - 1]) return ALCM_E_ARG;
    }
    return ALCM_OK;
}

/* Appends the chunks of [start, start + n), channels of len, to out (NULL: counts). */
static uint32_t add_chunks(piece *out, uint32_t at, uint64_t start, uint64_t n, uint64_t len,
                           uint32_t block)
{
    uint64_t C = (n + len - 1) / len;
    uint32_t K = alcm_chunk_count(n, len, C);
    for (uint32_t k = 0; k < K; k++) {
        if (!out) continue;
        uint64_t c0 = C * k / K, c1 = C * (k + 1) / K;
        uint64_t a = c0 * len, b = c1 * len < n ? c1 * len : n;
        memset(&out[at + k], 0, sizeof out[at + k]);
        out[at + k].start = start + a;
        out[at + k].n = b - a;
        out[at + k].block = K > 1 ? (uint32_t)len : block;
    }
    return at + K;
}

/* The pieces of an encode into out (NULL: only counted); returns their count. Without
 * segments the channel layout is the whole tensor's (rank >= 2: rows), so every chunk has
 * the channels the unchunked encode would have; a caller's segment is rank 1. */
static uint32_t plan_pieces(const alcm_enc_job *job, piece *out)
{
    const alcm_params *p = job->params;
    if (!p->n_segments) {
        uint64_t len;
        uint32_t C;
        if (alcm_channel_layout(job->shape, p->block_size, &len, &C) != ALCM_OK || !job->numel)
            return 0;
        return add_chunks(out, 0, 0, job->numel, len, (uint32_t)len);
    }
    uint32_t at = 0;
    uint64_t start = 0;
    for (uint32_t k = 0; k <= p->n_segments; k++) {
        uint64_t stop = k < p->n_segments ? p->segments[k] : job->numel;
        if (stop <= start) continue;
        uint64_t n = stop - start, b = p->block_size ? p->block_size : ALCM_DEFAULT_BLOCK;
        at = add_chunks(out, at, start, n, n < b ? n : b, p->block_size);
        start = stop;
    }
    return at;
}

static alcm_cctx *worker_cctx(alcm_cctx *cx, unsigned worker)
{
    return worker ? cx->sub[worker - 1] : cx;
}

/* The encode job of piece pc: rank 1, its own channel length, no segments. */
static void piece_job(const alcm_enc_job *job, const piece *pc, alcm_params *sp,
                      alcm_shape *sh, alcm_enc_job *sj)
{
    *sp = *job->params;
    sp->segments = NULL;
    sp->n_segments = 0;
    sp->block_size = pc->block;
    alcm_shape_1d(sh, pc->n);
    memset(sj, 0, sizeof *sj);
    sj->params = sp;
    sj->shape = sh;
    sj->numel = pc->n;
    sj->coder = job->coder;
}

/* Encodes piece pc of the tensor into dst[0..cap). With a second residual buffer
 * (job->r_next) the piece writes its new residual into its slice of it, the residual
 * untouched; otherwise its residual slice is updated in place. */
static alcm_status encode_piece(alcm_cctx *cx, const alcm_enc_job *job, const float *x,
                                float *residual, piece *pc, uint8_t *dst, size_t cap)
{
    alcm_params sp;
    alcm_shape sh;
    alcm_enc_job sj;
    piece_job(job, pc, &sp, &sh, &sj);
    sj.chan = pc->chan;
    sj.chan_energy = pc->energy;
    sj.energy_out = &pc->energy;
    memset(&pc->info, 0, sizeof pc->info);
    pc->info.exact = 1;
    float *r = residual ? residual + pc->start : NULL;
    if (r && job->r_next) sj.r_next = job->r_next + pc->start;
    alcm_status st = alcm_gradient_encode(cx, &sj, x + pc->start, r, dst, cap, &pc->used,
                                          &pc->info);
    if (st == ALCM_OK && pc->info.exact) /* stored exactly: the error is 0 anyway */
        pc->energy = segment_energy(x + pc->start, NULL, (size_t)pc->n);
    return st;
}

/* The parallel encode: pieces handed out in order; a piece whose place in dst is known
 * (every earlier one written) is encoded there directly, any other into its worker's
 * scratch and copied to its place once the pieces before it are written. */
typedef struct {
    alcm_workers w;      /* first: the job callback receives it */
    alcm_cctx *cx;
    const alcm_enc_job *job;
    const float *x;
    float *residual;
    piece *pieces;
    uint8_t *dst;
    size_t end;          /* dst capacity before the outer CRC */
    uint32_t next_write; /* first piece not yet given its place (under w.mu) */
    size_t pos;          /* where it goes (under w.mu) */
} par_enc;

static alcm_status enc_job(alcm_workers *w, unsigned worker, uint32_t k)
{
    par_enc *E = (par_enc *)w;
    alcm_cctx *c = worker_cctx(E->cx, worker);
    piece *pc = &E->pieces[k];
    pthread_mutex_lock(&w->mu);
    int direct = E->next_write == k;
    size_t at = E->pos;
    pthread_mutex_unlock(&w->mu);
    uint8_t *out;
    size_t cap;
    if (direct) {
        out = E->dst + at;
        cap = E->end - at;
    } else {
        cap = alcm_blob_worst((size_t)pc->n * sizeof(float));
        if (alcm_buf_reserve(&c->out, cap)) return ALCM_E_NOMEM;
        out = c->out.p;
    }
    alcm_status st = encode_piece(c, E->job, E->x, E->residual, pc, out, cap);
    if (st != ALCM_OK) return st;
    pthread_mutex_lock(&w->mu);
    while (E->next_write != k && !alcm_workers_failed_before(w, k))
        pthread_cond_wait(&w->cv, &w->mu);
    if (E->next_write != k) { /* an earlier piece failed: this one is not needed */
        pthread_mutex_unlock(&w->mu);
        return ALCM_OK;
    }
    at = E->pos;
    if (!direct && pc->used > E->end - at) {
        pthread_mutex_unlock(&w->mu);
        return ALCM_E_DST_TOO_SMALL;
    }
    E->pos = at + pc->used;
    E->next_write = k + 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    if (!direct) memcpy(E->dst + at, out, pc->used); /* its own range: no lock needed */
    return ALCM_OK;
}

/* The analysis phase of an encode that updates the residual in place: every piece's
 * channel statistics are taken, and x + r checked finite, before any piece updates its
 * slice of the residual (a later piece's ALCM_E_NONFINITE would otherwise come after
 * earlier slices changed). The writing phase reuses the statistics, so the check costs no
 * pass of its own. With a second residual buffer the residual is only read, and the
 * pieces are written at once. */
typedef struct {
    alcm_workers w;      /* first: the job callback receives it */
    alcm_cctx *cx;
    const alcm_enc_job *job;
    const float *x;
    const float *r;
    piece *pieces;
} par_analyse;

static alcm_status analyse_job(alcm_workers *w, unsigned worker, uint32_t k)
{
    const par_analyse *A = (const par_analyse *)w;
    piece *pc = &A->pieces[k];
    alcm_params sp;
    alcm_shape sh;
    alcm_enc_job sj;
    piece_job(A->job, pc, &sp, &sh, &sj);
    return alcm_gradient_analyse(worker_cctx(A->cx, worker), &sj, A->x + pc->start,
                                 A->r + pc->start, pc->chan, &pc->energy);
}

/* Channels of piece pc (its rank-1 layout). */
static uint32_t piece_channels(const piece *pc)
{
    uint64_t len;
    uint32_t C;
    alcm_shape sh;
    alcm_shape_1d(&sh, pc->n);
    return alcm_channel_layout(&sh, pc->block, &len, &C) == ALCM_OK ? C : 0;
}

/* Gives every piece its share of cx->stats, one entry per channel. */
static alcm_status reserve_stats(alcm_cctx *cx, piece *pieces, uint32_t count)
{
    size_t total = 0;
    for (uint32_t k = 0; k < count; k++) total += pieces[k].n_chan = piece_channels(&pieces[k]);
    if (alcm_buf_reserve(&cx->stats, (total ? total : 1) * sizeof(alcm_genc_chan)))
        return ALCM_E_NOMEM;
    alcm_genc_chan *next = cx->stats.p;
    for (uint32_t k = 0; k < count; k++) {
        pieces[k].chan = next;
        next += pieces[k].n_chan;
    }
    return ALCM_OK;
}

/* Makes sure workers 1 .. threads-1 have their contexts. */
static alcm_status ensure_sub_cctx(alcm_cctx *cx, unsigned threads)
{
    if (threads <= 1 || cx->n_sub >= threads - 1) return ALCM_OK;
    alcm_cctx **s = realloc(cx->sub, (threads - 1) * sizeof *s);
    if (!s) return ALCM_E_NOMEM;
    cx->sub = s;
    while (cx->n_sub < threads - 1) {
        if (!(s[cx->n_sub] = alcm_cctx_create())) return ALCM_E_NOMEM;
        cx->n_sub++;
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

    uint32_t count = plan_pieces(job, NULL);
    if (alcm_buf_reserve(&cx->pieces, (count ? count : 1) * sizeof(piece))) return ALCM_E_NOMEM;
    piece *pieces = cx->pieces.p;
    plan_pieces(job, pieces);

    /* With a second buffer the residual is only read. Otherwise a piece's residual slice
     * is updated when it is encoded; if the blob might still not fit after that (dst below
     * the worst case of every piece), the residual is kept so that an error leaves it as it
     * was. */
    const int in_place = residual && !job->r_next;
    size_t worst = prefix;
    for (uint32_t k = 0; in_place && k < count; k++) {
        size_t b = alcm_blob_worst((size_t)pieces[k].n * sizeof(float));
        worst = worst > SIZE_MAX - b ? SIZE_MAX : worst + b;
    }
    float *saved = NULL;
    if (in_place && worst > end) {
        saved = malloc((size_t)job->numel * sizeof(float));
        if (!saved) return ALCM_E_NOMEM;
        memcpy(saved, residual, (size_t)job->numel * sizeof(float));
    }

    unsigned threads = cx->threads > 1 ? cx->threads : 1;
    if (threads > count) threads = count ? count : 1;
    alcm_status st = ensure_sub_cctx(cx, threads);
    if (st == ALCM_OK && in_place && count > 1)
        st = reserve_stats(cx, pieces, count);
    if (st == ALCM_OK && in_place && count > 1) {
        par_analyse A = {.w = {.run = analyse_job, .n_jobs = count}, .cx = cx, .job = job,
                         .x = x, .r = residual, .pieces = pieces};
        st = alcm_workers_run(&A.w, threads);
    }
    size_t pos = prefix;
    if (st == ALCM_OK && threads == 1) {
        for (uint32_t k = 0; k < count && st == ALCM_OK; k++) {
            st = encode_piece(cx, job, x, residual, &pieces[k], dst + pos, end - pos);
            if (st == ALCM_OK) pos += pieces[k].used;
        }
    } else if (st == ALCM_OK) {
        par_enc E = {.w = {.run = enc_job, .n_jobs = count}, .cx = cx, .job = job, .x = x,
                     .residual = residual, .pieces = pieces, .dst = dst, .end = end,
                     .next_write = 0, .pos = prefix};
        st = alcm_workers_run(&E.w, threads);
        pos = E.pos;
    }
    if (st != ALCM_OK) {
        if (saved) memcpy(residual, saved, (size_t)job->numel * sizeof(float));
        free(saved);
        return st;
    }
    free(saved);

    /* Totals in piece order: the same figures for any thread count. */
    double e_total = 0.0, d_total = 0.0, bits = 0.0, pruned = 0.0, worst_err = 0.0;
    uint32_t channels = 0;
    int exact = 1;
    for (uint32_t k = 0; k < count; k++) {
        const piece *pc = &pieces[k];
        const alcm_info *si = &pc->info;
        e_total += pc->energy;
        d_total += si->rel_l2_error * si->rel_l2_error * pc->energy;
        if (si->rel_l2_error > worst_err) worst_err = si->rel_l2_error;
        bits += si->mean_bits * (double)pc->n;
        pruned += si->pruned_fraction * (double)pc->n;
        channels += si->n_channels;
        exact &= si->exact;
    }

    /* The outer payload CRC, from the inner blobs' own CRCs: no second pass over them. */
    uint32_t crc = 0;
    size_t at = prefix;
    for (uint32_t k = 0; k < count; k++) {
        crc = alcm_crc32_combine(crc, alcm_blob_crc_v2(dst + at, pieces[k].used),
                                 pieces[k].used);
        at += pieces[k].used;
    }
    if (at != pos) return ALCM_E_INTERNAL;

    alcm_frame f;
    memset(&f, 0, sizeof f);
    f.codec = ALCM_CODEC_SEGMENTED;
    f.dtype = ALCM_DTYPE_F32;
    f.backend = (uint8_t)job->coder.backend;
    f.shape = *job->shape;
    f.raw_size = job->numel * sizeof(float);
    f.seg.budget = p->error_budget;
    f.seg.max_error = worst_err;
    f.seg.count = count;
    alcm_frame_finish_crc(dst, &f, pos, crc, len);

    double n_all = (double)job->numel;
    info->rel_l2_error = e_total > 0.0 ? sqrt(d_total / e_total) : 0.0;
    if (info->rel_l2_error > worst_err) info->rel_l2_error = worst_err;
    info->mean_bits = job->numel ? bits / n_all : 0.0;
    info->pruned_fraction = job->numel ? pruned / n_all : 0.0;
    info->n_channels = channels;
    info->exact = exact;
    info->n_segments = count;
    info->max_segment_error = worst_err;
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

/* One inner blob of a decode: where it starts, its first element, its parsed header. */
typedef struct {
    size_t at;
    uint64_t first;
    alcm_frame g;
} inner_blob;

static alcm_status decode_inner(alcm_dctx *dx, const uint8_t *blob, const inner_blob *ib,
                                float *dst)
{
    /* Every inner blob passes every check of docs/FORMAT.md, its payload CRC too. */
    alcm_status st = alcm_frame_check_payload(blob + ib->at, &ib->g);
    if (st != ALCM_OK) return st;
    if (ib->g.codec == ALCM_CODEC_GRADIENT)
        return alcm_gradient_decode(dx, blob + ib->at, &ib->g, dst + ib->first);
    return alcm_lossless_float_decode(dx, blob + ib->at, &ib->g, (uint8_t *)(dst + ib->first));
}

typedef struct {
    alcm_workers w;      /* first: the job callback receives it */
    alcm_dctx *dx;
    const uint8_t *blob;
    const inner_blob *inner;
    float *dst;
} par_dec;

static alcm_status dec_job(alcm_workers *w, unsigned worker, uint32_t k)
{
    par_dec *D = (par_dec *)w;
    alcm_dctx *d = worker ? D->dx->sub[worker - 1] : D->dx;
    return decode_inner(d, D->blob, &D->inner[k], D->dst);
}

static alcm_status ensure_sub_dctx(alcm_dctx *dx, unsigned threads)
{
    if (threads <= 1 || dx->n_sub >= threads - 1) return ALCM_OK;
    alcm_dctx **s = realloc(dx->sub, (threads - 1) * sizeof *s);
    if (!s) return ALCM_E_NOMEM;
    dx->sub = s;
    while (dx->n_sub < threads - 1) {
        if (!(s[dx->n_sub] = alcm_dctx_create())) return ALCM_E_NOMEM;
        dx->n_sub++;
    }
    return ALCM_OK;
}

/* Version 2: the outer payload CRC from the inner blobs' header bytes and stored payload
 * CRCs, each of which decode_inner checks before decoding its blob. Together the checks
 * cover every payload byte, as alcm_frame_check_payload does, without a serial pass over
 * the whole payload. */
static alcm_status check_outer_crc(const uint8_t *blob, const alcm_frame *f,
                                   const inner_blob *inner)
{
    uint32_t crc = 0;
    for (uint32_t k = 0; k < f->seg.count; k++)
        crc = alcm_crc32_combine(crc, alcm_blob_crc_v2(blob + inner[k].at,
                                                       (size_t)inner[k].g.blob_size),
                                 (size_t)inner[k].g.blob_size);
    return crc == alcm_get_u32(blob + f->payload_end) ? ALCM_OK : ALCM_E_CHECKSUM;
}

/* A blob whose inner headers fail their checks: ALCM_E_CHECKSUM when the outer payload
 * CRC does not match (damage, as alcm_decompress reports it for other codecs), else the
 * failed check's status. */
static alcm_status inner_header_error(const uint8_t *blob, const alcm_frame *f,
                                      alcm_status st)
{
    return alcm_frame_check_payload(blob, f) != ALCM_OK ? ALCM_E_CHECKSUM : st;
}

alcm_status alcm_segmented_decode(alcm_dctx *dx, const uint8_t *blob, const alcm_frame *f,
                                  float *dst)
{
    /* Every inner header is parsed and checked first (the element ranges must tile the
     * tensor before anything is decoded into it), then the payloads are decoded, in
     * parallel when the context has threads. */
    if (f->seg.count > (f->payload_end - f->payload_off) / ALCM_BLOB_MIN)
        return inner_header_error(blob, f, ALCM_E_CORRUPT);
    if (alcm_buf_reserve(&dx->inner, (f->seg.count ? f->seg.count : 1) * sizeof(inner_blob)))
        return ALCM_E_NOMEM;
    inner_blob *inner = dx->inner.p;
    size_t pos = f->payload_off;
    uint64_t off = 0;
    for (uint32_t k = 0; k < f->seg.count; k++) {
        inner[k].at = pos;
        inner[k].first = off;
        alcm_status st = alcm_segmented_next(blob, f, &pos, &off, &inner[k].g);
        if (st != ALCM_OK) return inner_header_error(blob, f, st);
    }
    if (pos != f->payload_end || off != f->numel)
        return inner_header_error(blob, f, ALCM_E_CORRUPT);
    /* Version 1: the parse checked the CRC of the whole blob. An inner blob is written in
     * its outer blob's version (docs/FORMAT.md). */
    for (uint32_t k = 0; k < f->seg.count; k++)
        if (inner[k].g.version != f->version) return inner_header_error(blob, f, ALCM_E_CORRUPT);
    if (f->version != ALCM_FORMAT_VERSION_V1 && check_outer_crc(blob, f, inner) != ALCM_OK)
        return ALCM_E_CHECKSUM;

    unsigned threads = dx->threads > 1 ? dx->threads : 1;
    if (threads > f->seg.count) threads = f->seg.count ? f->seg.count : 1;
    alcm_status st = ensure_sub_dctx(dx, threads);
    if (st != ALCM_OK) return st;
    if (threads == 1) {
        for (uint32_t k = 0; k < f->seg.count; k++)
            if ((st = decode_inner(dx, blob, &inner[k], dst)) != ALCM_OK) return st;
        return ALCM_OK;
    }
    par_dec D = {.w = {.run = dec_job, .n_jobs = f->seg.count}, .dx = dx, .blob = blob,
                 .inner = inner, .dst = dst};
    return alcm_workers_run(&D.w, threads);
}
