/* options.c - the presets of alcm_mpi_options and their range checks. */
#include <string.h>

#include "mpi_internal.h"

void alcm_mpi_options_default(alcm_mpi_options *o)
{
    memset(o, 0, sizeof *o);
    o->profile = ALCM_MPI_SAFE;
    o->error_budget = 0.01;
    o->result_budget = MPI_SAFE_RESULT_BUDGET;
    o->aggressiveness = 1.0;
    o->prune_ratio = 0.0;
    o->adaptive = 0;
    o->deterministic = 1;
    o->error_feedback = 0;
    o->tag = 0;
    o->min_bytes = 0;
    o->backend = ALCM_BACKEND_AUTO;
    o->block_size = 0;
    o->use_daemon = 1;
    o->path = ALCM_MPI_PATH_AUTO;
    o->pipeline = 1;
    o->threads = 1;
}

int alcm_mpi_options_preset(alcm_mpi_options *o, alcm_mpi_profile profile)
{
    alcm_mpi_options_default(o);
    switch (profile) {
    case ALCM_MPI_SAFE:
        return MPI_SUCCESS;
    case ALCM_MPI_TRAINING:
        o->profile = ALCM_MPI_TRAINING;
        o->error_budget = MPI_TRAINING_BUDGET;
        o->result_budget = 0.0;
        o->error_feedback = 1;
        return MPI_SUCCESS;
    }
    return MPI_ERR_ARG;
}

int alcm_mpi_options_check(const alcm_mpi_options *o)
{
    if (!o) return MPI_ERR_ARG;
    if (!(o->error_budget > 0.0 && o->error_budget <= 1.0)) return MPI_ERR_ARG;
    if (!(o->result_budget >= 0.0 && o->result_budget <= 1.0)) return MPI_ERR_ARG;
    if (!(o->shard_budget >= 0.0 && o->shard_budget <= 1.0)) return MPI_ERR_ARG;
    if (!(o->aggressiveness >= 0.0 && o->aggressiveness <= 1.0)) return MPI_ERR_ARG;
    if (!(o->prune_ratio >= 0.0 && o->prune_ratio <= 0.25)) return MPI_ERR_ARG;
    if (o->backend != ALCM_BACKEND_AUTO && o->backend != ALCM_BACKEND_ZLIB &&
        o->backend != ALCM_BACKEND_ZSTD)
        return MPI_ERR_ARG;
    if (o->segment_elems > MPI_SEGMENT_ELEMS) return MPI_ERR_ARG;
    if ((o->adaptive | o->deterministic | o->error_feedback | o->use_daemon | o->pipeline) & ~1)
        return MPI_ERR_ARG;
    if (o->profile != ALCM_MPI_SAFE && o->profile != ALCM_MPI_TRAINING) return MPI_ERR_ARG;
    if (o->threads < 0 || o->threads > MPI_MAX_THREADS) return MPI_ERR_ARG;
    if (o->path < ALCM_MPI_PATH_AUTO || o->path > ALCM_MPI_PATH_RSAG) return MPI_ERR_ARG;
    /* A result bound cannot hold across calls that carry residuals forward. */
    if (o->result_budget > 0.0 && o->error_feedback) return MPI_ERR_ARG;
    return MPI_SUCCESS;
}
