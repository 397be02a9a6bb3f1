/* ctx.h - the compression and decompression contexts (scratch memory and backend state
 * reused across calls) and the codec entry points behind alcm_compress/alcm_decompress
 * (internal). */
#ifndef ALCM_CTX_H
#define ALCM_CTX_H

#include "alcm.h"
#include "backend.h"
#include "bytes.h"
#include "format.h"
#include "gradient.h"

struct alcm_cctx {
    alcm_backend_enc benc;
    alcm_buf chan;     /* gradient: per-channel encoder state */
    alcm_buf alloc;    /* gradient: allocator input */
    alcm_buf steps;    /* gradient: allocator output */
    alcm_buf order;    /* gradient: refinement order */
    alcm_buf ybuf;     /* gradient: one channel of y = x + residual */
    alcm_buf stage;    /* packed codes / planes before they reach the backend */
    alcm_buf esc;      /* gradient: escaped codes */
    alcm_buf params;   /* gradient: parameter stream */
    alcm_buf select;   /* pruning: candidate keys */
    alcm_buf codes;    /* gradient: codes of the block being packed */
    alcm_buf kept;     /* gradient: every channel's codes from its measurement (small tensors) */
    int remake_codes;  /* gradient: 1 makes the codes again while packing, even where they
                        * could be kept (tests compare the two ways; 0 after create) */
    /* Chunked and segmented encodes (segmented.c): */
    unsigned threads;  /* worker threads of one call (0 or 1: the calling thread alone) */
    alcm_cctx **sub;   /* workers 1 .. threads-1: their own contexts, made on first use */
    unsigned n_sub;
    alcm_buf out;      /* a worker's inner blob while an earlier one is still unwritten */
    alcm_buf pieces;   /* the inner blobs' element ranges and results */
    alcm_buf stats;    /* every chunk's channel statistics, when taken before any is written */
};

struct alcm_dctx {
    alcm_backend_dec bdec;
    uint64_t max_output;
    alcm_buf chan;     /* gradient: per-channel parameters */
    alcm_buf codes;    /* gradient: packed codes of one block */
    alcm_buf planes;   /* lossless: one segment's planes */
    alcm_buf classes;  /* gradient: the decoded code streams of one width class */
    alcm_buf runs;     /* gradient: symbols and run buckets of a method-4 stream */
    /* Segmented blobs (segmented.c): */
    unsigned threads;  /* worker threads of one call (0 or 1: the calling thread alone) */
    alcm_dctx **sub;   /* workers 1 .. threads-1: their own contexts, made on first use */
    unsigned n_sub;
    alcm_buf inner;    /* the inner blobs' positions and parsed headers */
};

/* Automatic chunks (docs/FORMAT.md, codec 5; docs/DESIGN.md "Threads"): a gradient tensor,
 * or a caller's segment, of more than ALCM_CHUNK_ABOVE elements is cut at channel
 * boundaries into ceil(n / ALCM_CHUNK_ELEMS) chunks of about equal channel counts, each
 * an inner blob of a segmented blob. Constants of the format's encoder: the blob bytes
 * depend on them, never on the thread count. */
#define ALCM_CHUNK_ABOVE ((uint64_t)1 << 22)
#define ALCM_CHUNK_ELEMS ((uint64_t)1 << 22)

/* Chunks for n elements in C channels of len elements (1: not chunked). */
static inline uint32_t alcm_chunk_count(uint64_t n, uint64_t len, uint64_t C)
{
    if (n <= ALCM_CHUNK_ABOVE || len == 0 || len > UINT32_MAX || C < 2) return 1;
    uint64_t k = (n + ALCM_CHUNK_ELEMS - 1) / ALCM_CHUNK_ELEMS;
    return (uint32_t)(k < C ? k : C);
}

/* The worst-case size of one inner blob of b input bytes (every codec's bound). */
static inline size_t alcm_blob_worst(size_t b)
{
    return b + (b >> 10) + 1024;
}

/* Codec encoders: write a whole blob into dst[0..cap), its length into *len. The caller has
 * validated params, shape and sizes. */
typedef struct {
    const alcm_params *params;
    const alcm_shape *shape;
    uint64_t numel;
    alcm_coder coder;          /* resolved backend and level */
    double *energy_out;        /* gradient: if non-NULL, gets Σ (x + residual)² */
    /* Gradient: the channels' statistics and entropy map, already taken by
     * alcm_gradient_analyse over this job's input, with their energy; NULL: taken here. */
    struct alcm_genc_chan *chan;
    double chan_energy;
    /* Gradient with a residual: NULL (the residual is updated in place), or a second buffer
     * of numel floats that receives the new residual on success, the residual itself then
     * left untouched whatever the outcome (docs/DESIGN.md, "Error feedback"). */
    float *r_next;
} alcm_enc_job;

/* alcm_compress with a second residual buffer r_next (alcm_enc_job.r_next; NULL: as
 * alcm_compress): with residual, the new residual goes to r_next on success and residual
 * is left untouched. */
alcm_status alcm_compress_next(alcm_cctx *cctx, const alcm_params *params,
                               const alcm_shape *shape, const void *src, size_t src_bytes,
                               float *residual, float *r_next, void *dst, size_t dst_cap,
                               size_t *dst_len, alcm_info *info);

alcm_status alcm_gradient_encode(alcm_cctx *cx, const alcm_enc_job *job, const float *x,
                                 float *residual, uint8_t *dst, size_t cap, size_t *len,
                                 alcm_info *info);

/* The first phase of a gradient encode on its own: the statistics and entropy map of the
 * job's channels of x + r into chan[0..C) (C of alcm_channel_layout), their energy into
 * *energy; ALCM_E_NONFINITE when an element of x + r is not finite. Reads x and r only. */
alcm_status alcm_gradient_analyse(alcm_cctx *cx, const alcm_enc_job *job, const float *x,
                                  const float *r, struct alcm_genc_chan *chan, double *energy);

/* Lossless floats; addend (f32 only, may be NULL) is added element-wise before encoding. */
alcm_status alcm_lossless_float_encode(alcm_cctx *cx, const alcm_enc_job *job, alcm_dtype dtype,
                                       const void *src, const float *addend, uint8_t *dst,
                                       size_t cap, size_t *len);

alcm_status alcm_lossless_bytes_encode(alcm_cctx *cx, const alcm_enc_job *job, const void *src,
                                       uint8_t *dst, size_t cap, size_t *len);

alcm_status alcm_baseline_encode(alcm_cctx *cx, const alcm_enc_job *job, alcm_dtype dtype,
                                 const void *src, uint8_t *dst, size_t cap, size_t *len);

/* Codec decoders: decode the payload of a parsed, validated frame into dst (raw_size bytes). */
alcm_status alcm_gradient_decode(alcm_dctx *dx, const uint8_t *blob, const alcm_frame *f,
                                 float *dst);
alcm_status alcm_lossless_float_decode(alcm_dctx *dx, const uint8_t *blob, const alcm_frame *f,
                                       uint8_t *dst);
alcm_status alcm_lossless_bytes_decode(alcm_dctx *dx, const uint8_t *blob, const alcm_frame *f,
                                       uint8_t *dst);
alcm_status alcm_baseline_decode(alcm_dctx *dx, const uint8_t *blob, const alcm_frame *f,
                                 uint8_t *dst);

/* Segmented gradient (codec 5). alcm_segmented_wanted: 1 when a gradient encode of these
 * params and shape makes a segmented blob (caller's segments, or automatic chunks).
 * alcm_segmented_check: the boundaries of p fit numel.
 * alcm_segmented_encode: one inner blob per non-empty segment, fills the segment fields of
 * info. alcm_segmented_next: validates the inner blob at blob[*pos] of a parsed segmented
 * frame f (its elements start at *off), parses it into *inner and advances *pos and *off.
 * alcm_segmented_decode: decodes every inner blob into dst. */
int alcm_segmented_wanted(const alcm_params *p, const alcm_shape *shape, uint64_t numel);
alcm_status alcm_segmented_check(const alcm_params *p, uint64_t numel);
alcm_status alcm_segmented_encode(alcm_cctx *cx, const alcm_enc_job *job, const float *x,
                                  float *residual, uint8_t *dst, size_t cap, size_t *len,
                                  alcm_info *info);
alcm_status alcm_segmented_next(const uint8_t *blob, const alcm_frame *f, size_t *pos,
                                uint64_t *off, alcm_frame *inner);
alcm_status alcm_segmented_decode(alcm_dctx *dx, const uint8_t *blob, const alcm_frame *f,
                                  float *dst);

/* Reads and checks the parameter stream of a parsed gradient frame starting at blob[*pos]
 * (advanced past it): channel parameters into ch (n_channels entries) when ch is non-NULL,
 * and the code bits of the first cap channels into bits. Without ch, only the first cap
 * channels are read and checked (inspection). */
alcm_status alcm_gradient_read_params(alcm_dctx *dx, const uint8_t *blob, const alcm_frame *f,
                                      size_t *pos, alcm_chan_param *ch, float *bits, size_t cap);

#endif /* ALCM_CTX_H */
