/* stream_impl.h - the layout of alcm_stream, shared by stream.c and stream_state.c
 * (internal). */
#ifndef ALCM_STREAM_IMPL_H
#define ALCM_STREAM_IMPL_H

#include <stdint.h>

#include "alcm.h"

struct alcm_stream {
    alcm_stream_config cfg;
    alcm_sched *sched;
    alcm_cctx *cctx;
    float *residual;        /* numel floats when error feedback is on, else NULL */
    float *r_next;          /* numel floats that the next step writes its residual to
                             * (swapped with residual on success), or NULL: in place */
    uint64_t *segments;     /* the stream's own copy of cfg.params.segments */
    uint64_t residual_n;
};

#endif
