/* internal.h - the connection object of libalcmc and the request/reply exchange its
 * operations share. Internal to client/lib. */
#ifndef ALCMC_INTERNAL_H
#define ALCMC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "alcmc.h"
#include "wire.h"

struct alcmc_conn {
    int fd;
    int timeout_ms;              /* 0: wait forever */
    alcmc_status broken;         /* ALCMC_OK while usable, else the error that broke it */
    uint64_t next_id;
    alcmc_server_info server;
    char client_name[64];
    char message[ALCM_WIRE_MAX_MESSAGE_TEXT + 128];
    alcm_status codec_status;
    int shm_wanted;              /* alcmc_options.shm, cleared if the daemon refuses */
    int shm_fd;                  /* the attached region, -1 if none */
    uint8_t *shm_base;
    size_t shm_size;
};

/* Where the payload of a reply goes: into dst (capacity cap), or, with alloc set, into a
 * malloc'ed buffer of at most cap bytes returned in *allocated. *len gets its size. */
typedef struct {
    void *dst;
    size_t cap;
    int alloc;
    uint8_t *allocated;
    size_t len;
} alcmc_sink;

/* Sends req (its request_id is assigned here) with payload_len payload bytes (and the
 * descriptor pass_fd with them when >= 0) and reads the reply. Returns ALCMC_OK with
 * *reply set (free with alcm_wire_reply_free) when the daemon answered op `expect`; an
 * error status otherwise (daemon error replies are mapped and their message kept in
 * conn->message). sink may be NULL when no payload is expected. */
alcmc_status alcmc__exchange(alcmc_conn *c, Alcmwire__Request *req, const void *payload,
                             size_t payload_len, int pass_fd, Alcmwire__Op expect,
                             alcmc_sink *sink, Alcmwire__Reply **reply);

/* Records a failure message on the connection (printf-style) and returns status. */
alcmc_status alcmc__fail(alcmc_conn *c, alcmc_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Clears the last message and codec status before a new call; returns ALCMC_E_BROKEN
 * (with a message) if the connection is unusable, ALCMC_OK otherwise. */
alcmc_status alcmc__begin(alcmc_conn *c);

/* Blocking socket I/O with the connection's progress timeout (io.c). Each returns ALCMC_OK
 * or records why it failed (ALCMC_E_DAEMON_GONE, ALCMC_E_TIMEOUT, ALCMC_E_IO) and returns
 * that. alcmc__recv_exact sets *eof_first when the peer closed before the first byte. */
struct iovec;
alcmc_status alcmc__send_all(alcmc_conn *c, struct iovec *iov, int iovcnt, int pass_fd);
alcmc_status alcmc__recv_exact(alcmc_conn *c, void *buf, size_t len, int *eof_first);
alcmc_status alcmc__drain(alcmc_conn *c, uint64_t len);

/* Writes the next n bytes of fd to the start of the region (size >= n): a kernel copy
 * into the memfd when the file allows it, read(2) into the mapping otherwise. ALCMC_E_FILE
 * (with a message) on a read error or a file shorter than n. */
alcmc_status alcmc__shm_fill(alcmc_conn *c, int fd, size_t n);

/* Makes sure a shared region of at least `need` bytes is attached (shm.c). 1 when it is,
 * 0 when shared memory is not to be used (refused, unsupported, or the connection failed:
 * then the status of the failure is in *status, ALCMC_OK otherwise). */
int alcmc__shm_ready(alcmc_conn *c, size_t need, alcmc_status *status);

/* Unmaps and closes the region. */
void alcmc__shm_release(alcmc_conn *c);

/* Maps a daemon error code to the client status. */
alcmc_status alcmc__status_from_wire(alcm_wire_error code);

/* 1 when the daemon closes the connection after sending this error. */
int alcmc__wire_error_fatal(alcm_wire_error code);

#endif
