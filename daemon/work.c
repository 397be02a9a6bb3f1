/* work.c - compress and decompress jobs run on the thread pool. */
#include "work.h"

#include <stdlib.h>

#include "server.h"

void alcmd_work_compress(uv_work_t *work)
{
    alcmd_request *req = work->data;
    req->status = alcm_stream_compress(req->state, &req->shape, req->payload, req->payload_len,
                                       req->out, req->out_cap, &req->out_len, &req->info,
                                       &req->cpu_seconds);
    alcm_stream_get_state(req->state, &req->sched);
    req->stream_memory = alcm_stream_memory(req->state);
    if (req->status != ALCM_OK) req->out_len = 0;
}

void alcmd_work_decompress(uv_work_t *work)
{
    alcmd_request *req = work->data;
    req->error = ALCMWIRE__ERROR_CODE__ERR_CODEC;
    req->status = alcm_blob_header(req->payload, req->payload_len, &req->out_header);
    if (req->status != ALCM_OK) return;
    if (req->out_header.raw_bytes > req->max_output) {
        req->status = ALCM_E_LIMIT;
        req->error = ALCMWIRE__ERROR_CODE__ERR_TOO_LARGE;
        return;
    }
    size_t raw = (size_t)req->out_header.raw_bytes;
    req->out = malloc(raw ? raw : 1);
    req->out_cap = raw;
    alcm_dctx *d = alcm_dctx_create();
    if (!req->out || !d) {
        alcm_dctx_free(d);
        free(req->out);
        req->out = NULL;
        req->status = ALCM_E_NOMEM;
        req->error = ALCMWIRE__ERROR_CODE__ERR_NO_MEMORY;
        return;
    }
    alcm_dctx_set_max_output(d, req->max_output);
    req->status = alcm_decompress(d, req->payload, req->payload_len, req->out, raw,
                                  &req->out_len);
    alcm_dctx_free(d);
    if (req->status != ALCM_OK) {
        free(req->out);
        req->out = NULL;
        req->out_len = 0;
        if (req->status == ALCM_E_NOMEM) req->error = ALCMWIRE__ERROR_CODE__ERR_NO_MEMORY;
        return;
    }
    req->error = ALCMWIRE__ERROR_CODE__ERR_NONE;
}
