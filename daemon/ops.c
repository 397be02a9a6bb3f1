/* ops.c - answers complete requests: hello, stats, reset-stream, compress, decompress. */
#include "ops.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "convert.h"
#include "log.h"
#include "report.h"
#include "work.h"

static void fail(alcmd_request *req, alcm_wire_error code, alcm_status status,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void fail(alcmd_request *req, alcm_wire_error code, alcm_status status,
                 const char *fmt, ...)
{
    char msg[ALCM_WIRE_MAX_MESSAGE_TEXT];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    alcmd_counters_error(&req->srv->total, (int)code);
    if (req->stream) alcmd_counters_error(&req->stream->counters, (int)code);
    alcmd_log(ALCMD_LOG_INFO, "request %llu (%s, uid %u): %s: %s",
              (unsigned long long)req->id, alcm_wire_op_name(req->op), req->uid,
              alcm_wire_error_name(code), msg);
    Alcmwire__Reply r = ALCMWIRE__REPLY__INIT;
    r.op = ALCMWIRE__OP__OP_ERROR;
    r.request_id = req->id;
    r.error = code;
    r.message = msg;
    r.alcm_status = status;
    alcmd_request_reply(req, &r.base, NULL, 0, 0);
}

static void do_hello(alcmd_request *req)
{
    const alcmd_config *cfg = &req->srv->cfg;
    if (req->hdr->hello)
        alcmd_log(ALCMD_LOG_DEBUG, "hello from '%s' (uid %u), protocol %u",
                  req->hdr->hello->client_name, req->uid, req->hdr->hello->protocol_version);
    Alcmwire__HelloReply h = ALCMWIRE__HELLO_REPLY__INIT;
    h.protocol_version = ALCM_WIRE_VERSION;
    h.daemon_version = (char *)ALCM_VERSION_STRING;
    h.max_message_bytes = cfg->max_message_bytes;
    h.max_header_bytes = ALCM_WIRE_MAX_HEADER;
    h.max_streams = cfg->max_streams;
    h.max_pending = cfg->max_pending;
    h.deterministic = cfg->deterministic;
    h.idle_timeout_ms = cfg->idle_timeout_ms;
    h.pid = (uint32_t)getpid();
    h.shm_max_bytes = cfg->shm_max_bytes;
    Alcmwire__Reply r = ALCMWIRE__REPLY__INIT;
    r.op = ALCMWIRE__OP__OP_HELLO;
    r.request_id = req->id;
    r.hello = &h;
    alcmd_request_reply(req, &r.base, NULL, 0, 0);
}

static void do_stats(alcmd_request *req)
{
    const char *filter = req->hdr->stream && req->hdr->stream[0] ? req->hdr->stream : NULL;
    alcmd_report *rep = alcmd_report_build(req->srv, filter, req);
    uint8_t *buf = NULL;
    size_t len = 0;
    if (rep) {
        len = alcmwire__stats__get_packed_size(alcmd_report_stats(rep));
        buf = malloc(len ? len : 1);
        if (buf) alcmwire__stats__pack(alcmd_report_stats(rep), buf);
        alcmd_report_free(rep);
    }
    if (!buf) {
        fail(req, ALCMWIRE__ERROR_CODE__ERR_NO_MEMORY, ALCM_E_NOMEM, "no memory for stats");
        return;
    }
    Alcmwire__Reply r = ALCMWIRE__REPLY__INIT;
    r.op = ALCMWIRE__OP__OP_STATS;
    r.request_id = req->id;
    alcmd_request_reply(req, &r.base, buf, len, len);
}

static void reply_reset(alcmd_request *req, int existed)
{
    Alcmwire__ResetReply rr = ALCMWIRE__RESET_REPLY__INIT;
    rr.existed = existed;
    Alcmwire__Reply r = ALCMWIRE__REPLY__INIT;
    r.op = ALCMWIRE__OP__OP_RESET_STREAM;
    r.request_id = req->id;
    r.reset = &rr;
    alcmd_request_reply(req, &r.base, NULL, 0, 0);
}

static void compress_done(uv_work_t *work, int status);
static void decompress_done(uv_work_t *work, int status);

/* Export-state: the stream's state bytes as the reply payload (docs/STATE.md). */
static void export_state(alcmd_request *req, alcmd_stream *st)
{
    if (!st->st) {
        fail(req, ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST, ALCM_OK,
             "stream '%s' holds no state (never used, or evicted)", st->name);
        return;
    }
    size_t cap = alcm_stream_export_size(st->st), len;
    /* The reply is reserved before it is built, like every other reply. */
    if (alcmd_request_reserve_reply(req, cap, NULL) != 0) {
        fail(req, ALCMWIRE__ERROR_CODE__ERR_OVERLOADED, ALCM_OK,
             "in-flight memory cap reached (%zu bytes of state); retry", cap);
        return;
    }
    uint8_t *buf = malloc(cap);
    if (!buf) {
        fail(req, ALCMWIRE__ERROR_CODE__ERR_NO_MEMORY, ALCM_E_NOMEM, "no memory for the state");
        return;
    }
    alcm_status s = alcm_stream_export(st->st, buf, cap, &len);
    if (s != ALCM_OK) {
        free(buf);
        fail(req, ALCMWIRE__ERROR_CODE__ERR_INTERNAL, s, "export: %s", alcm_strerror(s));
        return;
    }
    Alcmwire__Reply r = ALCMWIRE__REPLY__INIT;
    r.op = ALCMWIRE__OP__OP_EXPORT_STATE;
    r.request_id = req->id;
    alcmd_request_reply(req, &r.base, buf, len, cap);
}

/* Import-state: replaces the stream's state (and configuration) with the payload's. */
static void import_state(alcmd_request *req, alcmd_stream *st)
{
    alcmd_server *srv = req->srv;
    alcm_stream *fresh;
    alcm_status s = alcm_stream_import(req->payload, req->payload_len, &fresh);
    if (s != ALCM_OK) {
        fail(req, s == ALCM_E_NOMEM ? ALCMWIRE__ERROR_CODE__ERR_NO_MEMORY
                                    : ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST,
             s, "the stream state was refused: %s", alcm_strerror(s));
        return;
    }
    if (st->st) alcmd_streams_detach(&srv->streams, st);
    if (alcmd_streams_make_room(&srv->streams, srv->cfg.max_streams) < 0) {
        alcm_stream_free(fresh);
        fail(req, ALCMWIRE__ERROR_CODE__ERR_OVERLOADED, ALCM_OK,
             "all %u live streams are busy", srv->cfg.max_streams);
        return;
    }
    alcm_stream_config cfg;
    alcm_stream_get_config(fresh, &cfg);
    alcmd_streams_attach(&srv->streams, st, fresh, &cfg);
    alcm_stream_get_state(fresh, &st->sched);
    alcmd_streams_set_memory(&srv->streams, st, alcm_stream_memory(fresh));
    st->evicted = 0;
    alcmd_streams_enforce_cap(&srv->streams, srv->cfg.memory_cap);
    alcmd_log(ALCMD_LOG_INFO, "stream '%s' (uid %u): state imported at step %llu", st->name,
              st->uid, (unsigned long long)st->sched.steps);
    Alcmwire__Reply r = ALCMWIRE__REPLY__INIT;
    r.op = ALCMWIRE__OP__OP_IMPORT_STATE;
    r.request_id = req->id;
    alcmd_request_reply(req, &r.base, NULL, 0, 0);
}

/* Builds (or rebuilds) the stream's state for a compress step and starts it on the
 * thread pool. Returns 0 when started; otherwise the request has been answered. */
static int start_compress(alcmd_request *req)
{
    alcmd_server *srv = req->srv;
    alcmd_stream *st = req->stream;
    int reconfigured = 0;
    if (st->st && !alcm_stream_config_equal(&st->cfg, &req->scfg)) {
        alcmd_streams_detach(&srv->streams, st);
        reconfigured = 1;
    }
    req->event = ALCMWIRE__STREAM_EVENT__STREAM_CONTINUED;
    if (!st->st) {
        if (alcmd_streams_make_room(&srv->streams, srv->cfg.max_streams) < 0) {
            fail(req, ALCMWIRE__ERROR_CODE__ERR_OVERLOADED, ALCM_OK,
                 "all %u live streams are busy", srv->cfg.max_streams);
            return -1;
        }
        alcm_stream *a;
        alcm_status cst = alcm_stream_create(&req->scfg, &a);
        if (cst == ALCM_E_NOMEM) {
            fail(req, ALCMWIRE__ERROR_CODE__ERR_NO_MEMORY, ALCM_E_NOMEM,
                 "cannot create the stream's state");
            return -1;
        }
        if (cst != ALCM_OK) {
            fail(req, ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST, cst, "invalid stream config: %s",
                 alcm_strerror(cst));
            return -1;
        }
        alcmd_streams_attach(&srv->streams, st, a, &req->scfg);
        req->event = reconfigured ? ALCMWIRE__STREAM_EVENT__STREAM_RECONFIGURED
                     : st->evicted ? ALCMWIRE__STREAM_EVENT__STREAM_RECREATED_AFTER_EVICTION
                                   : ALCMWIRE__STREAM_EVENT__STREAM_CREATED;
        st->evicted = 0;
    }
    req->state = st->st;
    if (!req->shm) alcmd_request_take_output(req, alcm_compress_bound(req->payload_len));
    if (!req->out) {
        fail(req, ALCMWIRE__ERROR_CODE__ERR_NO_MEMORY, ALCM_E_NOMEM, "no memory for the blob");
        return -1;
    }
    req->work.data = req;
    int rc = uv_queue_work(srv->loop, &req->work, alcmd_work_compress, compress_done);
    if (rc != 0) {
        fail(req, ALCMWIRE__ERROR_CODE__ERR_INTERNAL, ALCM_OK, "uv_queue_work: %s",
             uv_strerror(rc));
        return -1;
    }
    st->busy = 1;
    return 0;
}

/* Runs the stream's queued requests, one at a time, in arrival order. */
static void stream_pump(alcmd_stream *st)
{
    while (!st->busy && st->q_head) {
        alcmd_request *req = st->q_head;
        st->q_head = req->q_next;
        if (!st->q_head) st->q_tail = NULL;
        req->q_next = NULL;
        if (req->op == ALCMWIRE__OP__OP_RESET_STREAM) {
            int existed = st->st != NULL;
            if (st->st) {
                alcm_stream_reset(st->st);
                alcm_stream_get_state(st->st, &st->sched);
                alcmd_streams_set_memory(&req->srv->streams, st, alcm_stream_memory(st->st));
            }
            reply_reset(req, existed);
            continue;
        }
        if (req->op == ALCMWIRE__OP__OP_EXPORT_STATE) {
            export_state(req, st);
            continue;
        }
        if (req->op == ALCMWIRE__OP__OP_IMPORT_STATE) {
            import_state(req, st);
            continue;
        }
        start_compress(req);
    }
}

static void stream_enqueue(alcmd_stream *st, alcmd_request *req)
{
    req->stream = st;
    if (st->q_tail) st->q_tail->q_next = req;
    else st->q_head = req;
    st->q_tail = req;
    stream_pump(st);
}

static void compress_done(uv_work_t *work, int status)
{
    (void)status;   /* requests are never cancelled */
    alcmd_request *req = work->data;
    alcmd_server *srv = req->srv;
    alcmd_stream *st = req->stream;
    alcmd_request_input_done(req);
    alcmd_streams_set_memory(&srv->streams, st, req->stream_memory);
    st->sched = req->sched;

    if (req->status != ALCM_OK) {
        fail(req, req->status == ALCM_E_NOMEM ? ALCMWIRE__ERROR_CODE__ERR_NO_MEMORY
                                              : ALCMWIRE__ERROR_CODE__ERR_CODEC,
             req->status, "%s: %s", alcm_status_name(req->status), alcm_strerror(req->status));
    } else {
        double caq = alcm_caq(req->info.ratio, req->cpu_seconds);
        alcmd_counters_compress(&st->counters, req->info.raw_bytes, req->out_len, caq);
        alcmd_counters_compress(&srv->total, req->info.raw_bytes, req->out_len, caq);
        Alcmwire__SchedState ss;
        alcm_wire_sched_fill(&ss, &req->sched);
        Alcmwire__CompressReply c = ALCMWIRE__COMPRESS_REPLY__INIT;
        alcm_wire_info_fill(&c, &req->info);
        c.cpu_seconds = req->cpu_seconds;
        c.sched = &ss;
        c.stream_event = req->event;
        c.blob_in_shm = req->shm != NULL;
        Alcmwire__Reply r = ALCMWIRE__REPLY__INIT;
        r.op = ALCMWIRE__OP__OP_COMPRESS;
        r.request_id = req->id;
        r.compress = &c;
        if (req->shm) {
            alcmd_request_reply(req, &r.base, NULL, 0, 0);   /* the blob is in the client's region */
        } else {
            uint8_t *blob = req->out;
            req->out = NULL;
            alcmd_request_reply(req, &r.base, blob, req->out_len, req->out_cap);
        }
    }
    st->busy = 0;
    int evicted = alcmd_streams_enforce_cap(&srv->streams, srv->cfg.memory_cap);
    if (evicted > 0)
        alcmd_log(ALCMD_LOG_INFO, "evicted %d idle stream(s): state memory over the %llu-byte "
                  "cap", evicted, (unsigned long long)srv->cfg.memory_cap);
    stream_pump(st);
}

/* Runs a decompress whose output is reserved. */
static void start_decompress(alcmd_request *req)
{
    req->work.data = req;
    int rc = uv_queue_work(req->srv->loop, &req->work, alcmd_work_decompress, decompress_done);
    if (rc != 0)
        fail(req, ALCMWIRE__ERROR_CODE__ERR_INTERNAL, ALCM_OK, "uv_queue_work: %s",
             uv_strerror(rc));
}

static void decompress_done(uv_work_t *work, int status)
{
    (void)status;
    alcmd_request *req = work->data;
    alcmd_request_input_done(req);
    if (req->error != ALCMWIRE__ERROR_CODE__ERR_NONE) {
        if (req->error == ALCMWIRE__ERROR_CODE__ERR_TOO_LARGE)
            fail(req, req->error, req->status, "decoded size %llu exceeds max_message_bytes %llu",
                 (unsigned long long)req->out_header.raw_bytes,
                 (unsigned long long)req->max_output);
        else
            fail(req, req->error, req->status, "%s: %s", alcm_status_name(req->status),
                 alcm_strerror(req->status));
        return;
    }
    /* The output was reserved before the work (from the blob header, which the worker
     * checked: out_len is at most that size). */
    Alcmwire__Tensor t = ALCMWIRE__TENSOR__INIT;
    uint64_t dims[ALCM_MAX_RANK];
    alcm_wire_tensor_fill(&t, req->out_header.dtype, &req->out_header.shape, dims);
    Alcmwire__DecompressReply d = ALCMWIRE__DECOMPRESS_REPLY__INIT;
    d.tensor = &t;
    Alcmwire__Reply r = ALCMWIRE__REPLY__INIT;
    r.op = ALCMWIRE__OP__OP_DECOMPRESS;
    r.request_id = req->id;
    r.decompress = &d;
    uint8_t *out = req->out;
    req->out = NULL;
    alcmd_request_reply(req, &r.base, out, req->out_len, req->out_cap);
}

/* Points a shared-memory compress at its ranges of the connection's region. 0, or -1
 * when the request has been answered with an error. */
static int attach_spans(alcmd_request *req)
{
    alcmd_shm *shm = alcmd_request_conn_shm(req);
    const Alcmwire__ShmSpan *in = req->hdr->shm_input, *out = req->hdr->shm_output;
    if (!shm) {
        fail(req, ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST, ALCM_OK,
             "shm_input given but no shared region is attached");
        return -1;
    }
    if (!alcm_wire_span_ok(in, shm->size) || !alcm_wire_span_ok(out, shm->size)) {
        fail(req, ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST, ALCM_OK,
             "shared-memory ranges outside the %llu-byte region",
             (unsigned long long)shm->size);
        return -1;
    }
    if (in->length > req->srv->cfg.max_message_bytes) {
        fail(req, ALCMWIRE__ERROR_CODE__ERR_TOO_LARGE, ALCM_OK,
             "tensor of %llu bytes exceeds max_message_bytes %llu",
             (unsigned long long)in->length,
             (unsigned long long)req->srv->cfg.max_message_bytes);
        return -1;
    }
    req->shm = alcmd_shm_ref(shm);
    req->payload = shm->base + in->offset;
    req->payload_len = (size_t)in->length;
    req->out = shm->base + out->offset;
    req->out_cap = (size_t)out->length;
    return 0;
}

static void do_attach(alcmd_request *req)
{
    alcmd_shm *current = alcmd_request_conn_shm(req);
    char msg[ALCM_WIRE_MAX_MESSAGE_TEXT];
    int fd = req->fd;
    req->fd = -1;
    if (fd < 0) {
        fail(req, ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST, ALCM_OK,
             "attach-shm needs a memfd passed with the frame (SCM_RIGHTS)");
        return;
    }
    if (req->srv->cfg.shm_max_bytes == 0) {
        close(fd);
        fail(req, ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST, ALCM_OK,
             "shared memory is turned off (shm_max_bytes = 0)");
        return;
    }
    if (current && current->refs > 1) {
        close(fd);
        fail(req, ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST, ALCM_OK,
             "the current shared region is still in use by running requests");
        return;
    }
    alcmd_shm *shm = alcmd_shm_map(fd, req->hdr->shm_size, req->srv->cfg.shm_max_bytes, msg,
                                   sizeof msg);
    if (!shm) {
        fail(req, ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST, ALCM_OK, "%s", msg);
        return;
    }
    alcmd_log(ALCMD_LOG_DEBUG, "connection %llu attached a %llu-byte shared region",
              (unsigned long long)alcmd_request_conn_serial(req), (unsigned long long)shm->size);
    alcmd_request_set_conn_shm(req, shm);
    Alcmwire__Reply r = ALCMWIRE__REPLY__INIT;
    r.op = ALCMWIRE__OP__OP_ATTACH_SHM;
    r.request_id = req->id;
    alcmd_request_reply(req, &r.base, NULL, 0, 0);
}

static void do_compress(alcmd_request *req)
{
    alcmd_server *srv = req->srv;
    uint64_t nbytes;
    char msg[ALCM_WIRE_MAX_MESSAGE_TEXT];
    /* Checked when the header was parsed; read again for the values. */
    if (alcm_wire_tensor_read(req->hdr->tensor, &req->dtype, &req->shape, &nbytes) !=
            ALCMWIRE__ERROR_CODE__ERR_NONE ||
        alcm_wire_config_read(req->hdr->config, req->dtype, srv->cfg.deterministic, &req->scfg,
                              msg, sizeof msg) != ALCMWIRE__ERROR_CODE__ERR_NONE) {
        fail(req, ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST, ALCM_OK, "invalid compress request");
        return;
    }
    if (req->hdr->shm_input && attach_spans(req) != 0) return;
    alcmd_stream *st = alcmd_streams_get(&srv->streams, req->uid, req->hdr->stream,
                                         2 * (size_t)srv->cfg.max_streams);
    if (!st) {
        fail(req, ALCMWIRE__ERROR_CODE__ERR_OVERLOADED, ALCM_OK,
             "stream table full: every stream is busy");
        return;
    }
    stream_enqueue(st, req);
}

void alcmd_ops_dispatch(alcmd_request *req)
{
    alcmd_server *srv = req->srv;
    switch (req->op) {
    case ALCMWIRE__OP__OP_HELLO:
        do_hello(req);
        return;
    case ALCMWIRE__OP__OP_STATS:
        do_stats(req);
        return;
    case ALCMWIRE__OP__OP_RESET_STREAM: {
        alcmd_stream *st = alcmd_streams_find(&srv->streams, req->uid, req->hdr->stream);
        if (!st) reply_reset(req, 0);
        else stream_enqueue(st, req);
        return;
    }
    case ALCMWIRE__OP__OP_COMPRESS:
        do_compress(req);
        return;
    case ALCMWIRE__OP__OP_EXPORT_STATE: {
        alcmd_stream *st = alcmd_streams_find(&srv->streams, req->uid, req->hdr->stream);
        if (!st)
            fail(req, ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST, ALCM_OK, "no stream '%s'",
                 req->hdr->stream);
        else
            stream_enqueue(st, req);
        return;
    }
    case ALCMWIRE__OP__OP_IMPORT_STATE: {
        alcmd_stream *st = alcmd_streams_get(&srv->streams, req->uid, req->hdr->stream,
                                             2 * (size_t)srv->cfg.max_streams);
        if (!st)
            fail(req, ALCMWIRE__ERROR_CODE__ERR_OVERLOADED, ALCM_OK,
                 "stream table full: every stream is busy");
        else
            stream_enqueue(st, req);
        return;
    }
    case ALCMWIRE__OP__OP_ATTACH_SHM:
        do_attach(req);
        return;
    case ALCMWIRE__OP__OP_DECOMPRESS: {
        req->max_output = srv->cfg.max_message_bytes;
        /* The decoded size, from the blob header (both format versions keep it at offset
         * 20), is reserved before any work: a small blob that decodes to a large tensor
         * waits for memory like any large request. The worker checks the header fully;
         * the bytes it reads are these. */
        const uint8_t *b = req->payload;
        uint64_t raw = 0;
        if (req->payload_len >= 28 && !memcmp(b, "ALCM", 4))
            for (int i = 7; i >= 0; i--) raw = raw << 8 | b[20 + i];
        if (raw > req->max_output) {
            fail(req, ALCMWIRE__ERROR_CODE__ERR_TOO_LARGE, ALCM_E_LIMIT,
                 "the blob decodes to %llu bytes, above max_message_bytes %llu",
                 (unsigned long long)raw, (unsigned long long)req->max_output);
            return;
        }
        if (alcmd_request_reserve_reply(req, raw, start_decompress) != 0) return;
        start_decompress(req);
        return;
    }
    default:
        fail(req, ALCMWIRE__ERROR_CODE__ERR_UNKNOWN_OP, ALCM_OK, "unknown operation %d",
             (int)req->op);
        return;
    }
}
