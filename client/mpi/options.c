/* options.c - defaults and range checks of alcm_mpi_options. */
#include <string.h>

#include "mpi_internal.h"

void alcm_mpi_options_default(alcm_mpi_options *o)
{
    memset(o, 0, sizeof *o);
    o->error_budget = 0.5;
    o->aggressiveness = 1.0;
    o->prune_ratio = 0.0;
    o->adaptive = 0;
    o->deterministic = 1;
    o->error_feedback = 1;
    o->tag = 0;
    o->min_bytes = 0;
    o->backend = ALCM_BACKEND_AUTO;
    o->block_size = 0;
    o->use_daemon = 1;
}

int alcm_mpi_options_check(const alcm_mpi_options *o)
{
    if (!o) return MPI_ERR_ARG;
    if (!(o->error_budget > 0.0 && o->error_budget <= 1.0)) return MPI_ERR_ARG;
    if (!(o->aggressiveness >= 0.0 && o->aggressiveness <= 1.0)) return MPI_ERR_ARG;
    if (!(o->prune_ratio >= 0.0 && o->prune_ratio <= 0.25)) return MPI_ERR_ARG;
    if (o->backend != ALCM_BACKEND_AUTO && o->backend != ALCM_BACKEND_ZLIB &&
        o->backend != ALCM_BACKEND_ZSTD)
        return MPI_ERR_ARG;
    if (o->segment_elems > MPI_SEGMENT_ELEMS) return MPI_ERR_ARG;
    if ((o->adaptive | o->deterministic | o->error_feedback | o->use_daemon) & ~1)
        return MPI_ERR_ARG;
    return MPI_SUCCESS;
}
