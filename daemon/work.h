/* work.h - what runs on libuv's thread pool: compress one stream step, decode one blob.
 * These touch only the request's own buffers and its stream's alcm_stream (which the
 * stream queue guarantees no other thread uses meanwhile), never loop state. */
#ifndef ALCMD_WORK_H
#define ALCMD_WORK_H

#include <uv.h>

/* uv_work_cb for OP_COMPRESS: req->state compresses req->payload into req->out (a buffer
 * of req->out_cap >= alcm_compress_bound bytes taken on the loop); fills out_len, status,
 * info, cpu_seconds, sched and stream_memory. */
void alcmd_work_compress(uv_work_t *work);

/* uv_work_cb for OP_DECOMPRESS: decodes req->payload into a new req->out; fills
 * out_header, status, and error (ERR_CODEC, ERR_TOO_LARGE or ERR_NO_MEMORY on failure). */
void alcmd_work_decompress(uv_work_t *work);

#endif
