/* signals.h - SIGTERM/SIGINT start a graceful drain, SIGHUP reloads the configuration;
 * handled on the event loop (uv_signal), so handlers run as ordinary callbacks. */
#ifndef ALCMD_SIGNALS_H
#define ALCMD_SIGNALS_H

#include "server.h"

/* Initialises the signal handles (inactive). */
void alcmd_signals_init(alcmd_server *srv);

/* Starts handling the signals. 0, or a libuv error code. */
int alcmd_signals_start(alcmd_server *srv);

/* Closes the signal handles (at the end of a drain). */
void alcmd_signals_close(alcmd_server *srv);

#endif
