/* interpose.c - the LD_PRELOAD interposer: MPI_Allreduce of float sums through ALCM. */
#include <pthread.h>

#include "mpi_internal.h"

static pthread_once_t env_once = PTHREAD_ONCE_INIT;
static mpi_config config;

static void read_env(void)
{
    mpi_config_from_env(&config);
}

/* After MPI is up: world rank 0's settings become every rank's, so the
 * compress-or-forward decision (ALCM_MPI, ALCM_MPI_MIN_BYTES, ALCM_MPI_PERIOD) agrees. */
static void share_config(void)
{
    pthread_once(&env_once, read_env);
    if (mpi_config_share(&config) != MPI_SUCCESS)
        mpi_warn("could not share the settings of rank 0; each rank uses its own");
    mpi_debug("interposer %s: profile=%s path=%s min_bytes=%zu budget=%g result_budget=%g "
              "aggressiveness=%g prune=%g adaptive=%d error_feedback=%d period=%u",
              config.enabled ? "on" : "off",
              config.opts.profile == ALCM_MPI_TRAINING ? "training" : "safe",
              config.opts.path == ALCM_MPI_PATH_AUTO ? "auto"
                                                     : alcm_path_name((alcm_path)config.opts.path),
              config.opts.min_bytes, config.opts.error_budget, config.opts.result_budget,
              config.opts.aggressiveness, config.opts.prune_ratio, config.opts.adaptive,
              config.opts.error_feedback, config.period);
}

int MPI_Init(int *argc, char ***argv)
{
    int rc = PMPI_Init(argc, argv);
    if (rc == MPI_SUCCESS) share_config();
    return rc;
}

int MPI_Init_thread(int *argc, char ***argv, int required, int *provided)
{
    int rc = PMPI_Init_thread(argc, argv, required, provided);
    if (rc == MPI_SUCCESS) share_config();
    return rc;
}

int MPI_Allreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype,
                  MPI_Op op, MPI_Comm comm)
{
    /* Without MPI_Init seen here (MPI started elsewhere), each rank reads its own
     * environment; mpirun -x passes the same one to all. */
    pthread_once(&env_once, read_env);
    if (!config.enabled || datatype != MPI_FLOAT || op != MPI_SUM)
        return PMPI_Allreduce(sendbuf, recvbuf, count, datatype, op, comm);
    return mpi_allreduce_impl(sendbuf, recvbuf, count, datatype, op, comm, &config.opts,
                              config.period);
}

int MPI_Finalize(void)
{
    pthread_once(&env_once, read_env);
    mpi_shutdown();
    return PMPI_Finalize();
}
