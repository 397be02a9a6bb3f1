/* workers.h - fork/join of worker threads over numbered jobs, for the chunked encoder and
 * decoder (internal). Threads are created by the call and joined before it returns: the
 * library keeps no thread, and nothing runs between calls. */
#ifndef ALCM_WORKERS_H
#define ALCM_WORKERS_H

#include <pthread.h>
#include <stdint.h>

#include "alcm.h"

/* Jobs 0..n_jobs-1, handed out in increasing order to whichever worker is free. A job's
 * result must depend on its number only (never on the worker that ran it) for the output
 * to be the same for any thread count. */
typedef struct alcm_workers alcm_workers;
struct alcm_workers {
    /* Runs job `job` on worker `worker` (0 .. threads-1); returns its status. */
    alcm_status (*run)(alcm_workers *w, unsigned worker, uint32_t job);
    uint32_t n_jobs;
    /* Filled by alcm_workers_run: */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint32_t next;        /* next job to hand out */
    uint32_t fail_job;    /* lowest failed job so far (n_jobs: none) */
    alcm_status fail_st;  /* its status */
};

/* Runs every job on up to `threads` workers, the calling thread being worker 0 (threads
 * the system refuses to create are simply not used). After a job fails, jobs numbered
 * above it are skipped, and the status returned is that of the lowest-numbered failing
 * job, so an error is the same for any thread count. ALCM_E_NOMEM if the
 * synchronisation objects cannot be created. */
alcm_status alcm_workers_run(alcm_workers *w, unsigned threads);

/* For a job that waits on earlier ones (under w->mu): 1 once a job numbered below `job`
 * has failed, so the wait must end. */
static inline int alcm_workers_failed_before(const alcm_workers *w, uint32_t job)
{
    return w->fail_job < job;
}

#endif /* ALCM_WORKERS_H */
