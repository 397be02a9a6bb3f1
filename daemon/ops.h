/* ops.h - what alcmd does with a complete request: hello and stats on the loop, compress
 * through the stream's queue and the thread pool, decompress on the thread pool,
 * reset-stream in stream order; and how every request is answered and counted. */
#ifndef ALCMD_OPS_H
#define ALCMD_OPS_H

#include "server.h"

/* Takes a request whose frame is complete (payload read) and sees it answered. */
void alcmd_ops_dispatch(alcmd_request *req);

/* Runs a decompress whose output is reserved (req->out_need in req->reserved). */
void alcmd_ops_start_decompress(alcmd_request *req);

/* Frees a request that was never dispatched (connection closed while reading it),
 * releasing its in-flight reservation. */
void alcmd_request_discard(alcmd_request *req);

#endif
