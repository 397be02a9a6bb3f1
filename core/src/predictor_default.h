/* predictor_default.h - the default model's first layer feature by feature, from the
 * generated predictor_weights.c (internal). */
#ifndef ALCM_PREDICTOR_DEFAULT_H
#define ALCM_PREDICTOR_DEFAULT_H

#include "alcm_tools.h"

/* w1t[k][h] = alcm_predictor_default()->w1[h][k]: eight hidden units load as one vector. */
const float (*alcm_predictor_default_w1t(void))[ALCM_HIDDEN];

#endif /* ALCM_PREDICTOR_DEFAULT_H */
