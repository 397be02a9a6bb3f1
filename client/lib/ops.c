/* ops.c - libalcmc operations on a daemon connection: compress, decompress, reset-stream. */
#include <string.h>

#include "convert.h"
#include "internal.h"

/* Tensors from this size on go through the shared region when there is one. */
#define ALCMC_SHM_MIN ((size_t)256 << 10)

static void result_from_wire(const Alcmwire__CompressReply *w, alcmc_compress_result *out)
{
    memset(out, 0, sizeof *out);
    alcm_wire_info_read(w, &out->info);
    out->cpu_seconds = w->cpu_seconds;
    alcm_wire_sched_read(w->sched, &out->sched);
    out->event = (alcmc_stream_event)w->stream_event;
}

/* Bytes of the shared region a compress of src_bytes needs: the tensor, padded to 64, then
 * room for its blob. */
static size_t shm_need(size_t src_bytes, size_t *out_off)
{
    *out_off = (src_bytes + 63) & ~(size_t)63;
    return *out_off + alcm_compress_bound(src_bytes);
}

alcmc_status alcmc_input_buffer(alcmc_conn *conn, size_t src_bytes, void **buf)
{
    if (!conn || !buf) return ALCMC_E_ARG;
    *buf = NULL;
    alcmc_status st = alcmc__begin(conn);
    if (st != ALCMC_OK) return st;
    if (src_bytes < ALCMC_SHM_MIN || src_bytes > conn->server.max_message_bytes)
        return ALCMC_OK;
    size_t out_off;
    if (alcmc__shm_ready(conn, shm_need(src_bytes, &out_off), &st)) *buf = conn->shm_base;
    return st;
}

alcmc_status alcmc_input_file(alcmc_conn *conn, int fd, size_t src_bytes, void **buf)
{
    if (!conn || !buf || fd < 0) return ALCMC_E_ARG;
    alcmc_status st = alcmc_input_buffer(conn, src_bytes, buf);
    if (st != ALCMC_OK || !*buf) return st;
    st = alcmc__shm_fill(conn, fd, src_bytes);
    if (st != ALCMC_OK) *buf = NULL;
    return st;
}

alcmc_status alcmc_compress(alcmc_conn *conn, const char *stream, const alcm_stream_config *cfg,
                            const alcm_shape *shape, const void *src, size_t src_bytes,
                            void *dst, size_t dst_cap, size_t *dst_len,
                            alcmc_compress_result *result)
{
    if (!conn || !shape || (!src && src_bytes) || (!dst && dst_cap) || !dst_len)
        return ALCMC_E_ARG;
    *dst_len = 0;
    alcmc_status st = alcmc__begin(conn);
    if (st != ALCMC_OK) return st;
    if (!alcm_wire_stream_name_ok(stream))
        return alcmc__fail(conn, ALCMC_E_ARG, "stream name must be 1..%u printable ASCII "
                           "characters without spaces", ALCM_WIRE_MAX_STREAM_NAME);
    alcm_dtype dtype = cfg ? cfg->params.dtype : ALCM_DTYPE_F32;
    uint64_t numel;
    if (alcm_shape_numel(shape, &numel) != ALCM_OK || alcm_dtype_size(dtype) == 0 ||
        numel * alcm_dtype_size(dtype) != src_bytes)
        return alcmc__fail(conn, ALCMC_E_ARG, "shape and dtype do not describe %zu bytes",
                           src_bytes);
    if (src_bytes > conn->server.max_message_bytes)
        return alcmc__fail(conn, ALCMC_E_TOO_LARGE, "%zu bytes exceed the daemon's limit %llu",
                           src_bytes, (unsigned long long)conn->server.max_message_bytes);

    Alcmwire__Request req = ALCMWIRE__REQUEST__INIT;
    Alcmwire__Tensor tensor = ALCMWIRE__TENSOR__INIT;
    Alcmwire__StreamConfig wcfg = ALCMWIRE__STREAM_CONFIG__INIT;
    uint64_t dims[ALCM_MAX_RANK];
    req.op = ALCMWIRE__OP__OP_COMPRESS;
    req.stream = (char *)stream;
    alcm_wire_tensor_fill(&tensor, dtype, shape, dims);
    req.tensor = &tensor;
    if (cfg) {
        alcm_wire_config_fill(&wcfg, cfg);
        req.config = &wcfg;
    }
    /* Large tensors: copied once into the shared region (not at all when src is the
     * region, from alcmc_input_buffer), read there by the daemon, which writes the blob
     * right after them. */
    size_t bound = alcm_compress_bound(src_bytes), out_off;
    size_t need = shm_need(src_bytes, &out_off);
    const int in_region = conn->shm_base && src == conn->shm_base;
    if (in_region && (src_bytes < ALCMC_SHM_MIN || need > conn->shm_size))
        return alcmc__fail(conn, ALCMC_E_ARG, "the input buffer was obtained for fewer than "
                           "%zu bytes", src_bytes);
    int via_shm = 0;
    if (src_bytes >= ALCMC_SHM_MIN) {
        via_shm = alcmc__shm_ready(conn, need, &st);
        if (st != ALCMC_OK) return st;
    }
    Alcmwire__ShmSpan in = ALCMWIRE__SHM_SPAN__INIT, out = ALCMWIRE__SHM_SPAN__INIT;
    alcmc_sink sink = {.dst = dst, .cap = dst_cap};
    Alcmwire__Reply *r;
    if (via_shm) {
        if (!in_region) memcpy(conn->shm_base, src, src_bytes);
        in.length = src_bytes;
        out.offset = out_off;
        out.length = bound;
        req.shm_input = &in;
        req.shm_output = &out;
        st = alcmc__exchange(conn, &req, NULL, 0, -1, ALCMWIRE__OP__OP_COMPRESS, NULL, &r);
    } else {
        st = alcmc__exchange(conn, &req, src, src_bytes, -1, ALCMWIRE__OP__OP_COMPRESS, &sink,
                             &r);
    }
    if (st != ALCMC_OK) return st;
    const Alcmwire__CompressReply *cr = r->compress;
    if (!cr || (via_shm && (!cr->blob_in_shm || cr->blob_bytes > bound))) {
        alcm_wire_reply_free(r);
        conn->broken = ALCMC_E_PROTOCOL;
        return alcmc__fail(conn, ALCMC_E_PROTOCOL, "compress reply without its fields");
    }
    if (via_shm) {
        if (cr->blob_bytes > dst_cap) {
            alcmc__fail(conn, ALCMC_E_DST_TOO_SMALL, "result is %llu bytes, buffer %zu",
                        (unsigned long long)cr->blob_bytes, dst_cap);
            alcm_wire_reply_free(r);
            return ALCMC_E_DST_TOO_SMALL;
        }
        memcpy(dst, conn->shm_base + out_off, (size_t)cr->blob_bytes);
        sink.len = (size_t)cr->blob_bytes;
    }
    *dst_len = sink.len;
    if (result) result_from_wire(r->compress, result);
    alcm_wire_reply_free(r);
    return ALCMC_OK;
}

alcmc_status alcmc_decompress(alcmc_conn *conn, const void *blob, size_t blob_len, void *dst,
                              size_t dst_cap, size_t *dst_len)
{
    if (!conn || !blob || blob_len == 0 || (!dst && dst_cap) || !dst_len) return ALCMC_E_ARG;
    *dst_len = 0;
    alcmc_status st = alcmc__begin(conn);
    if (st != ALCMC_OK) return st;
    if (blob_len > conn->server.max_message_bytes)
        return alcmc__fail(conn, ALCMC_E_TOO_LARGE, "%zu bytes exceed the daemon's limit %llu",
                           blob_len, (unsigned long long)conn->server.max_message_bytes);
    Alcmwire__Request req = ALCMWIRE__REQUEST__INIT;
    req.op = ALCMWIRE__OP__OP_DECOMPRESS;
    alcmc_sink sink = {.dst = dst, .cap = dst_cap};
    Alcmwire__Reply *r;
    st = alcmc__exchange(conn, &req, blob, blob_len, -1, ALCMWIRE__OP__OP_DECOMPRESS, &sink,
                         &r);
    if (st != ALCMC_OK) return st;
    *dst_len = sink.len;
    alcm_wire_reply_free(r);
    return ALCMC_OK;
}

/* Starts a call on a named stream: the connection usable, the name valid, *req a request
 * of op on it. */
static alcmc_status begin_stream_op(alcmc_conn *conn, const char *stream, Alcmwire__Op op,
                                    Alcmwire__Request *req)
{
    alcmc_status st = alcmc__begin(conn);
    if (st != ALCMC_OK) return st;
    if (!alcm_wire_stream_name_ok(stream))
        return alcmc__fail(conn, ALCMC_E_ARG, "invalid stream name");
    alcmwire__request__init(req);
    req->op = op;
    req->stream = (char *)stream;
    return ALCMC_OK;
}

alcmc_status alcmc_reset_stream(alcmc_conn *conn, const char *stream, int *existed)
{
    if (!conn) return ALCMC_E_ARG;
    Alcmwire__Request req;
    alcmc_status st = begin_stream_op(conn, stream, ALCMWIRE__OP__OP_RESET_STREAM, &req);
    if (st != ALCMC_OK) return st;
    Alcmwire__Reply *r;
    st = alcmc__exchange(conn, &req, NULL, 0, -1, ALCMWIRE__OP__OP_RESET_STREAM, NULL, &r);
    if (st != ALCMC_OK) return st;
    if (existed) *existed = r->reset && r->reset->existed;
    alcm_wire_reply_free(r);
    return ALCMC_OK;
}

alcmc_status alcmc_export_state(alcmc_conn *conn, const char *stream, void *dst,
                                size_t dst_cap, size_t *len)
{
    if (!conn || !len || (!dst && dst_cap)) return ALCMC_E_ARG;
    *len = 0;
    Alcmwire__Request req;
    alcmc_status st = begin_stream_op(conn, stream, ALCMWIRE__OP__OP_EXPORT_STATE, &req);
    if (st != ALCMC_OK) return st;
    alcmc_sink sink = {.dst = dst, .cap = dst_cap};
    Alcmwire__Reply *r;
    st = alcmc__exchange(conn, &req, NULL, 0, -1, ALCMWIRE__OP__OP_EXPORT_STATE, &sink, &r);
    if (st != ALCMC_OK) return st;
    alcm_wire_reply_free(r);
    *len = sink.len;
    return ALCMC_OK;
}

alcmc_status alcmc_import_state(alcmc_conn *conn, const char *stream, const void *state,
                                size_t len)
{
    if (!conn || !state || len == 0) return ALCMC_E_ARG;
    Alcmwire__Request req;
    alcmc_status st = begin_stream_op(conn, stream, ALCMWIRE__OP__OP_IMPORT_STATE, &req);
    if (st != ALCMC_OK) return st;
    Alcmwire__Reply *r;
    st = alcmc__exchange(conn, &req, state, len, -1, ALCMWIRE__OP__OP_IMPORT_STATE, NULL, &r);
    if (st != ALCMC_OK) return st;
    alcm_wire_reply_free(r);
    return ALCMC_OK;
}
