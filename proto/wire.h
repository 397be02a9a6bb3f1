/* wire.h - frame prefix and header codec of the alcmd protocol (docs/PROTOCOL.md): pure
 * functions over bytes shared by alcmd, libalcmc and the frame fuzz target. No I/O, no
 * globals. Internal to the project: applications use client/lib/alcmc.h. */
#ifndef ALCM_WIRE_H
#define ALCM_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "alcm.h"
#include "alcm.pb-c.h"

#define ALCM_WIRE_MAGIC "ALCP"
#define ALCM_WIRE_VERSION 1
#define ALCM_WIRE_PREFIX_SIZE 20
#define ALCM_WIRE_MAX_HEADER 65536u
#define ALCM_WIRE_MAX_STREAM_NAME 256u
/* No configured message limit may exceed this (1 TiB). */
#define ALCM_WIRE_MAX_MESSAGE_CEILING ((uint64_t)1 << 40)
/* Longest error message a reply carries (bytes, NUL excluded). */
#define ALCM_WIRE_MAX_MESSAGE_TEXT 512u

typedef Alcmwire__ErrorCode alcm_wire_error;

typedef struct {
    uint16_t version;
    uint16_t flags;
    uint32_t header_len;
    uint64_t payload_len;
} alcm_wire_prefix;

/* Writes a version-1 prefix (magic, version, flags 0, lengths) into out. */
void alcm_wire_prefix_write(uint8_t out[ALCM_WIRE_PREFIX_SIZE], uint32_t header_len,
                            uint64_t payload_len);

/* Decodes a prefix and checks it in order: magic (ERR_BAD_MAGIC), version
 * (ERR_BAD_VERSION), flags and header_len <= ALCM_WIRE_MAX_HEADER (ERR_BAD_FRAME),
 * payload_len <= max_payload (ERR_TOO_LARGE). *out is filled whatever the result. */
alcm_wire_error alcm_wire_prefix_read(const uint8_t in[ALCM_WIRE_PREFIX_SIZE],
                                      uint64_t max_payload, alcm_wire_prefix *out);

/* 1 when name is a valid stream name: 1..ALCM_WIRE_MAX_STREAM_NAME bytes, each in
 * 0x21..0x7E; 0 otherwise (NULL included). */
int alcm_wire_stream_name_ok(const char *name);

/* Reads a Tensor: dtype known, rank <= ALCM_MAX_RANK, element count below 2^62 and its
 * byte size representable. Fills *dtype, *shape and *nbytes. ERR_BAD_REQUEST otherwise. */
alcm_wire_error alcm_wire_tensor_read(const Alcmwire__Tensor *t, alcm_dtype *dtype,
                                      alcm_shape *shape, uint64_t *nbytes);

/* Fills *t (already initialised with ALCMWIRE__TENSOR__INIT) to describe dtype and shape;
 * t->dims points into dims_storage, which must outlive *t. */
void alcm_wire_tensor_fill(Alcmwire__Tensor *t, alcm_dtype dtype, const alcm_shape *shape,
                           uint64_t dims_storage[ALCM_MAX_RANK]);

/* Builds the alcm_stream_config a request describes: c NULL means
 * alcm_stream_config_default(); sched_mode SCHED_DEFAULT takes default_deterministic.
 * params.dtype is dtype. Validates with libalcm's own checks (alcm_sched_config_check,
 * alcm_stream_config_check: nothing is allocated); ERR_BAD_REQUEST with a reason in msg (if
 * non-NULL) when invalid. */
alcm_wire_error alcm_wire_config_read(const Alcmwire__StreamConfig *c, alcm_dtype dtype,
                                      int default_deterministic, alcm_stream_config *out,
                                      char *msg, size_t msg_cap);

/* Fills *c (initialised with ALCMWIRE__STREAM_CONFIG__INIT) from cfg, every field, with
 * sched_mode MEASURED or DETERMINISTIC from cfg->sched.deterministic. */
void alcm_wire_config_fill(Alcmwire__StreamConfig *c, const alcm_stream_config *cfg);

/* Unpacks a request header of len bytes and checks it against payload_len: a known op,
 * then per op the fields it needs (stream name, tensor, config) and the payload size.
 * *request_id gets the id as soon as the header unpacks (0 before). On ERR_NONE, *out is
 * the request (free with alcm_wire_request_free); otherwise *out is NULL and msg (if
 * non-NULL) holds a one-line reason. */
alcm_wire_error alcm_wire_request_parse(const uint8_t *hdr, size_t len, uint64_t payload_len,
                                        Alcmwire__Request **out, uint64_t *request_id,
                                        char *msg, size_t msg_cap);
void alcm_wire_request_free(Alcmwire__Request *req);

/* 1 when span lies within a shared region of region_size bytes. */
int alcm_wire_span_ok(const Alcmwire__ShmSpan *span, uint64_t region_size);

/* Unpacks a reply header and checks that the op is known and the error code is known
 * (an unknown code becomes ERR_INTERNAL). Returns 0 with *out set, or -1 when the bytes
 * are not a Reply. Free with alcm_wire_reply_free. */
int alcm_wire_reply_parse(const uint8_t *hdr, size_t len, Alcmwire__Reply **out);
void alcm_wire_reply_free(Alcmwire__Reply *reply);

/* Packs prefix + header into one malloc'ed buffer of *out_len bytes, announcing
 * payload_len payload bytes to follow. NULL when out of memory or when the packed header
 * exceeds ALCM_WIRE_MAX_HEADER. */
uint8_t *alcm_wire_frame_pack(const ProtobufCMessage *header, uint64_t payload_len,
                              size_t *out_len);

/* Symbolic names ("ERR_BAD_MAGIC", "OP_COMPRESS"); "?" when unknown; static storage. */
const char *alcm_wire_error_name(alcm_wire_error code);
const char *alcm_wire_op_name(Alcmwire__Op op);

/* 1 when code is a value of ErrorCode in this version. */
int alcm_wire_error_known(int code);

#endif
