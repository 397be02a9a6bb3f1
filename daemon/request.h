/* request.h - one request's life in alcmd: created when its header is accepted on a
 * connection, admitted against the in-flight memory cap (or queued until memory frees),
 * its payload read into a buffer it owns, dispatched, run (on the loop, through its stream's
 * queue, on the thread pool), answered, counted, and freed. Every in-flight reservation is
 * made and returned here (inflight.h): no other module touches the accounting. */
#ifndef ALCMD_REQUEST_H
#define ALCMD_REQUEST_H

#include <stdint.h>
#include <uv.h>

#include "alcm.h"
#include "inflight.h"
#include "shm.h"
#include "wire.h"

typedef struct alcmd_server alcmd_server;
typedef struct alcmd_session alcmd_session;
typedef struct alcmd_stream alcmd_stream;

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
    alcmd_inflight_waiter mem_wait;         /* queued for memory: before its payload, or
                                               for its reply before the work */
    void (*reply_ready)(struct alcmd_request *req);  /* runs once a queued reply reservation
                                                        is granted */
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
    uv_work_t work;
} alcmd_request;

/* Sets up and frees the server's in-flight memory (srv->mem, capped by
 * srv->cfg.inflight_cap as it is at each reservation). */
void alcmd_requests_init(alcmd_server *srv);
void alcmd_requests_free(alcmd_server *srv);

/* In-flight bytes now, leaving out those held by `except` (NULL: none). */
uint64_t alcmd_requests_inflight_bytes(const alcmd_server *srv, const alcmd_request *except);

/* A request whose header (hdr, ownership taken) arrived on connection s from uid, with
 * payload_len bytes of payload to follow. NULL when out of memory (hdr is then not taken). */
alcmd_request *alcmd_request_create(alcmd_server *srv, alcmd_session *s, Alcmwire__Request *hdr,
                                    uint64_t id, uint32_t uid, size_t payload_len);

/* In-flight bytes a request needs before its payload is read: the payload, and for a
 * compress the largest blob it can produce. */
uint64_t alcmd_request_need(const alcmd_request *req);

/* Reserves the request's need. 0 when granted; -1 when it must wait: it is queued and
 * alcmd_session_memory_ready(req->session) runs once the memory is reserved for it. */
int alcmd_request_admit(alcmd_request *req);

/* Takes a queued request out of the memory queue (its connection closes). */
void alcmd_request_unadmit(alcmd_request *req);

/* A buffer for the payload (req->payload, payload_cap). 0, or -1 when out of memory. */
int alcmd_request_take_payload(alcmd_request *req);

/* A buffer of at least size bytes for the output (req->out, out_cap). 0, or -1. */
int alcmd_request_take_output(alcmd_request *req, size_t size);

/* The payload has been consumed: its buffer and reservation are returned (a payload in a
 * shared region holds neither). */
void alcmd_request_input_done(alcmd_request *req);

/* Reserves bytes more for the reply before the work that builds it (the decompressed
 * tensor, exported state), so nothing is produced that the cap cannot hold. 0 when granted.
 * Otherwise, with ready NULL: -1, refused (nothing held more). With ready: -1, the request
 * waits in arrival order, keeping what it holds, and ready(req) runs once the bytes are
 * reserved for it. */
int alcmd_request_reserve_reply(alcmd_request *req, uint64_t bytes,
                                void (*ready)(alcmd_request *req));

/* The frame is complete: stamps the request, counts it in flight and dispatches it
 * (srv->dispatch). */
void alcmd_request_start(alcmd_request *req);

/* Answers the request with a reply header and payload (a buffer of cap bytes, ownership
 * taken), counts it, returns what the reply does not need, queues the reply on the
 * connection (dropped if it is gone) and frees the request. */
void alcmd_request_reply(alcmd_request *req, const ProtobufCMessage *header, uint8_t *payload,
                         size_t len, size_t cap);

/* Frees a request that was never dispatched (connection closed or failed while reading
 * it), returning its reservation. */
void alcmd_request_discard(alcmd_request *req);

/* A reply left the daemon (written, or dropped with its connection): its payload buffer
 * (cap bytes, NULL for none) and its `hold` in-flight bytes are returned. */
void alcmd_reply_done(alcmd_server *srv, uint8_t *payload, size_t cap, uint64_t hold);

/* The shared region of the request's connection (NULL without one or once it is gone), and
 * replacing it (attach-shm; the old one is unreferenced). The connection's serial for
 * logs (0 once gone). */
alcmd_shm *alcmd_request_conn_shm(const alcmd_request *req);
void alcmd_request_set_conn_shm(alcmd_request *req, alcmd_shm *shm);
uint64_t alcmd_request_conn_serial(const alcmd_request *req);

#endif
