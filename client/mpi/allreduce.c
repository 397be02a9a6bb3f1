/* allreduce.c - the compressed allreduce: encode, exchange blobs, decode and sum in rank order. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_internal.h"

/* Whether a call takes the compressed path. Depends only on the call's arguments and on
 * properties of comm that every rank sees alike, so all ranks decide the same. */
static int compressible(int count, MPI_Datatype datatype, MPI_Op op, MPI_Comm comm,
                        const alcm_mpi_options *opts)
{
    if (count <= 0 || datatype != MPI_FLOAT || op != MPI_SUM || comm == MPI_COMM_NULL)
        return 0;
    if ((size_t)count * sizeof(float) < opts->min_bytes) return 0;
    int inter = 1, size = 0;
    if (PMPI_Comm_test_inter(comm, &inter) != MPI_SUCCESS || inter) return 0;
    if (PMPI_Comm_size(comm, &size) != MPI_SUCCESS || size < 2) return 0;
    return 1;
}

static void stream_config(const alcm_mpi_options *o, alcm_stream_config *cfg)
{
    alcm_stream_config_default(cfg);
    cfg->params.backend = o->backend;
    cfg->params.block_size = o->block_size;
    cfg->params.error_budget = o->error_budget;
    cfg->params.aggressiveness = o->aggressiveness;
    cfg->params.prune_ratio = o->prune_ratio;
    cfg->sched.error_budget = o->error_budget;
    cfg->sched.deterministic = o->deterministic;
    cfg->error_feedback = o->error_feedback;
    cfg->adaptive = o->adaptive;
}

/* Plain PMPI_Allreduce of one segment (the fallback when a rank could not encode). */
static int plain_segment(const float *src, float *dst, size_t n, int in_place, MPI_Comm comm)
{
    return PMPI_Allreduce(in_place ? MPI_IN_PLACE : (const void *)src, dst, (int)n, MPI_FLOAT,
                          MPI_SUM, comm);
}

/* Moves every rank's blob into ctx->xbuf (rank order, displacements ctx->displs). */
static int exchange(mpi_comm_ctx *ctx, size_t len, uint64_t total)
{
    uint64_t off = 0;
    for (int r = 0; r < ctx->size; r++) {
        ctx->counts[r] = (int)ctx->sizes[r];
        ctx->displs[r] = off <= INT_MAX ? (int)off : 0;
        off += ctx->sizes[r];
    }
    if (total <= INT_MAX)
        return PMPI_Allgatherv(ctx->blob, (int)len, MPI_BYTE, ctx->xbuf, ctx->counts,
                               ctx->displs, MPI_BYTE, ctx->comm);
    /* Displacements beyond an int: one broadcast per rank, each blob below 2^31 bytes. */
    off = 0;
    for (int r = 0; r < ctx->size; r++) {
        unsigned char *p = ctx->xbuf + off;
        if (r == ctx->rank) memcpy(p, ctx->blob, len);
        int rc = PMPI_Bcast(p, (int)ctx->sizes[r], MPI_BYTE, r, ctx->comm);
        if (rc != MPI_SUCCESS) return rc;
        off += ctx->sizes[r];
    }
    return MPI_SUCCESS;
}

/* One segment: n floats of src summed over the ranks into dst. */
static int reduce_segment(mpi_comm_ctx *ctx, const alcm_mpi_options *opts,
                          const alcm_stream_config *cfg, uint32_t tag, uint64_t count,
                          uint32_t seg, const float *src, float *dst, size_t n, int in_place)
{
    mpi_slot *slot = mpi_slot_get(ctx, tag, count, seg, cfg);
    size_t len = 0;
    alcm_info info;
    memset(&info, 0, sizeof info);
    alcm_status st = ALCM_E_NOMEM;
    if (slot) {
        slot->use_daemon = opts->use_daemon;
        st = mpi_encode(ctx, slot, src, n, &len, &info);
    }
    if (st != ALCM_OK)
        mpi_debug("stream %s: cannot encode (%s): the call falls back to PMPI_Allreduce",
                  slot ? slot->name : "?", alcm_strerror(st));

    uint64_t word = st == ALCM_OK ? (uint64_t)len : MPI_SIZE_FAILED;
    int rc = PMPI_Allgather(&word, 1, MPI_UINT64_T, ctx->sizes, 1, MPI_UINT64_T, ctx->comm);
    if (rc != MPI_SUCCESS) return rc;

    int failed = 0;
    uint64_t total = 0;
    for (int r = 0; r < ctx->size; r++) {
        if (ctx->sizes[r] == MPI_SIZE_FAILED || ctx->sizes[r] > INT_MAX) failed = 1;
        else total += ctx->sizes[r];
    }
    if (failed) {
        /* Every rank saw the same size words: all reset the stream and send plainly. */
        if (slot) mpi_slot_reset(ctx, slot);
        mpi_stats_fallback();
        mpi_stats_segment(sizeof word, 0, 0, NULL);
        return plain_segment(src, dst, n, in_place, ctx->comm);
    }

    if (mpi_grow((void **)&ctx->xbuf, &ctx->xbuf_cap, (size_t)total) != 0 ||
        mpi_grow((void **)&ctx->tmp, &ctx->tmp_cap, n * sizeof(float)) != 0)
        return MPI_ERR_NO_MEM;
    rc = exchange(ctx, len, total);
    if (rc != MPI_SUCCESS) return rc;

    /* Check every header before touching dst (which is the input when in place): a bad
     * blob is seen by every rank alike, so all fall back together. */
    size_t bytes = n * sizeof(float);
    uint64_t off = 0;
    for (int r = 0; r < ctx->size && !failed; r++) {
        alcm_header h;
        if (alcm_blob_header(ctx->xbuf + off, (size_t)ctx->sizes[r], &h) != ALCM_OK ||
            h.dtype != ALCM_DTYPE_F32 || h.raw_bytes != bytes)
            failed = 1;
        off += ctx->sizes[r];
    }
    if (failed) {
        mpi_debug("a received blob has a bad header: the call falls back to PMPI_Allreduce");
        if (slot) mpi_slot_reset(ctx, slot);
        mpi_stats_fallback();
        mpi_stats_segment(sizeof word + len, total - len, 0, NULL);
        return plain_segment(src, dst, n, in_place, ctx->comm);
    }

    /* Sum in rank order, in float: the same operations in the same order on every rank. */
    off = 0;
    for (int r = 0; r < ctx->size; r++) {
        float *out = r == 0 ? dst : ctx->tmp;
        size_t got = 0;
        st = alcm_decompress(ctx->dctx, ctx->xbuf + off, (size_t)ctx->sizes[r], out, bytes,
                             &got);
        if (st != ALCM_OK || got != bytes) {
            mpi_warn("decoding the blob of rank %d failed (%s)", r, alcm_strerror(st));
            return MPI_ERR_INTERN;
        }
        if (r > 0) {
            const float *t = ctx->tmp;
            for (size_t i = 0; i < n; i++) dst[i] += t[i];
        }
        off += ctx->sizes[r];
    }
    mpi_stats_segment(sizeof word + len, total - len, slot->via_daemon == 1, &info);
    return MPI_SUCCESS;
}

/* Hands this library's own failures to comm's error handler (MPI's own calls have done
 * so already for theirs) and returns the code. */
static int raise(MPI_Comm comm, int rc)
{
    if (rc == MPI_ERR_NO_MEM || rc == MPI_ERR_INTERN) PMPI_Comm_call_errhandler(comm, rc);
    return rc;
}

int mpi_allreduce_impl(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype,
                       MPI_Op op, MPI_Comm comm, const alcm_mpi_options *opts,
                       uint32_t auto_tag_period)
{
    alcm_mpi_options def;
    if (!opts) {
        alcm_mpi_options_default(&def);
        opts = &def;
    }
    int init = 0, fin = 0;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    if (!init || fin) return PMPI_Allreduce(sendbuf, recvbuf, count, datatype, op, comm);
    if (alcm_mpi_options_check(opts) != MPI_SUCCESS) {
        int rc = PMPI_Allreduce(sendbuf, recvbuf, count, datatype, op, comm);
        return rc == MPI_SUCCESS ? MPI_ERR_ARG : rc;
    }
    mpi_install_finalize_hook();
    if (!compressible(count, datatype, op, comm, opts))
        return PMPI_Allreduce(sendbuf, recvbuf, count, datatype, op, comm);

    mpi_comm_ctx *ctx;
    int rc = mpi_comm_ctx_get(comm, &ctx);
    if (rc != MPI_SUCCESS) return raise(comm, rc);
    uint32_t tag = opts->tag;
    if (auto_tag_period > 0)
        tag = (uint32_t)(mpi_next_call_index(ctx, (uint64_t)count) % auto_tag_period);
    alcm_stream_config cfg;
    stream_config(opts, &cfg);

    const int in_place = sendbuf == MPI_IN_PLACE;
    const float *src = in_place ? (const float *)recvbuf : (const float *)sendbuf;
    float *dst = recvbuf;
    mpi_stats_call((uint64_t)count * sizeof(float));
    size_t total = (size_t)count;
    size_t seg_len = opts->segment_elems ? opts->segment_elems : MPI_SEGMENT_ELEMS;
    uint32_t seg = 0;
    for (size_t off = 0; off < total; off += seg_len, seg++) {
        size_t n = total - off < seg_len ? total - off : seg_len;
        rc = reduce_segment(ctx, opts, &cfg, tag, (uint64_t)count, seg, src + off, dst + off,
                            n, in_place);
        if (rc != MPI_SUCCESS) return raise(comm, rc);
    }
    return MPI_SUCCESS;
}

int alcm_mpi_allreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype,
                       MPI_Op op, MPI_Comm comm, const alcm_mpi_options *opts)
{
    return mpi_allreduce_impl(sendbuf, recvbuf, count, datatype, op, comm, opts, 0);
}
