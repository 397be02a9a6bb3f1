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

void mpi_stats_segment(alcm_path path, const mpi_seg_figures *f, double seconds)
{
    pthread_mutex_lock(&stats_lock);
    stats.sent_bytes += f->sent;
    stats.received_bytes += f->received;
    stats.wire_sent_bytes += f->wire_sent;
    stats.wire_recv_bytes += f->wire_recv;
    stats.seconds += seconds;
    stats.codec_seconds += f->codec_seconds;
    stats.encode_seconds += f->enc_seconds;
    stats.decode_seconds += f->dec_seconds;
    stats.encoded_bytes += f->enc_bytes;
    stats.decoded_bytes += f->dec_bytes;
    if ((unsigned)path < ALCM_PATH_COUNT) stats.path_segments[path]++;
    if (f->encoded) {
        if (f->via_daemon) stats.daemon_steps++;
        else stats.local_steps++;
        stats.last_rel_l2_error = f->info.rel_l2_error;
        stats.last_mean_bits = f->info.mean_bits;
    }
    pthread_mutex_unlock(&stats_lock);
}

void mpi_stats_fallback(void)
{
    pthread_mutex_lock(&stats_lock);
    stats.fallbacks++;
    pthread_mutex_unlock(&stats_lock);
}

void mpi_stats_verify_failure(void)
{
    pthread_mutex_lock(&stats_lock);
    stats.verify_failures++;
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
    fprintf(f,
            "alcm_mpi: rank=%d intercepted=%llu raw_bytes=%llu sent_bytes=%llu "
            "wire_sent_bytes=%llu wire_recv_bytes=%llu time_s=%.6f codec_s=%.6f plain=%llu "
            "allgather=%llu rsag=%llu fallbacks=%llu decoded_bytes=%llu\n",
            rank, (unsigned long long)s.intercepted, (unsigned long long)s.raw_bytes,
            (unsigned long long)s.sent_bytes, (unsigned long long)s.wire_sent_bytes,
            (unsigned long long)s.wire_recv_bytes, s.seconds, s.codec_seconds,
            (unsigned long long)s.path_segments[0], (unsigned long long)s.path_segments[1],
            (unsigned long long)s.path_segments[2], (unsigned long long)s.fallbacks,
            (unsigned long long)s.decoded_bytes);
    fflush(f);
}
