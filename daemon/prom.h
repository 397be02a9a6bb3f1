/* prom.h - the Prometheus textfile-collector file: alcm_* metrics of the daemon and its
 * streams, rewritten periodically by atomic rename. */
#ifndef ALCMD_PROM_H
#define ALCMD_PROM_H

#include <stdio.h>

#include "server.h"

/* Writes the metrics of a Stats message in the Prometheus text format. */
void alcmd_prom_format(FILE *f, const Alcmwire__Stats *stats);

/* Writes path atomically (a temporary file in the same directory, then rename). 0, or
 * -1 with errno set. */
int alcmd_prom_write(const char *path, const Alcmwire__Stats *stats);

/* Starts (or restarts after a reload) the periodic writer if cfg.prometheus_file is set,
 * writing once now; stops it otherwise. */
void alcmd_prom_start(alcmd_server *srv);

/* Writes a last time (if configured) and stops the timer. */
void alcmd_prom_stop(alcmd_server *srv);

#endif
