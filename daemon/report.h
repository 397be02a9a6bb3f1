/* report.h - the daemon's statistics as an alcmwire.Stats message: what the stats
 * operation sends and what the Prometheus textfile is written from. */
#ifndef ALCMD_REPORT_H
#define ALCMD_REPORT_H

#include "server.h"

typedef struct alcmd_report alcmd_report;

/* Snapshot of the server's totals and streams (only streams named filter, of any uid,
 * when filter is non-NULL). asking, when non-NULL, is the stats request being answered:
 * it is left out of the requests and bytes in flight. NULL when out of memory. Valid until
 * the loop runs again (it points at stream names). */
alcmd_report *alcmd_report_build(alcmd_server *srv, const char *filter,
                                 const alcmd_request *asking);

/* The message inside a report. */
const Alcmwire__Stats *alcmd_report_stats(const alcmd_report *r);

/* Frees a report; NULL is a no-op. */
void alcmd_report_free(alcmd_report *r);

typedef struct {
    uint64_t rss, peak_rss;     /* resident set size now and its peak (VmHWM) */
    uint64_t anon, shmem;       /* RssAnon (own memory) and RssShmem (mapped regions) */
} alcmd_memory;

/* This process's memory from /proc/self/status, in bytes (0 where unknown). */
void alcmd_memory_usage(alcmd_memory *m);

#endif
