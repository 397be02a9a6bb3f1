/* gradient.h - what the gradient encoder and decoder share: the step grid, code widths and
 * escapes, per-channel parameters and their stream, and the quantiser (internal). */
#ifndef ALCM_GRADIENT_H
#define ALCM_GRADIENT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "alcm.h"
#include "format.h"

/* Step grid: Δ(s) = 2^((s - ALCM_STEP_ONE) / 16), s in [ALCM_STEP_MIN, ALCM_STEP_MAX]. */
#define ALCM_STEP_MIN 16
#define ALCM_STEP_MAX 3823
#define ALCM_STEP_ONE 2032
#define ALCM_LEVEL_MAX 32767

/* 2^(j/16) rounded to binary32 (docs/FORMAT.md). */
static const float alcm_step_table[16] = {
    0x1.000000p+0f, 0x1.0b5586p+0f, 0x1.172b84p+0f, 0x1.2387a6p+0f,
    0x1.306fe0p+0f, 0x1.3dea64p+0f, 0x1.4bfdaep+0f, 0x1.5ab07ep+0f,
    0x1.6a09e6p+0f, 0x1.7a1148p+0f, 0x1.8ace54p+0f, 0x1.9c4918p+0f,
    0x1.ae89fap+0f, 0x1.c199bep+0f, 0x1.d5818ep+0f, 0x1.ea4afap+0f,
};

/* The step of grid index s (exact: a table entry times a power of two). The power of two
 * is built from its exponent bits: every grid step is a normal float, so the product is
 * exactly ldexpf's, without a library call (the encoder takes a step per channel
 * measured). */
static inline float alcm_step(uint32_t s)
{
    if (s < ALCM_STEP_MIN || s > ALCM_STEP_MAX)
        return ldexpf(alcm_step_table[s & 15], (int)(s >> 4) - 127);
    uint32_t bits = (s >> 4) << 23; /* the biased exponent of 2^((s >> 4) - 127) */
    float p2;
    memcpy(&p2, &bits, sizeof p2);
    return alcm_step_table[s & 15] * p2;
}

/* Code widths: index 0..3 <-> 2, 4, 8, 16 bits. Widths 2, 4, 8 reserve the all-ones code
 * as an escape to the u16 escape stream. */
enum { ALCM_W2 = 0, ALCM_W4 = 1, ALCM_W8 = 2, ALCM_W16 = 3, ALCM_NWIDTH = 4 };
static inline unsigned alcm_width_bits(unsigned wc) { return 2u << wc; }
static inline uint32_t alcm_width_escape(unsigned wc) { return (1u << (2u << wc)) - 1u; }

/* Per-channel parameters as stored in the parameter stream. */
typedef struct {
    uint16_t levels;  /* L: codes lie in [-L, L]; 0 = channel decodes to zeros */
    uint16_t step;    /* grid index s (0 when levels is 0) */
    uint8_t width;    /* ALCM_W2 .. ALCM_W16 (0 when levels is 0) */
} alcm_chan_param;

/* Elements in channel c of a tensor of numel elements cut into channels of len. */
static inline uint64_t alcm_chan_len(uint64_t numel, uint64_t len, uint32_t c, uint32_t count)
{
    return c + 1 < count ? len : numel - (uint64_t)c * len;
}

/* Writes the parameter stream of C channels into out (at most 6 C bytes); returns its
 * length. */
size_t alcm_params_stream_write(const alcm_chan_param *ch, uint32_t C, uint8_t *out);

/* Parses one channel's parameters from p[0..avail) (prev: the previous non-zero channel's
 * step, updated). Returns the bytes used, or 0 if they are truncated or out of range. At
 * most ALCM_PARAM_MAX_BYTES bytes are used. */
#define ALCM_PARAM_MAX_BYTES 6
size_t alcm_param_parse_one(const uint8_t *p, size_t avail, int32_t *prev, alcm_chan_param *out);

/* Parses a parameter stream of exactly n bytes for C channels into ch.
 * ALCM_E_CORRUPT on any violation of docs/FORMAT.md. */
alcm_status alcm_params_stream_read(const uint8_t *p, size_t n, uint32_t C, alcm_chan_param *ch);

/* Elements per code width, and the decoded size of each code stream
 * (W2, W4, W8, W16-low, W16-high). */
void alcm_class_sizes(const alcm_chan_param *ch, uint32_t C, uint64_t numel, uint64_t len,
                      uint64_t elems[ALCM_NWIDTH], uint64_t bytes[5]);

/* The quantiser shared by every encoder pass: q = round_half_away(y / Δ) with y·(1/Δ),
 * clamped to ±ALCM_LEVEL_MAX, and 0 when |y| < prune threshold. Returned as a float
 * holding an integer, so that the decoded value is exactly q·Δ in binary32. */
static inline float alcm_quantise(float y, float inv, float thr)
{
    float v = y * inv;
    /* Written so that NaN (input rewritten after the finite check) clamps too: the
     * conversion below never sees a value out of int32 range. */
    v = !(v <= (float)ALCM_LEVEL_MAX) ? (float)ALCM_LEVEL_MAX : v;
    v = v < -(float)ALCM_LEVEL_MAX ? -(float)ALCM_LEVEL_MAX : v;
    float h = v < 0.0f ? -0.5f : 0.5f;
    float q = (float)(int32_t)(v + h);
    return fabsf(y) < thr ? 0.0f : q;
}

#endif /* ALCM_GRADIENT_H */
