/* session.h - one client connection: the frame-reading state machine (prefix, header,
 * payload read straight into its final buffer), the idle timeout, flow control, and reply
 * writes (header and payload in one uv_write, no copy). */
#ifndef ALCMD_SESSION_H
#define ALCMD_SESSION_H

#include <stdint.h>
#include <uv.h>

#include "access.h"
#include "server.h"

enum {
    ALCMD_RD_PREFIX,       /* reading the 20-byte prefix */
    ALCMD_RD_HEADER,       /* reading the protobuf header */
    ALCMD_RD_WAIT_MEMORY,  /* header accepted; waiting for in-flight memory */
    ALCMD_RD_PAYLOAD,      /* reading the payload into the request's buffer */
    ALCMD_RD_SKIP          /* discarding the payload of a rejected request */
};

struct alcmd_session {
    uv_pipe_t pipe;
    uv_timer_t timer;
    alcmd_server *srv;
    alcmd_session *prev, *next;     /* the server's connections */
    alcmd_peer peer;
    uint64_t serial;
    int state;
    size_t got;                     /* bytes of the current part read so far */
    uint8_t prefix[ALCM_WIRE_PREFIX_SIZE];
    alcm_wire_prefix pf;
    uint8_t *hdr;
    alcmd_request *cur;             /* request whose payload is being read */
    uint64_t skip_left;
    uint8_t *skip_buf;
    alcmd_request *reqs;            /* received, not yet answered */
    alcmd_shm *shm;                 /* the attached shared region, if any */
    uint32_t pending;
    uint32_t writes;                /* uv_writes in progress */
    int reading;
    int progress_on;                /* the progress timer runs (timer) */
    uint64_t progress_read;         /* bytes read since the last progress tick */
    uint32_t progress_writes;       /* replies fully written since the last tick */
    size_t progress_queue;          /* reply bytes queued at the last tick */
    int fatal;                      /* an error closes the connection once written */
    int closing;
    int handles_open;
};

/* Accepts a connection from the listening handle, checks the peer against the
 * allow-list (a refused peer gets ERR_DENIED and is closed) and starts reading. */
void alcmd_session_accept(alcmd_server *srv, uv_stream_t *listener);

/* Sends a reply frame: header then payload_len bytes of payload. Takes ownership of
 * payload (a buffer of payload_cap bytes) and of `hold` in-flight bytes: both go to
 * alcmd_reply_done once written (or dropped). */
void alcmd_session_send(alcmd_session *s, const ProtobufCMessage *header, uint8_t *payload,
                        size_t payload_len, size_t payload_cap, uint64_t hold);

/* Sends an error reply. fatal: the connection closes once it is written. */
void alcmd_session_error(alcmd_session *s, uint64_t id, alcm_wire_error code,
                         alcm_status status, const char *message, int fatal);

/* Re-evaluates whether to read (pending limit, memory, drain) and closes an idle
 * connection during a drain. */
void alcmd_session_update(alcmd_session *s);

/* In-flight memory was reserved for the request this connection waits with (called by
 * the request module). */
void alcmd_session_memory_ready(alcmd_session *s);

/* A request of this connection was answered (or dropped): unlinks it. */
void alcmd_session_request_done(alcmd_session *s, alcmd_request *req);

/* Closes the connection; requests still running finish and their replies are dropped. */
void alcmd_session_close(alcmd_session *s);

#endif
