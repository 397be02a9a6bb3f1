/* allreduce.c - the compressed allreduce: per segment, choose a path, run it, time it. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mpi_internal.h"

double mpi_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

uint64_t mpi_ring_bytes(uint64_t n, int p)
{
    return p > 1 ? 2 * n * (uint64_t)(p - 1) / (uint64_t)p : 0;
}

/* Whether a call is considered for compression. Depends only on the call's arguments and
 * on properties of comm that every rank sees alike, so all ranks decide the same. */
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

void mpi_stream_config(const alcm_mpi_options *o, double budget, alcm_stream_config *cfg)
{
    alcm_stream_config_default(cfg);
    cfg->params.backend = o->backend;
    cfg->params.block_size = o->block_size;
    cfg->params.error_budget = budget;
    cfg->params.aggressiveness = o->aggressiveness;
    cfg->params.prune_ratio = o->prune_ratio;
    cfg->sched.error_budget = budget;
    cfg->sched.deterministic = o->deterministic;
    cfg->error_feedback = o->error_feedback;
    cfg->adaptive = o->adaptive;
}

int mpi_path_plain(const mpi_seg *s, mpi_seg_figures *f)
{
    uint64_t bytes = (uint64_t)s->n * sizeof(float);
    f->sent += bytes;
    f->wire_sent += mpi_ring_bytes(bytes, s->ctx->size);
    f->wire_recv += mpi_ring_bytes(bytes, s->ctx->size);
    return PMPI_Allreduce(s->in_place ? MPI_IN_PLACE : (const void *)s->src, s->dst, (int)s->n,
                          MPI_FLOAT, MPI_SUM, s->ctx->comm);
}

/* The paths this call may take: plain always; allgather on few ranks; rsag when every
 * shard has at least MPI_RSAG_MIN_SHARD floats. A forced path wins where it can run. */
static unsigned allowed_paths(const mpi_seg *s)
{
    int p = s->ctx->size;
    unsigned m = 1u << ALCM_PATH_PLAIN;
    if (p <= MPI_ALLGATHER_MAX_RANKS) m |= 1u << ALCM_PATH_ALLGATHER;
    if (s->n / (size_t)p >= MPI_RSAG_MIN_SHARD) m |= 1u << ALCM_PATH_RSAG;
    switch (s->opts->path) {
    case ALCM_MPI_PATH_PLAIN: return 1u << ALCM_PATH_PLAIN;
    case ALCM_MPI_PATH_ALLGATHER: return 1u << ALCM_PATH_ALLGATHER;
    case ALCM_MPI_PATH_RSAG:
        /* Too short to shard: the allgather path carries it. */
        return m & (1u << ALCM_PATH_RSAG) ? 1u << ALCM_PATH_RSAG : 1u << ALCM_PATH_ALLGATHER;
    default: return m;
    }
}

static void debug_choice(const mpi_seg *s, alcm_path path, uint64_t bytes)
{
    if (!mpi_env_debug() || s->key->last_path == (int)path) return;
    alcm_planner_class c;
    alcm_planner_get_class(s->ctx->planner, bytes, &c);
    mpi_debug("call of %llu bytes (tag %u, segment %u): %s path; measured s/MB plain %.4g "
              "(%u), allgather %.4g (%u), rsag %.4g (%u)",
              (unsigned long long)bytes, s->key->tag, s->key->seg, alcm_path_name(path),
              c.seconds_per_byte[0] * 1e6, c.samples[0], c.seconds_per_byte[1] * 1e6,
              c.samples[1], c.seconds_per_byte[2] * 1e6, c.samples[2]);
}

/* One segment: n floats of src summed over the ranks into dst. */
static int reduce_segment(mpi_seg *s)
{
    mpi_comm_ctx *ctx = s->ctx;
    uint64_t bytes = (uint64_t)s->n * sizeof(float);
    unsigned allowed = allowed_paths(s);
    int measure = 0;
    alcm_path path = alcm_planner_choose(ctx->planner, bytes, allowed, &measure);
    debug_choice(s, path, bytes);

    mpi_seg_figures f;
    memset(&f, 0, sizeof f);
    double t0 = mpi_now();
    int rc;
    if (path == ALCM_PATH_PLAIN) {
        rc = mpi_path_plain(s, &f);
    } else {
        /* Residuals kept by the other compressed path's streams are stale by now. */
        if (s->opts->error_feedback && s->key->last_compressed >= 0 &&
            s->key->last_compressed != (int)path)
            mpi_slots_reset_path(ctx, s->key->tag, s->key->count, s->key->seg, path);
        s->key->last_compressed = (int)path;
        if (s->opts->result_budget > 0)
            mpi_safe_budgets(s, path, ctx->size, &s->budget, &s->owner_budget);
        else
        {
            s->budget = s->opts->error_budget;
            /* The owner's re-encode of a sum of p tensors: sums are closer to gaussian and
             * compress less at the same relative error; its residual carries what it
             * leaves out to the next step (docs/MPI.md, "The rsag path"). */
            double ob = s->opts->shard_budget > 0 ? s->opts->shard_budget
                                                  : MPI_SHARD_BUDGET_SCALE * s->budget;
            s->owner_budget = ob < 1.0 ? ob : 1.0;
        }
        if (path == ALCM_PATH_RSAG)
            rc = s->opts->pipeline ? mpi_path_rsag_pipelined(s, &f) : mpi_path_rsag(s, &f);
        else
            rc = mpi_path_allgather(s, &f);
        if (rc == MPI_ALCM_FALLBACK) {
            mpi_stats_fallback();
            rc = mpi_path_plain(s, &f);
        }
    }
    s->key->last_path = (int)path;
    if (rc != MPI_SUCCESS) return rc;
    double t1 = mpi_now();
    if (measure) {
        /* The figure is the cycle of this key: from the end of its previous call to the
         * end of this one, the program's own work between the calls included. The exchange
         * alone would miss what a compressed call costs the other ranks: the CPU it takes
         * while they are still computing (on a node with fewer cores than ranks), and the
         * spread of their arrivals. The first call of a key has no cycle and is not
         * recorded. A compressed call also gives its floor, the part of the cycle no link
         * removes: the program's work since the previous call plus the codec's time. Every
         * rank records the same figures (the MAX), so every rank keeps choosing alike. */
        double v[2] = {-1.0, -1.0}, vmax[2];
        if (s->key->last_end > 0) {
            v[0] = t1 - s->key->last_end;
            if (path != ALCM_PATH_PLAIN) v[1] = (t0 - s->key->last_end) + f.codec_seconds;
        }
        rc = PMPI_Allreduce(v, vmax, 2, MPI_DOUBLE, MPI_MAX, ctx->comm);
        if (rc != MPI_SUCCESS) return rc;
        if (vmax[0] > 0) alcm_planner_record(ctx->planner, path, bytes, vmax[0]);
        if (vmax[0] > 0 && vmax[1] >= 0)
            alcm_planner_record_floor(ctx->planner, path, bytes, vmax[1]);
        f.wire_sent += mpi_ring_bytes(sizeof vmax, ctx->size);
        f.wire_recv += mpi_ring_bytes(sizeof vmax, ctx->size);
    }
    s->key->last_end = mpi_now();
    mpi_stats_segment(path, &f, t1 - t0);
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

    const int in_place = sendbuf == MPI_IN_PLACE;
    const float *src = in_place ? (const float *)recvbuf : (const float *)sendbuf;
    float *dst = recvbuf;
    mpi_stats_call((uint64_t)count * sizeof(float));
    size_t total = (size_t)count;
    size_t seg_len = opts->segment_elems ? opts->segment_elems : MPI_SEGMENT_ELEMS;
    uint32_t seg = 0;
    for (size_t off = 0; off < total; off += seg_len, seg++) {
        mpi_seg s;
        memset(&s, 0, sizeof s);
        s.ctx = ctx;
        s.opts = opts;
        s.key = mpi_key_get(ctx, tag, (uint64_t)count, seg);
        if (!s.key) return raise(comm, MPI_ERR_NO_MEM);
        s.src = src + off;
        s.dst = dst + off;
        s.n = total - off < seg_len ? total - off : seg_len;
        s.in_place = in_place;
        rc = reduce_segment(&s);
        if (rc != MPI_SUCCESS) return raise(comm, rc);
    }
    return MPI_SUCCESS;
}

int alcm_mpi_allreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype,
                       MPI_Op op, MPI_Comm comm, const alcm_mpi_options *opts)
{
    return mpi_allreduce_impl(sendbuf, recvbuf, count, datatype, op, comm, opts, 0);
}
