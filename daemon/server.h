/* server.h - the daemon's shared state: configuration, listener, connections, streams,
 * in-flight memory, and the request object that travels from a connection through a
 * stream queue and the thread pool back to the connection. Internal to alcmd. */
#ifndef ALCMD_SERVER_H
#define ALCMD_SERVER_H

#include <stdint.h>
#include <uv.h>

#include "alcm.h"
#include "bufpool.h"
#include "config.h"
#include "options.h"
#include "shm.h"
#include "stats.h"
#include "streams.h"
#include "wire.h"

typedef struct alcmd_server alcmd_server;
typedef struct alcmd_session alcmd_session;

typedef struct alcmd_request {
    alcmd_server *srv;
    alcmd_session *session;                 /* NULL once the connection is gone */
    struct alcmd_request *s_prev, *s_next;  /* the connection's outstanding requests */
    struct alcmd_request *q_next;           /* the stream queue */
    Alcmwire__Request *hdr;
    uint64_t id;
    Alcmwire__Op op;
    uint32_t uid;
    uint8_t *payload;
    size_t payload_len, payload_cap;
    uint64_t reserved;                      /* in-flight bytes held for this request */
    uint64_t t0;                            /* uv_hrtime() when the frame was complete */
    int fd;                                 /* attach-shm: the descriptor, else -1 */
    alcmd_shm *shm;                         /* set: payload and out point into this region */
    /* compress */
    alcmd_stream *stream;
    alcm_dtype dtype;
    alcm_shape shape;
    alcm_stream_config scfg;
    alcm_stream *state;                     /* the stream's state, for the worker */
    Alcmwire__StreamEvent event;
    /* results, written by the worker thread */
    uint8_t *out;                           /* compress: taken on the loop, filled by the worker */
    size_t out_len, out_cap;
    alcm_status status;
    alcm_info info;
    double cpu_seconds;
    alcm_sched_state sched;
    size_t stream_memory;
    alcm_header out_header;                 /* decompress */
    alcm_wire_error error;
    uint64_t max_output;                    /* decompress: the message limit */
    uint64_t out_need;                      /* decompress: decoded size, reserved before
                                               the work (from the blob header) */
    uv_work_t work;
} alcmd_request;

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
    uint64_t inflight;              /* bytes reserved by requests and replies */
    alcmd_bufpool pool;             /* idle buffers; inflight + pool.bytes <= inflight_cap */
    uint32_t requests_in_flight;    /* received and not yet answered */
    alcmd_session *mem_wait_head, *mem_wait_tail;
    alcmd_request *dec_wait_head, *dec_wait_tail;   /* decompresses waiting for output memory */
    uint32_t self_uid;
    uint64_t start_ns;
    int draining;
    int stopped;                    /* handles closed, the loop may end */
    uv_signal_t sig_term, sig_int, sig_hup;
    uv_timer_t prom_timer, drain_timer, mem_timer;
    uv_timer_t state_timer;         /* periodic save of stream states (state.c) */
    uint64_t peak_anon;             /* highest RssAnon sampled */
};

/* Sets up the server on loop with cfg (copied). 0, or -1 when out of memory. */
int alcmd_server_init(alcmd_server *srv, uv_loop_t *loop, const alcmd_config *cfg,
                      const alcmd_options *opts);

/* Frees what init and the run left (after uv_run has returned). */
void alcmd_server_free(alcmd_server *srv);

/* In-flight bytes a request needs before its payload is read: the payload, and for a
 * compress the largest blob it can produce. */
uint64_t alcmd_request_need(const alcmd_request *req);

/* Reserves bytes of in-flight memory: granted when nothing is in flight or when the cap
 * allows. Requests above 1 MiB may fill only 15/16 of inflight_cap, so a large request
 * holding its reservation (a slow sender, a slow reader) never blocks small ones. 0 when
 * granted, -1 otherwise (the caller waits for alcmd_server_release). */
int alcmd_server_reserve(alcmd_server *srv, uint64_t bytes);

/* Reserves more bytes for a request already holding `own`: granted when nothing else is
 * in flight or when the cap allows. 0 or -1. */
int alcmd_server_reserve_more(alcmd_server *srv, uint64_t bytes, uint64_t own);

/* A decompress waits (first come, first served) until its output can be reserved; then
 * alcmd_ops_start_decompress runs it. */
void alcmd_server_wait_output(alcmd_server *srv, alcmd_request *req);

/* Returns bytes and lets connections waiting for memory continue. */
void alcmd_server_release(alcmd_server *srv, uint64_t bytes);

/* A buffer of at least size bytes for a payload or a reply (capacity in *cap), reusing
 * an idle one when possible. NULL when out of memory. */
uint8_t *alcmd_server_take_buffer(alcmd_server *srv, size_t size, size_t *cap);

/* Gives a buffer back: kept for reuse while the in-flight cap leaves room, else freed. */
void alcmd_server_give_buffer(alcmd_server *srv, uint8_t *ptr, size_t cap);

/* Connection waiting for memory to read its next payload. */
void alcmd_server_wait_memory(alcmd_server *srv, alcmd_session *s);
void alcmd_server_unwait_memory(alcmd_server *srv, alcmd_session *s);

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
