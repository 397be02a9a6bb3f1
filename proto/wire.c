/* wire.c - decodes and checks alcmd frame prefixes and protobuf headers (docs/PROTOCOL.md). */
#include "wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get_le16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get_le32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static void say(char *msg, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *msg, size_t cap, const char *fmt, ...)
{
    if (!msg || cap == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
}

void alcm_wire_prefix_write(uint8_t out[ALCM_WIRE_PREFIX_SIZE], uint32_t header_len,
                            uint64_t payload_len)
{
    memcpy(out, ALCM_WIRE_MAGIC, 4);
    put_le16(out + 4, ALCM_WIRE_VERSION);
    put_le16(out + 6, 0);
    put_le32(out + 8, header_len);
    put_le64(out + 12, payload_len);
}

alcm_wire_error alcm_wire_prefix_read(const uint8_t in[ALCM_WIRE_PREFIX_SIZE],
                                      uint64_t max_payload, alcm_wire_prefix *out)
{
    out->version = get_le16(in + 4);
    out->flags = get_le16(in + 6);
    out->header_len = get_le32(in + 8);
    out->payload_len = get_le64(in + 12);
    if (memcmp(in, ALCM_WIRE_MAGIC, 4) != 0) return ALCMWIRE__ERROR_CODE__ERR_BAD_MAGIC;
    if (out->version != ALCM_WIRE_VERSION) return ALCMWIRE__ERROR_CODE__ERR_BAD_VERSION;
    if (out->flags != 0 || out->header_len > ALCM_WIRE_MAX_HEADER)
        return ALCMWIRE__ERROR_CODE__ERR_BAD_FRAME;
    if (out->payload_len > max_payload) return ALCMWIRE__ERROR_CODE__ERR_TOO_LARGE;
    return ALCMWIRE__ERROR_CODE__ERR_NONE;
}

int alcm_wire_stream_name_ok(const char *name)
{
    if (!name) return 0;
    size_t n = 0;
    for (; name[n]; n++) {
        unsigned char c = (unsigned char)name[n];
        if (c < 0x21 || c > 0x7e || n >= ALCM_WIRE_MAX_STREAM_NAME) return 0;
    }
    return n > 0;
}

alcm_wire_error alcm_wire_tensor_read(const Alcmwire__Tensor *t, alcm_dtype *dtype,
                                      alcm_shape *shape, uint64_t *nbytes)
{
    if (!t) return ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST;
    size_t esize = alcm_dtype_size((alcm_dtype)t->dtype);
    if (esize == 0 || t->n_dims > ALCM_MAX_RANK) return ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST;
    memset(shape, 0, sizeof *shape);
    shape->rank = (uint32_t)t->n_dims;
    for (size_t i = 0; i < t->n_dims; i++) shape->dims[i] = t->dims[i];
    uint64_t numel;
    if (alcm_shape_numel(shape, &numel) != ALCM_OK) return ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST;
    /* numel < 2^62 and esize <= 4: the product fits in 64 bits. */
    *dtype = (alcm_dtype)t->dtype;
    *nbytes = numel * esize;
    return ALCMWIRE__ERROR_CODE__ERR_NONE;
}

void alcm_wire_tensor_fill(Alcmwire__Tensor *t, alcm_dtype dtype, const alcm_shape *shape,
                           uint64_t dims_storage[ALCM_MAX_RANK])
{
    uint32_t rank = shape->rank <= ALCM_MAX_RANK ? shape->rank : ALCM_MAX_RANK;
    for (uint32_t i = 0; i < rank; i++) dims_storage[i] = shape->dims[i];
    t->dtype = (uint32_t)dtype;
    t->n_dims = rank;
    t->dims = rank ? dims_storage : NULL;
}

alcm_wire_error alcm_wire_config_read(const Alcmwire__StreamConfig *c, alcm_dtype dtype,
                                      int default_deterministic, alcm_stream_config *out,
                                      char *msg, size_t msg_cap)
{
    alcm_stream_config_default(out);
    if (c) {
        alcm_params *p = &out->params;
        p->profile = (alcm_profile)c->profile;
        p->backend = (alcm_backend)c->backend;
        p->entropy_mode = (alcm_entropy_mode)c->entropy_mode;
        p->error_budget = c->error_budget;
        p->aggressiveness = c->aggressiveness;
        p->prune_ratio = c->prune_ratio;
        p->block_size = c->block_size;
        p->level = c->level;
        alcm_sched_config *s = &out->sched;
        s->error_budget = c->sched_error_budget;
        s->window = c->window;
        s->step_up = c->step_up;
        s->back_off = c->back_off;
        s->prune_max = c->prune_max;
        out->error_feedback = c->error_feedback ? 1 : 0;
        out->adaptive = c->adaptive ? 1 : 0;
        switch (c->sched_mode) {
        case ALCMWIRE__SCHED_MODE__SCHED_DEFAULT:
            s->deterministic = default_deterministic ? 1 : 0;
            break;
        case ALCMWIRE__SCHED_MODE__SCHED_MEASURED:
            s->deterministic = 0;
            break;
        case ALCMWIRE__SCHED_MODE__SCHED_DETERMINISTIC:
            s->deterministic = 1;
            break;
        default:
            say(msg, msg_cap, "unknown sched_mode %d", (int)c->sched_mode);
            return ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST;
        }
    } else {
        out->sched.deterministic = default_deterministic ? 1 : 0;
    }
    out->params.dtype = dtype;

    /* alcm_stream_create's own checks (nothing allocated), so a request that passes here
     * builds; the scheduler's are named apart for a clearer reason. */
    if (alcm_sched_config_check(&out->sched) != ALCM_OK) {
        say(msg, msg_cap, "invalid scheduler config (window %u, budget %g, step_up %g, "
            "back_off %g, prune_max %g)", out->sched.window, out->sched.error_budget,
            out->sched.step_up, out->sched.back_off, out->sched.prune_max);
        return ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST;
    }
    alcm_status st = alcm_stream_config_check(out);
    if (st != ALCM_OK) {
        say(msg, msg_cap, "invalid stream config for dtype %s: %s", alcm_dtype_name(dtype),
            alcm_strerror(st));
        return ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST;
    }
    return ALCMWIRE__ERROR_CODE__ERR_NONE;
}

void alcm_wire_config_fill(Alcmwire__StreamConfig *c, const alcm_stream_config *cfg)
{
    const alcm_params *p = &cfg->params;
    c->profile = (uint32_t)p->profile;
    c->backend = (uint32_t)p->backend;
    c->entropy_mode = (uint32_t)p->entropy_mode;
    c->error_budget = p->error_budget;
    c->aggressiveness = p->aggressiveness;
    c->prune_ratio = p->prune_ratio;
    c->block_size = p->block_size;
    c->level = p->level;
    c->sched_error_budget = cfg->sched.error_budget;
    c->window = cfg->sched.window;
    c->step_up = cfg->sched.step_up;
    c->back_off = cfg->sched.back_off;
    c->prune_max = cfg->sched.prune_max;
    c->error_feedback = cfg->error_feedback ? 1 : 0;
    c->adaptive = cfg->adaptive ? 1 : 0;
    c->sched_mode = cfg->sched.deterministic ? ALCMWIRE__SCHED_MODE__SCHED_DETERMINISTIC
                                             : ALCMWIRE__SCHED_MODE__SCHED_MEASURED;
}

int alcm_wire_span_ok(const Alcmwire__ShmSpan *span, uint64_t region_size)
{
    return span && span->offset <= region_size && span->length <= region_size - span->offset;
}

/* A compress whose tensor and blob go through the shared region: no payload, both ranges
 * present, the input exactly the tensor, room for any blob, no overlap. */
static alcm_wire_error check_shm_spans(const Alcmwire__Request *r, uint64_t payload_len,
                                       uint64_t nbytes, char *msg, size_t msg_cap)
{
    const Alcmwire__ShmSpan *in = r->shm_input, *out = r->shm_output;
    if (!in || !out || payload_len != 0) {
        say(msg, msg_cap, "a shared-memory compress needs shm_input, shm_output and no payload");
        return ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST;
    }
    if (in->length != nbytes) {
        say(msg, msg_cap, "shm_input is %llu bytes but the tensor needs %llu",
            (unsigned long long)in->length, (unsigned long long)nbytes);
        return ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST;
    }
    if (nbytes > SIZE_MAX / 2 || out->length < alcm_compress_bound((size_t)nbytes)) {
        say(msg, msg_cap, "shm_output must hold alcm_compress_bound(%llu) bytes",
            (unsigned long long)nbytes);
        return ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST;
    }
    /* Offsets within 2^62 keep the sums below from wrapping. */
    const uint64_t lim = (uint64_t)1 << 62;
    if (in->offset > lim || out->offset > lim || in->length > lim || out->length > lim ||
        (in->offset < out->offset + out->length && out->offset < in->offset + in->length)) {
        say(msg, msg_cap, "shm_input and shm_output overlap or are out of range");
        return ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST;
    }
    return ALCMWIRE__ERROR_CODE__ERR_NONE;
}

/* Per-op checks of an unpacked request against its payload length. */
static alcm_wire_error check_request(const Alcmwire__Request *r, uint64_t payload_len,
                                     char *msg, size_t msg_cap)
{
    const int named = r->stream && r->stream[0];
    switch (r->op) {
    case ALCMWIRE__OP__OP_HELLO:
        if (payload_len != 0) goto no_payload;
        return ALCMWIRE__ERROR_CODE__ERR_NONE;
    case ALCMWIRE__OP__OP_STATS:
        if (payload_len != 0) goto no_payload;
        if (named && !alcm_wire_stream_name_ok(r->stream)) goto bad_name;
        return ALCMWIRE__ERROR_CODE__ERR_NONE;
    case ALCMWIRE__OP__OP_RESET_STREAM:
        if (payload_len != 0) goto no_payload;
        if (!alcm_wire_stream_name_ok(r->stream)) goto bad_name;
        return ALCMWIRE__ERROR_CODE__ERR_NONE;
    case ALCMWIRE__OP__OP_EXPORT_STATE:
        if (payload_len != 0) goto no_payload;
        if (!alcm_wire_stream_name_ok(r->stream)) goto bad_name;
        return ALCMWIRE__ERROR_CODE__ERR_NONE;
    case ALCMWIRE__OP__OP_IMPORT_STATE:
        if (!alcm_wire_stream_name_ok(r->stream)) goto bad_name;
        if (payload_len == 0) {
            say(msg, msg_cap, "import-state needs a stream state as payload");
            return ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST;
        }
        return ALCMWIRE__ERROR_CODE__ERR_NONE;
    case ALCMWIRE__OP__OP_ATTACH_SHM:
        if (payload_len != 0) goto no_payload;
        if (r->shm_size == 0) {
            say(msg, msg_cap, "attach-shm needs shm_size");
            return ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST;
        }
        return ALCMWIRE__ERROR_CODE__ERR_NONE;
    case ALCMWIRE__OP__OP_DECOMPRESS:
        if (payload_len == 0) {
            say(msg, msg_cap, "decompress needs a blob as payload");
            return ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST;
        }
        return ALCMWIRE__ERROR_CODE__ERR_NONE;
    case ALCMWIRE__OP__OP_COMPRESS: {
        if (!alcm_wire_stream_name_ok(r->stream)) goto bad_name;
        alcm_dtype dtype;
        alcm_shape shape;
        uint64_t nbytes;
        if (alcm_wire_tensor_read(r->tensor, &dtype, &shape, &nbytes) !=
            ALCMWIRE__ERROR_CODE__ERR_NONE) {
            say(msg, msg_cap, "compress needs a tensor with a known dtype, rank <= %d and "
                "fewer than 2^62 elements", ALCM_MAX_RANK);
            return ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST;
        }
        if (r->shm_input || r->shm_output) {
            alcm_wire_error e = check_shm_spans(r, payload_len, nbytes, msg, msg_cap);
            if (e != ALCMWIRE__ERROR_CODE__ERR_NONE) return e;
        } else if (nbytes != payload_len) {
            say(msg, msg_cap, "payload is %llu bytes but the tensor needs %llu",
                (unsigned long long)payload_len, (unsigned long long)nbytes);
            return ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST;
        }
        alcm_stream_config cfg;
        return alcm_wire_config_read(r->config, dtype, 0, &cfg, msg, msg_cap);
    }
    default:
        say(msg, msg_cap, "unknown operation %d", (int)r->op);
        return ALCMWIRE__ERROR_CODE__ERR_UNKNOWN_OP;
    }
no_payload:
    say(msg, msg_cap, "%s takes no payload", alcm_wire_op_name(r->op));
    return ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST;
bad_name:
    say(msg, msg_cap, "stream name must be 1..%u printable ASCII characters without spaces",
        ALCM_WIRE_MAX_STREAM_NAME);
    return ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST;
}

alcm_wire_error alcm_wire_request_parse(const uint8_t *hdr, size_t len, uint64_t payload_len,
                                        Alcmwire__Request **out, uint64_t *request_id,
                                        char *msg, size_t msg_cap)
{
    *out = NULL;
    *request_id = 0;
    if (len > ALCM_WIRE_MAX_HEADER) {
        say(msg, msg_cap, "header of %zu bytes exceeds %u", len, ALCM_WIRE_MAX_HEADER);
        return ALCMWIRE__ERROR_CODE__ERR_BAD_FRAME;
    }
    Alcmwire__Request *r = alcmwire__request__unpack(NULL, len, hdr);
    if (!r) {
        say(msg, msg_cap, "header is not a valid alcmwire.Request message");
        return ALCMWIRE__ERROR_CODE__ERR_BAD_HEADER;
    }
    *request_id = r->request_id;
    alcm_wire_error e = check_request(r, payload_len, msg, msg_cap);
    if (e != ALCMWIRE__ERROR_CODE__ERR_NONE) {
        alcmwire__request__free_unpacked(r, NULL);
        return e;
    }
    *out = r;
    return e;
}

void alcm_wire_request_free(Alcmwire__Request *req)
{
    if (req) alcmwire__request__free_unpacked(req, NULL);
}

int alcm_wire_reply_parse(const uint8_t *hdr, size_t len, Alcmwire__Reply **out)
{
    *out = NULL;
    if (len > ALCM_WIRE_MAX_HEADER) return -1;
    Alcmwire__Reply *r = alcmwire__reply__unpack(NULL, len, hdr);
    if (!r) return -1;
    if (r->op <= ALCMWIRE__OP__OP_NONE || r->op > ALCMWIRE__OP__OP_IMPORT_STATE) {
        alcmwire__reply__free_unpacked(r, NULL);
        return -1;
    }
    if (!alcm_wire_error_known((int)r->error)) r->error = ALCMWIRE__ERROR_CODE__ERR_INTERNAL;
    *out = r;
    return 0;
}

void alcm_wire_reply_free(Alcmwire__Reply *reply)
{
    if (reply) alcmwire__reply__free_unpacked(reply, NULL);
}

uint8_t *alcm_wire_frame_pack(const ProtobufCMessage *header, uint64_t payload_len,
                              size_t *out_len)
{
    size_t hlen = protobuf_c_message_get_packed_size(header);
    if (hlen > ALCM_WIRE_MAX_HEADER) return NULL;
    uint8_t *buf = malloc(ALCM_WIRE_PREFIX_SIZE + hlen);
    if (!buf) return NULL;
    size_t packed = protobuf_c_message_pack(header, buf + ALCM_WIRE_PREFIX_SIZE);
    alcm_wire_prefix_write(buf, (uint32_t)packed, payload_len);
    *out_len = ALCM_WIRE_PREFIX_SIZE + packed;
    return buf;
}

int alcm_wire_error_known(int code)
{
    return code >= ALCMWIRE__ERROR_CODE__ERR_NONE && code <= ALCMWIRE__ERROR_CODE__ERR_INTERNAL;
}

const char *alcm_wire_error_name(alcm_wire_error code)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&alcmwire__error_code__descriptor, (int)code);
    return v ? v->name : "?";
}

const char *alcm_wire_op_name(Alcmwire__Op op)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&alcmwire__op__descriptor, (int)op);
    return v ? v->name : "?";
}
