/* quant.h - the gradient encoder's quantisation kernels (measure, codes, residual), 8-wide
 * vector code that agrees element for element with alcm_quantise (internal). */
#ifndef ALCM_QUANT_H
#define ALCM_QUANT_H

#include <stddef.h>
#include <stdint.h>

/* What quantising a run of elements at one step gives. */
typedef struct {
    double dist_units;  /* Σ ((y - ŷ)/Δ)²: multiply by Δ² for the squared error */
    uint32_t maxq;      /* max |q| */
    uint64_t over1;     /* elements with |q| > 1   (escapes at width 2) */
    uint64_t over7;     /* elements with |q| > 7   (escapes at width 4) */
    uint64_t over127;   /* elements with |q| > 127 (escapes at width 8) */
} alcm_qstats;

/* Quantises y = x (+ r when r is non-NULL) at step (inv = 1/step) with pruning threshold
 * thr and adds the results to *m. Accumulation order is fixed: deterministic. */
void alcm_q_measure(const float *x, const float *r, size_t n, float step, float inv, float thr,
                    alcm_qstats *m);

/* alcm_q_measure, also writing the zigzag codes alcm_q_codes would write into zz[0..n)
 * and, when e is non-NULL, the new residual y - q·step into e[0..n): the values
 * alcm_q_update_kept would give r, with x and r left as they are. e may be x itself (y
 * then replaced by its residual, element by element). */
void alcm_q_measure_codes(const float *x, const float *r, size_t n, float step, float inv,
                          float thr, alcm_qstats *m, uint16_t *zz, float *e);

/* Zigzag codes of y = x (+ r) into zz[0..n); returns the largest code. */
uint32_t alcm_q_codes(const float *x, const float *r, size_t n, float inv, float thr,
                      uint16_t *zz);

/* In the three kernels below, x NULL means that r holds y on entry (a second residual
 * buffer the segmented analysis wrote y into, docs/DESIGN.md "Error feedback").
 *
 * alcm_q_codes and alcm_q_residual in one pass: zigzag codes of y = x + r into zz[0..n),
 * then r <- y - q·step; returns the largest code, or UINT32_MAX when a new residual value
 * is not finite (the input was rewritten to a NaN or an infinity since it was checked). */
uint32_t alcm_q_codes_update(const float *x, float *r, size_t n, float step, float inv,
                             float thr, uint16_t *zz);

/* r <- (x + r) - q·step with q the zigzag codes zz[0..n) (as alcm_q_measure_codes wrote
 * them): alcm_q_codes_update's residual from kept codes. Returns 1 when a new residual
 * value is not finite (the input was rewritten since), else 0. */
int alcm_q_update_kept(const float *x, float *r, const uint16_t *zz, size_t n, float step);

/* r <- (x + r) - q·step: the error-feedback residual after decoding. */
void alcm_q_residual(const float *x, float *r, size_t n, float step, float inv, float thr);

/* 1 when no element of y[0..n) is an infinity or a NaN. */
int alcm_q_all_finite(const float *y, size_t n);

#endif /* ALCM_QUANT_H */
