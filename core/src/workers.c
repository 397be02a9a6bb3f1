/* workers.c - fork/join of worker threads over numbered jobs (workers.h). */
#include "workers.h"

typedef struct {
    alcm_workers *w;
    unsigned id;
} worker_arg;

static void *worker_main(void *p)
{
    const worker_arg *a = p;
    alcm_workers *w = a->w;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        uint32_t job = w->next;
        /* Jobs above a failed one are skipped (their result would be discarded). */
        if (job >= w->n_jobs || job > w->fail_job) {
            pthread_mutex_unlock(&w->mu);
            break;
        }
        w->next++;
        pthread_mutex_unlock(&w->mu);
        alcm_status st = w->run(w, a->id, job);
        if (st != ALCM_OK) {
            pthread_mutex_lock(&w->mu);
            if (job < w->fail_job) {
                w->fail_job = job;
                w->fail_st = st;
            }
            pthread_cond_broadcast(&w->cv); /* jobs waiting on this one stop waiting */
            pthread_mutex_unlock(&w->mu);
        }
    }
    return NULL;
}

alcm_status alcm_workers_run(alcm_workers *w, unsigned threads)
{
    if (threads < 1) threads = 1;
    if (threads > ALCM_MAX_THREADS) threads = ALCM_MAX_THREADS;
    if (threads > w->n_jobs) threads = w->n_jobs ? w->n_jobs : 1;
    w->next = 0;
    w->fail_job = w->n_jobs;
    w->fail_st = ALCM_OK;
    if (pthread_mutex_init(&w->mu, NULL)) return ALCM_E_NOMEM;
    if (pthread_cond_init(&w->cv, NULL)) {
        pthread_mutex_destroy(&w->mu);
        return ALCM_E_NOMEM;
    }
    pthread_t tid[ALCM_MAX_THREADS];
    worker_arg args[ALCM_MAX_THREADS];
    unsigned started = 0;
    for (unsigned i = 1; i < threads; i++) {
        args[i].w = w;
        args[i].id = i;
        if (pthread_create(&tid[i], NULL, worker_main, &args[i])) break;
        started = i;
    }
    args[0].w = w;
    args[0].id = 0;
    worker_main(&args[0]);
    for (unsigned i = 1; i <= started; i++) pthread_join(tid[i], NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    return w->fail_job < w->n_jobs ? w->fail_st : ALCM_OK;
}
