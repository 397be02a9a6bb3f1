/* path_rsag.c - the scalable path: a compressed reduce-scatter (rank r owns shard r, sums
 * its p pieces in rank order and re-encodes the sum once) and an allgather of the encoded
 * shard sums. Per rank, bytes received and decode work are O(n) whatever p is. */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "mpi_internal.h"

/* Words per rank in the piece exchange (alltoall): piece length (negative: failed) and the
 * piece's absolute error bound. */
#define RS_WORDS 2
/* Words per rank in the shard exchange (allgather): encoded shard length (negative: the
 * owner could not build it), the shard's error bound, the rank's input norm. */
#define AG_WORDS 3

size_t mpi_shard_lo(size_t n, int p, int s)
{
    return (size_t)((uint64_t)n * (uint64_t)s / (uint64_t)p); /* n <= 2^24 */
}

int mpi_decode_exact(mpi_comm_ctx *ctx, const unsigned char *blob, size_t len, float *out,
                     size_t n)
{
    alcm_header h;
    size_t got = 0;
    size_t bytes = n * sizeof(float);
    if (alcm_blob_header(blob, len, &h) != ALCM_OK || h.dtype != ALCM_DTYPE_F32 ||
        h.raw_bytes != bytes)
        return -1;
    if (alcm_decompress(ctx->dctx, blob, len, out, bytes, &got) != ALCM_OK || got != bytes)
        return -1;
    return 0;
}

void mpi_rsag_reset(const mpi_seg *s)
{
    mpi_slots_reset_path(s->ctx, s->key->tag, s->key->count, s->key->seg, ALCM_PATH_RSAG);
}

int mpi_path_rsag(const mpi_seg *s, mpi_seg_figures *f)
{
    mpi_comm_ctx *ctx = s->ctx;
    const int p = ctx->size, me = ctx->rank;
    const size_t n = s->n;
    const int safe = s->opts->result_budget > 0;
    const uint32_t tag = s->key->tag, seg = s->key->seg;
    const uint64_t count = s->key->count;

    /* 1. Encode the p-1 pieces that other ranks own, one stream per shard. */
    double t0 = mpi_now();
    size_t cap = 0;
    for (int r = 0; r < p; r++)
        if (r != me)
            cap += alcm_compress_bound((mpi_shard_lo(n, p, r + 1) - mpi_shard_lo(n, p, r)) * 4);
    const size_t my_lo = mpi_shard_lo(n, p, me), my_n = mpi_shard_lo(n, p, me + 1) - my_lo;
    const size_t my_bytes = my_n * sizeof(float);
    int enc_failed = mpi_grow((void **)&ctx->blob, &ctx->blob_cap, cap) != 0;
    alcm_stream_config cfg;
    mpi_stream_config(s->opts, s->budget, &cfg);
    double *w = ctx->wout;
    size_t off = 0;
    for (int r = 0; r < p; r++) {
        w[r * RS_WORDS] = 0.0;
        w[r * RS_WORDS + 1] = 0.0;
        ctx->sdispls[r] = (int)(off <= INT_MAX ? off : 0);
        ctx->scounts[r] = 0;
        if (r == me) continue;
        size_t lo = mpi_shard_lo(n, p, r), k = mpi_shard_lo(n, p, r + 1) - lo, len = 0;
        alcm_status st = ALCM_E_NOMEM;
        if (!enc_failed) {
            mpi_slot *slot = mpi_slot_get(ctx, tag, count, seg, 1u + (uint32_t)r, &cfg);
            if (slot) {
                slot->use_daemon = s->opts->use_daemon;
                st = mpi_encode(ctx, slot, s->src + lo, k, ctx->blob + off, cap - off, &len,
                                &f->info);
                f->via_daemon = slot->via_daemon == 1;
            }
        }
        if (st != ALCM_OK || off + len > INT_MAX) {
            if (!enc_failed)
                mpi_debug("shard %d piece: cannot encode (%s): the call falls back", r,
                          alcm_strerror(st));
            enc_failed = 1;
            w[r * RS_WORDS] = MPI_SIZE_FAILED;
            continue;
        }
        f->encoded = 1;
        w[r * RS_WORDS] = (double)len;
        w[r * RS_WORDS + 1] = safe ? f->info.rel_l2_error * mpi_l2(s->src + lo, k) : 0.0;
        ctx->scounts[r] = (int)len;
        off += len;
    }
    f->enc_seconds += mpi_now() - t0;
    f->enc_bytes += (n - my_n) * sizeof(float);
    if (enc_failed) { /* send nothing: the owners see the failure words */
        for (int r = 0; r < p; r++) {
            ctx->scounts[r] = 0;
            if (r != me) w[r * RS_WORDS] = MPI_SIZE_FAILED;
        }
    }
    f->codec_seconds += mpi_now() - t0;

    /* 2. Pieces to their owners. */
    int rc = PMPI_Alltoall(w, RS_WORDS, MPI_DOUBLE, ctx->win, RS_WORDS, MPI_DOUBLE, ctx->comm);
    if (rc != MPI_SUCCESS) return rc;
    f->sent += (uint64_t)(p - 1) * RS_WORDS * sizeof(double);
    f->wire_sent += (uint64_t)(p - 1) * RS_WORDS * sizeof(double);
    f->wire_recv += (uint64_t)(p - 1) * RS_WORDS * sizeof(double);
    int owner_failed = 0;
    uint64_t rtotal = 0;
    for (int r = 0; r < p; r++) {
        double L = r == me ? 0.0 : ctx->win[r * RS_WORDS];
        ctx->counts[r] = 0;
        ctx->displs[r] = (int)(rtotal <= INT_MAX ? rtotal : 0);
        if (!(L >= 0.0) || rtotal + L > (double)INT_MAX) {
            owner_failed = 1;
            continue;
        }
        ctx->counts[r] = (int)L;
        rtotal += (uint64_t)L;
    }
    if (mpi_grow((void **)&ctx->xbuf, &ctx->xbuf_cap, (size_t)rtotal + 1) != 0)
        return MPI_ERR_NO_MEM;
    rc = PMPI_Alltoallv(ctx->blob, ctx->scounts, ctx->sdispls, MPI_BYTE, ctx->xbuf, ctx->counts,
                        ctx->displs, MPI_BYTE, ctx->comm);
    if (rc != MPI_SUCCESS) return rc;
    f->sent += off;
    f->wire_sent += off;
    f->received += rtotal;
    f->wire_recv += rtotal;

    /* 3. The owner sums its shard in rank order (its own piece exact) and re-encodes it. */
    t0 = mpi_now();
    if (mpi_grow((void **)&ctx->acc, &ctx->acc_cap, my_bytes ? my_bytes : 4) != 0 ||
        mpi_grow((void **)&ctx->tmp, &ctx->tmp_cap, my_bytes ? my_bytes : 4) != 0)
        return MPI_ERR_NO_MEM;
    float *acc = ctx->acc;
    double bound = 0.0;
    for (int r = 0; r < p && !owner_failed; r++) {
        const float *piece = s->src + my_lo;
        if (r != me) {
            if (mpi_decode_exact(ctx, ctx->xbuf + ctx->displs[r], (size_t)ctx->counts[r], ctx->tmp,
                             my_n) != 0) {
                mpi_debug("the shard piece of rank %d is damaged: the call falls back", r);
                owner_failed = 1;
                break;
            }
            piece = ctx->tmp;
            bound += ctx->win[r * RS_WORDS + 1];
            f->dec_bytes += my_bytes;
        }
        if (r == 0) memcpy(acc, piece, my_bytes);
        else
            for (size_t i = 0; i < my_n; i++) acc[i] += piece[i];
    }
    f->dec_seconds += mpi_now() - t0;
    size_t olen = 0;
    alcm_info oinfo;
    memset(&oinfo, 0, sizeof oinfo);
    if (!owner_failed) {
        alcm_stream_config ocfg;
        mpi_stream_config(s->opts, s->owner_budget, &ocfg);
        mpi_slot *os = mpi_slot_get(ctx, tag, count, seg, MPI_PART_OWNER, &ocfg);
        alcm_status st = ALCM_E_NOMEM;
        if (os && mpi_grow((void **)&ctx->oblob, &ctx->oblob_cap,
                           alcm_compress_bound(my_bytes)) == 0) {
            os->use_daemon = s->opts->use_daemon;
            double te = mpi_now();
            st = mpi_encode(ctx, os, acc, my_n, ctx->oblob, ctx->oblob_cap, &olen, &oinfo);
            f->enc_seconds += mpi_now() - te;
            f->enc_bytes += my_bytes;
        }
        if (st != ALCM_OK || olen > INT_MAX) {
            mpi_debug("shard sum: cannot encode (%s): the call falls back", alcm_strerror(st));
            owner_failed = 1;
        } else if (safe) {
            bound += oinfo.rel_l2_error * mpi_l2(acc, my_n);
        }
    }
    w = ctx->wout;
    w[0] = owner_failed ? MPI_SIZE_FAILED : (double)olen;
    w[1] = bound;
    w[2] = safe ? mpi_l2(s->src, n) : 0.0;
    f->codec_seconds += mpi_now() - t0;

    /* 4. Every rank gets every encoded shard sum. */
    rc = PMPI_Allgather(w, AG_WORDS, MPI_DOUBLE, ctx->win, AG_WORDS, MPI_DOUBLE, ctx->comm);
    if (rc != MPI_SUCCESS) return rc;
    f->sent += AG_WORDS * sizeof(double);
    f->wire_sent += (uint64_t)(p - 1) * AG_WORDS * sizeof(double);
    f->wire_recv += (uint64_t)(p - 1) * AG_WORDS * sizeof(double);
    uint64_t total = 0;
    int failed = 0;
    for (int r = 0; r < p; r++) {
        double L = ctx->win[r * AG_WORDS];
        ctx->counts[r] = 0;
        ctx->displs[r] = (int)(total <= INT_MAX ? total : 0);
        if (!(L >= 0.0) || total + L > (double)INT_MAX) {
            failed = 1;
            continue;
        }
        ctx->counts[r] = (int)L;
        total += (uint64_t)L;
    }
    if (failed) {
        mpi_rsag_reset(s);
        return MPI_ALCM_FALLBACK;
    }
    if (oinfo.raw_bytes) {
        f->info = oinfo;
        f->encoded = 1;
    }
    if (mpi_grow((void **)&ctx->xbuf, &ctx->xbuf_cap, (size_t)total + 1) != 0) return MPI_ERR_NO_MEM;
    rc = PMPI_Allgatherv(ctx->oblob, (int)olen, MPI_BYTE, ctx->xbuf, ctx->counts, ctx->displs,
                         MPI_BYTE, ctx->comm);
    if (rc != MPI_SUCCESS) return rc;
    f->sent += olen;
    f->received += total - olen;
    f->wire_recv += total - olen;
    f->wire_sent += total - (uint64_t)ctx->counts[(me + 1) % p];

    /* 5. Decode the shard sums into the result (checked first in safe mode). Every rank
     * decodes the same bytes, so every rank holds the same bits. */
    t0 = mpi_now();
    for (int r = 0; r < p && !failed; r++) {
        alcm_header h;
        size_t k = mpi_shard_lo(n, p, r + 1) - mpi_shard_lo(n, p, r);
        if (alcm_blob_header(ctx->xbuf + ctx->displs[r], (size_t)ctx->counts[r], &h) != ALCM_OK ||
            h.dtype != ALCM_DTYPE_F32 || h.raw_bytes != k * sizeof(float))
            failed = 1;
    }
    if (failed) {
        mpi_debug("a received shard sum has a bad header: the call falls back");
        mpi_rsag_reset(s);
        f->codec_seconds += mpi_now() - t0;
        return MPI_ALCM_FALLBACK;
    }
    if (safe && mpi_grow((void **)&ctx->acc, &ctx->acc_cap, n * sizeof(float)) != 0)
        return MPI_ERR_NO_MEM;
    float *sum = safe ? ctx->acc : s->dst;
    double td = mpi_now();
    for (int r = 0; r < p; r++) {
        size_t lo = mpi_shard_lo(n, p, r), k = mpi_shard_lo(n, p, r + 1) - lo;
        if (mpi_decode_exact(ctx, ctx->xbuf + ctx->displs[r], (size_t)ctx->counts[r], sum + lo, k)) {
            mpi_warn("decoding the shard sum of rank %d failed", r);
            return MPI_ERR_INTERN;
        }
    }
    f->dec_seconds += mpi_now() - td;
    f->dec_bytes += n * sizeof(float);
    if (safe) {
        double sq = 0.0, norms = 0.0;
        for (int r = 0; r < p; r++) {
            double b = ctx->win[r * AG_WORDS + 1];
            sq += b * b;
            norms += ctx->win[r * AG_WORDS + 2];
        }
        int ok = mpi_safe_accept(s->key, s->opts->result_budget, sum, n, sqrt(sq), norms);
        f->codec_seconds += mpi_now() - t0;
        if (!ok) {
            mpi_stats_verify_failure();
            return MPI_ALCM_FALLBACK;
        }
        memcpy(s->dst, sum, n * sizeof(float));
        return MPI_SUCCESS;
    }
    f->codec_seconds += mpi_now() - t0;
    return MPI_SUCCESS;
}
