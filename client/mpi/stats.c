/* stats.c - process-wide figures of the compressed allreduce calls and the report line. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "mpi_internal.h"

static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static alcm_mpi_stats stats;

void mpi_stats_call(uint64_t raw_bytes)
{
    pthread_mutex_lock(&stats_lock);
    stats.intercepted++;
    stats.raw_bytes += raw_bytes;
    pthread_mutex_unlock(&stats_lock);
}

void mpi_stats_segment(uint64_t sent_bytes, uint64_t received_bytes, int via_daemon,
                       const alcm_info *info)
{
    pthread_mutex_lock(&stats_lock);
    stats.sent_bytes += sent_bytes;
    stats.received_bytes += received_bytes;
    if (info) {
        if (via_daemon) stats.daemon_steps++;
        else stats.local_steps++;
        stats.last_rel_l2_error = info->rel_l2_error;
        stats.last_mean_bits = info->mean_bits;
    }
    pthread_mutex_unlock(&stats_lock);
}

void mpi_stats_fallback(void)
{
    pthread_mutex_lock(&stats_lock);
    stats.fallbacks++;
    pthread_mutex_unlock(&stats_lock);
}

void alcm_mpi_get_stats(alcm_mpi_stats *out)
{
    pthread_mutex_lock(&stats_lock);
    *out = stats;
    pthread_mutex_unlock(&stats_lock);
}

void alcm_mpi_print_report(FILE *f)
{
    alcm_mpi_stats s;
    alcm_mpi_get_stats(&s);
    int init = 0, fin = 0, rank = -1;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    if (init && !fin) PMPI_Comm_rank(MPI_COMM_WORLD, &rank);
    fprintf(f, "alcm_mpi: rank=%d intercepted=%llu raw_bytes=%llu sent_bytes=%llu\n", rank,
            (unsigned long long)s.intercepted, (unsigned long long)s.raw_bytes,
            (unsigned long long)s.sent_bytes);
    fflush(f);
}
