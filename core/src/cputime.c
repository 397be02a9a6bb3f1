/* cputime.c - CPU seconds consumed by the calling thread (CLOCK_THREAD_CPUTIME_ID). */
#include "alcm_tools.h"

#include <time.h>

double alcm_thread_cpu_seconds(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0.0;
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
