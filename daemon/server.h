/* server.h - the daemon's shared state: configuration, listener, connections, streams,
 * in-flight memory (inflight.h, used through request.h), counters; set-up, drain and
 * reload. Internal to alcmd. */
#ifndef ALCMD_SERVER_H
#define ALCMD_SERVER_H

#include <stdint.h>
#include <uv.h>

#include "alcm.h"
#include "config.h"
#include "inflight.h"
#include "options.h"
#include "request.h"
#include "shm.h"
#include "stats.h"
#include "streams.h"
#include "wire.h"


typedef struct {
    uv_pipe_t pipe;
    int open;           /* the handle is initialised */
    int activated;      /* fd came from systemd: never unlink */
    int bound;          /* we created socket_path: unlink on close */
    int lock_fd;
    char path[ALCMD_SOCKET_PATH_MAX];
} alcmd_listener;

struct alcmd_server {
    uv_loop_t *loop;
    alcmd_config cfg;
    const alcmd_options *opts;      /* to rebuild the config on SIGHUP */
    alcmd_listener listener;
    alcmd_streams streams;
    alcmd_counters total;
    alcmd_session *sessions;
    uint32_t n_sessions;
    uint64_t connections_total, connections_denied, next_serial;
    alcmd_inflight mem;             /* request and reply buffers against inflight_cap */
    uint32_t requests_in_flight;    /* received and not yet answered */
    void (*dispatch)(alcmd_request *req);   /* runs a complete request (ops.c) */
    uint32_t self_uid;
    uint64_t start_ns;
    int draining;
    int stopped;                    /* handles closed, the loop may end */
    uv_signal_t sig_term, sig_int, sig_hup;
    uv_timer_t prom_timer, drain_timer, mem_timer;
    uv_timer_t state_timer;         /* periodic save of stream states (state.c) */
    uint64_t peak_anon;             /* highest RssAnon sampled */
};

/* Sets up the server on loop with cfg (copied); complete requests go to dispatch. 0, or
 * -1 when out of memory. */
int alcmd_server_init(alcmd_server *srv, uv_loop_t *loop, const alcmd_config *cfg,
                      const alcmd_options *opts, void (*dispatch)(alcmd_request *req));

/* Frees what init and the run left (after uv_run has returned). */
void alcmd_server_free(alcmd_server *srv);

/* SIGTERM: stop accepting, remove the socket, answer what is in flight, then stop. */
void alcmd_server_drain(alcmd_server *srv);

/* Stops the loop's remaining handles once draining and nothing is left. */
void alcmd_server_check_drained(alcmd_server *srv);

/* Closes the listener, timers and signal handles so uv_run returns (no connection may be
 * open: used at the end of a drain and when start-up fails). */
void alcmd_server_shutdown(alcmd_server *srv);

/* SIGHUP: rebuilds the configuration; a bad one is logged and the old one kept. */
void alcmd_server_reload(alcmd_server *srv);

/* Monotonic nanoseconds. */
uint64_t alcmd_now_ns(void);

#endif
