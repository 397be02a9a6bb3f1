/* test_real_gradients.c - the codecs on real tensors: gradients and weights of a
 * 784-256-128-10 MLP trained on Fashion-MNIST (dataset-fashion-mnist). The gradient
 * profile must meet its budget on every layer at every captured step, and beat the zlib-6
 * baseline's ratio severalfold at 1 %; weights must come back exactly from the lossless
 * profile. */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "fmnist.h"

#define BATCH 64
#define STEPS 60

typedef struct {
    alcm_fmnist_set train;
    alcm_fmnist_mlp *mlp;
    float *grad;
    size_t n_params;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    char msg[256];
    if (!f || alcm_fmnist_load(ALCM_FMNIST_DEFAULT_DIR, "train", &f->train, msg, sizeof msg)) {
        fprintf(stderr, "Fashion-MNIST (Debian package dataset-fashion-mnist): %s\n", msg);
        free(f);
        return -1;
    }
    alcm_fmnist_mlp_config cfg;
    alcm_fmnist_mlp_config_default(&cfg);
    f->mlp = alcm_fmnist_mlp_create(&cfg);
    f->n_params = alcm_fmnist_mlp_param_count(f->mlp);
    f->grad = malloc(f->n_params * sizeof(float));
    *state = f;
    return f->mlp && f->grad ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    alcm_fmnist_mlp_free(f->mlp);
    alcm_fmnist_set_free(&f->train);
    free(f->grad);
    free(f);
    return 0;
}

/* Compresses x (shape rows x cols) with params; returns the ratio and writes the decoded
 * tensor's relative L2 error to *err. */
static double round_trip(const alcm_params *p, const float *x, uint32_t rows, uint32_t cols,
                         double *err)
{
    alcm_shape sh;
    memset(&sh, 0, sizeof sh);
    sh.rank = 2;
    sh.dims[0] = rows;
    sh.dims[1] = cols;
    size_t n = (size_t)rows * cols, bytes = n * sizeof(float);
    size_t cap = alcm_compress_bound(bytes), len = 0, out = 0;
    uint8_t *blob = tu_malloc(cap);
    float *y = tu_malloc(bytes);
    alcm_cctx *c = alcm_cctx_create();
    alcm_dctx *d = alcm_dctx_create();
    assert_int_equal(alcm_compress(c, p, &sh, x, bytes, NULL, blob, cap, &len, NULL), ALCM_OK);
    assert_int_equal(alcm_decompress(d, blob, len, y, bytes, &out), ALCM_OK);
    assert_int_equal(out, bytes);
    *err = alcm_rel_l2_error(x, y, n);
    if (p->profile != ALCM_PROFILE_GRADIENT) assert_memory_equal(x, y, bytes);
    alcm_cctx_free(c);
    alcm_dctx_free(d);
    free(y);
    free(blob);
    return (double)bytes / (double)len;
}

static void test_real_gradients_meet_budget(void **state)
{
    fixture *f = *state;
    alcm_rng rng;
    alcm_rng_seed(&rng, 3);
    uint32_t idx[BATCH];
    float *x = tu_malloc(BATCH * ALCM_FMNIST_PIXELS * sizeof(float));
    uint8_t y[BATCH];
    const double budgets[] = {0.01, 0.05, 0.3};
    double sum_ratio = 0, sum_base = 0;
    int checked = 0, weights = 0;
    for (int step = 0; step < STEPS; step++) {
        for (int i = 0; i < BATCH; i++) idx[i] = (uint32_t)(alcm_rng_next(&rng) % f->train.count);
        assert_int_equal(alcm_fmnist_gather(&f->train, idx, BATCH, x, y), 0);
        assert_int_equal(alcm_fmnist_mlp_backward(f->mlp, x, y, BATCH, f->grad, NULL), 0);
        if (step % 20 == 0 || step == STEPS - 1) {
            for (uint32_t t = 0; t < alcm_fmnist_mlp_tensor_count(f->mlp); t++) {
                alcm_fmnist_mlp_tensor info;
                assert_int_equal(alcm_fmnist_mlp_tensor_info(f->mlp, t, &info), 0);
                const float *g = f->grad + info.offset;
                for (size_t b = 0; b < sizeof budgets / sizeof budgets[0]; b++) {
                    alcm_params p;
                    alcm_params_default(&p, ALCM_PROFILE_GRADIENT);
                    p.error_budget = budgets[b];
                    double err;
                    double r = round_trip(&p, g, info.rows, info.cols, &err);
                    assert_true(err <= budgets[b]);
                    if (b == 0 && !info.is_bias) {
                        alcm_params base;
                        alcm_params_default(&base, ALCM_PROFILE_BASELINE);
                        double e0;
                        sum_base += round_trip(&base, g, info.rows, info.cols, &e0);
                        sum_ratio += r;
                        weights++;
                    }
                    checked++;
                }
            }
        }
        alcm_fmnist_mlp_apply(f->mlp, f->grad);
    }
    printf("weight gradients at 1 %%: mean ratio %.2f vs zlib-6 %.2f\n", sum_ratio / weights, sum_base / weights);
    assert_true(checked >= 4 * 6 * 3);
    /* At 1 % the weight-gradient tensors compress at least 3x better than zlib-6. */
    assert_true(sum_ratio > 3.0 * sum_base);
    free(x);
}

static void test_real_weights_lossless_exact(void **state)
{
    fixture *f = *state;
    const float *w = alcm_fmnist_mlp_params(f->mlp);
    alcm_fmnist_mlp_tensor info;
    assert_int_equal(alcm_fmnist_mlp_tensor_info(f->mlp, 0, &info), 0);
    alcm_params p, base;
    alcm_params_default(&p, ALCM_PROFILE_LOSSLESS);
    alcm_params_default(&base, ALCM_PROFILE_BASELINE);
    double e;
    double r = round_trip(&p, w + info.offset, info.rows, info.cols, &e);
    double rb = round_trip(&base, w + info.offset, info.rows, info.cols, &e);
    assert_true(e == 0.0);
    assert_true(r > rb); /* byte planes beat deflate over the raw floats */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_gradients_meet_budget),
        cmocka_unit_test(test_real_weights_lossless_exact),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
