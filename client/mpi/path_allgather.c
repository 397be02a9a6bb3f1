/* path_allgather.c - the allgather path: every rank's blob to every rank, decoded and summed
 * in rank order by each. */
#include <limits.h>
#include <string.h>

#include "mpi_internal.h"

/* Words each rank sends in the size exchange: blob length (negative: failed), its absolute
 * error bound, the norm of its input. */
#define AG_WORDS 3

/* Moves every rank's blob into ctx->xbuf (rank order, displacements ctx->displs). */
static int exchange(mpi_comm_ctx *ctx, const unsigned char *blob, size_t len, uint64_t total)
{
    uint64_t off = 0;
    for (int r = 0; r < ctx->size; r++) {
        ctx->displs[r] = off <= INT_MAX ? (int)off : 0;
        off += (uint64_t)ctx->counts[r];
    }
    if (total <= INT_MAX)
        return PMPI_Allgatherv(blob, (int)len, MPI_BYTE, ctx->xbuf, ctx->counts, ctx->displs,
                               MPI_BYTE, ctx->comm);
    /* Displacements beyond an int: one broadcast per rank, each blob below 2^31 bytes. */
    off = 0;
    for (int r = 0; r < ctx->size; r++) {
        unsigned char *p = ctx->xbuf + off;
        if (r == ctx->rank) memcpy(p, blob, len);
        int rc = PMPI_Bcast(p, ctx->counts[r], MPI_BYTE, r, ctx->comm);
        if (rc != MPI_SUCCESS) return rc;
        off += (uint64_t)ctx->counts[r];
    }
    return MPI_SUCCESS;
}

int mpi_path_allgather(const mpi_seg *s, mpi_seg_figures *f)
{
    mpi_comm_ctx *ctx = s->ctx;
    const int p = ctx->size, me = ctx->rank;
    const size_t n = s->n, bytes = n * sizeof(float);
    const int safe = s->opts->result_budget > 0;
    alcm_stream_config cfg;
    mpi_stream_config(s->opts, s->budget, &cfg);

    double t0 = mpi_now();
    mpi_slot *slot =
        mpi_slot_get(ctx, s->key->tag, s->key->count, s->key->seg, MPI_PART_WHOLE, &cfg);
    size_t len = 0;
    alcm_status st = ALCM_E_NOMEM;
    if (slot && mpi_grow((void **)&ctx->blob, &ctx->blob_cap, alcm_compress_bound(bytes)) == 0) {
        slot->use_daemon = s->opts->use_daemon;
        st = mpi_encode(ctx, slot, s->src, n, ctx->blob, ctx->blob_cap, &len, &f->info);
    }
    if (st != ALCM_OK)
        mpi_debug("stream %s: cannot encode (%s): the call falls back to PMPI_Allreduce",
                  slot ? slot->name : "?", alcm_strerror(st));
    else {
        f->encoded = 1;
        f->via_daemon = slot->via_daemon == 1;
    }
    f->enc_seconds += mpi_now() - t0;
    f->enc_bytes += bytes;
    double norm = safe && st == ALCM_OK ? mpi_l2(s->src, n) : 0.0;
    double *w = ctx->wout;
    w[0] = st == ALCM_OK ? (double)len : MPI_SIZE_FAILED;
    w[1] = st == ALCM_OK ? f->info.rel_l2_error * norm : 0.0;
    w[2] = norm;
    f->codec_seconds += mpi_now() - t0;

    int rc = PMPI_Allgather(w, AG_WORDS, MPI_DOUBLE, ctx->win, AG_WORDS, MPI_DOUBLE, ctx->comm);
    if (rc != MPI_SUCCESS) return rc;
    f->sent += sizeof(double) * AG_WORDS;
    f->wire_sent += (uint64_t)(p - 1) * sizeof(double) * AG_WORDS;
    f->wire_recv += (uint64_t)(p - 1) * sizeof(double) * AG_WORDS;

    int failed = 0;
    uint64_t total = 0;
    for (int r = 0; r < p; r++) {
        double L = ctx->win[r * AG_WORDS];
        if (!(L >= 0.0) || L > (double)INT_MAX) failed = 1;
        else {
            ctx->counts[r] = (int)L;
            total += (uint64_t)L;
        }
    }
    if (failed) {
        /* Every rank saw the same size words: all reset the stream and send plainly. */
        if (slot) mpi_slot_reset(ctx, slot);
        return MPI_ALCM_FALLBACK;
    }
    if (mpi_grow((void **)&ctx->xbuf, &ctx->xbuf_cap, (size_t)total) != 0 ||
        mpi_grow((void **)&ctx->tmp, &ctx->tmp_cap, bytes) != 0 ||
        (safe && mpi_grow((void **)&ctx->acc, &ctx->acc_cap, bytes) != 0))
        return MPI_ERR_NO_MEM;
    rc = exchange(ctx, ctx->blob, len, total);
    if (rc != MPI_SUCCESS) return rc;
    f->sent += len;
    f->received += total - len;
    f->wire_recv += total - len;
    f->wire_sent += total - (uint64_t)ctx->counts[(me + 1) % p]; /* ring: all but the next's */

    /* Check every header before touching dst (which is the input when in place): a bad
     * blob is seen by every rank alike, so all fall back together. */
    t0 = mpi_now();
    uint64_t off = 0;
    for (int r = 0; r < p && !failed; r++) {
        alcm_header h;
        if (alcm_blob_header(ctx->xbuf + off, (size_t)ctx->counts[r], &h) != ALCM_OK ||
            h.dtype != ALCM_DTYPE_F32 || h.raw_bytes != bytes)
            failed = 1;
        off += (uint64_t)ctx->counts[r];
    }
    if (failed) {
        mpi_debug("a received blob has a bad header: the call falls back to PMPI_Allreduce");
        mpi_slot_reset(ctx, slot);
        f->codec_seconds += mpi_now() - t0;
        return MPI_ALCM_FALLBACK;
    }

    /* Sum in rank order, in float: the same operations in the same order on every rank. */
    double td = mpi_now();
    float *sum = safe ? ctx->acc : s->dst;
    off = 0;
    for (int r = 0; r < p; r++) {
        float *out = r == 0 ? sum : ctx->tmp;
        size_t got = 0;
        st = alcm_decompress(ctx->dctx, ctx->xbuf + off, (size_t)ctx->counts[r], out, bytes,
                             &got);
        if (st != ALCM_OK || got != bytes) {
            mpi_warn("decoding the blob of rank %d failed (%s)", r, alcm_strerror(st));
            return MPI_ERR_INTERN;
        }
        if (r > 0) {
            const float *t = ctx->tmp;
            for (size_t i = 0; i < n; i++) sum[i] += t[i];
        }
        off += (uint64_t)ctx->counts[r];
    }
    f->dec_seconds += mpi_now() - td;
    f->dec_bytes += (uint64_t)p * bytes;
    if (safe) {
        double bound = 0.0, norms = 0.0;
        for (int r = 0; r < p; r++) {
            bound += ctx->win[r * AG_WORDS + 1];
            norms += ctx->win[r * AG_WORDS + 2];
        }
        int ok = mpi_safe_accept(s->key, s->opts->result_budget, sum, n, bound, norms);
        f->codec_seconds += mpi_now() - t0;
        if (!ok) {
            mpi_stats_verify_failure();
            return MPI_ALCM_FALLBACK;
        }
        memcpy(s->dst, sum, bytes);
        return MPI_SUCCESS;
    }
    f->codec_seconds += mpi_now() - t0;
    return MPI_SUCCESS;
}
