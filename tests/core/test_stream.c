/* test_stream.c - alcm_stream: scheduler + residual + context, replay and error feedback. */
#include "testutil.h"

#include <string.h>

#define ROWS 64
#define COLS 256
#define N (ROWS * COLS)

static alcm_shape shape2d(void)
{
    alcm_shape s;
    memset(&s, 0, sizeof s);
    s.rank = 2;
    s.dims[0] = ROWS;
    s.dims[1] = COLS;
    return s;
}

static alcm_stream *det_stream(int feedback)
{
    alcm_stream_config c;
    alcm_stream_config_default(&c);
    c.sched.deterministic = 1;
    c.adaptive = 1; /* these tests are about the scheduler */
    c.error_feedback = feedback;
    alcm_stream *s = NULL;
    assert_int_equal(alcm_stream_create(&c, &s), ALCM_OK);
    assert_non_null(s);
    return s;
}

static void test_config_defaults(void **state)
{
    (void)state;
    alcm_stream_config c;
    alcm_stream_config_default(&c);
    assert_int_equal(c.params.profile, ALCM_PROFILE_GRADIENT);
    assert_int_equal(c.error_feedback, 1);
    assert_int_equal(c.adaptive, 0);
    assert_int_equal(c.sched.window, 5);
    c.sched.error_budget = 2.0; /* out of range */
    {
        alcm_stream *bad = (alcm_stream *)1;
        assert_int_equal(alcm_stream_create(&c, &bad), ALCM_E_ARG);
        assert_null(bad);
    }
}

/* Two streams fed the same tensors produce the same blobs, step after step. */
static void test_deterministic_replay(void **state)
{
    (void)state;
    alcm_stream *a = det_stream(1), *b = det_stream(1);
    alcm_shape sh = shape2d();
    size_t cap = alcm_compress_bound(N * 4);
    uint8_t *ba = tu_malloc(cap), *bb = tu_malloc(cap);
    for (int step = 0; step < 12; step++) {
        float *x = tu_synth(ALCM_SYNTH_GRADIENT, N, COLS, 1000 + step);
        size_t la = 0, lb = 0;
        assert_int_equal(alcm_stream_compress(a, &sh, x, N * 4, ba, cap, &la, NULL, NULL), ALCM_OK);
        assert_int_equal(alcm_stream_compress(b, &sh, x, N * 4, bb, cap, &lb, NULL, NULL), ALCM_OK);
        assert_int_equal(la, lb);
        assert_memory_equal(ba, bb, la);
        free(x);
    }
    alcm_sched_state sa;
    alcm_stream_get_state(a, &sa);
    assert_int_equal(sa.steps, 12);
    free(ba);
    free(bb);
    alcm_stream_free(a);
    alcm_stream_free(b);
}

/* The first step of a stream equals alcm_compress with the scheduler's initial knobs. */
static void test_first_step_matches_one_shot(void **state)
{
    (void)state;
    alcm_stream *s = det_stream(1);
    alcm_shape sh = shape2d();
    float *x = tu_synth(ALCM_SYNTH_GAUSSIAN, N, COLS, 5);
    size_t cap = alcm_compress_bound(N * 4);
    uint8_t *b1 = tu_malloc(cap), *b2 = tu_malloc(cap);
    alcm_sched_state st;
    alcm_stream_get_state(s, &st);
    alcm_params p;
    alcm_params_default(&p, ALCM_PROFILE_GRADIENT);
    p.aggressiveness = st.aggressiveness;
    p.prune_ratio = st.prune_ratio;
    float *res = calloc(N, sizeof(float));
    alcm_cctx *cctx = alcm_cctx_create();
    size_t l1 = 0, l2 = 0;
    assert_int_equal(alcm_compress(cctx, &p, &sh, x, N * 4, res, b1, cap, &l1, NULL), ALCM_OK);
    assert_int_equal(alcm_stream_compress(s, &sh, x, N * 4, b2, cap, &l2, NULL, NULL), ALCM_OK);
    assert_int_equal(l1, l2);
    assert_memory_equal(b1, b2, l1);
    alcm_cctx_free(cctx);
    free(res);
    free(b1);
    free(b2);
    free(x);
    alcm_stream_free(s);
}

/* Error feedback: the running sum of decoded tensors tracks the running sum of inputs to
 * within one step's error (sum x - sum decode = final residual), far better than without. */
static void test_error_feedback_tracks_sum(void **state)
{
    (void)state;
    alcm_shape sh = shape2d();
    size_t cap = alcm_compress_bound(N * 4);
    uint8_t *blob = tu_malloc(cap);
    float *y = tu_malloc(N * 4);
    alcm_dctx *d = alcm_dctx_create();
    double drift[2];
    for (int fb = 0; fb <= 1; fb++) {
        alcm_stream_config c;
        alcm_stream_config_default(&c);
        c.sched.deterministic = 1;
        c.sched.error_budget = 0.2;
        c.error_feedback = fb;
        alcm_stream *s = NULL;
        assert_int_equal(alcm_stream_create(&c, &s), ALCM_OK);
        double *sx = calloc(N, sizeof(double)), *sy = calloc(N, sizeof(double));
        /* The same slowly varying gradient each step: quantisation bias accumulates without
         * feedback and cancels with it. */
        float *x = tu_synth(ALCM_SYNTH_GAUSSIAN, N, COLS, 77);
        for (int step = 0; step < 20; step++) {
            size_t len = 0, out = 0;
            assert_int_equal(alcm_stream_compress(s, &sh, x, N * 4, blob, cap, &len, NULL, NULL),
                             ALCM_OK);
            assert_int_equal(alcm_decompress(d, blob, len, y, N * 4, &out), ALCM_OK);
            for (size_t i = 0; i < N; i++) {
                sx[i] += x[i];
                sy[i] += y[i];
            }
        }
        double num = 0, den = 0;
        for (size_t i = 0; i < N; i++) {
            num += (sx[i] - sy[i]) * (sx[i] - sy[i]);
            den += sx[i] * sx[i];
        }
        drift[fb] = sqrt(num / den);
        free(x);
        free(sx);
        free(sy);
        alcm_stream_free(s);
    }
    assert_true(drift[1] < 0.2 / 20 * 2.5);  /* about one step's error over 20 steps */
    assert_true(drift[1] < drift[0] / 3);
    alcm_dctx_free(d);
    free(y);
    free(blob);
}

static void test_reset_restarts_history(void **state)
{
    (void)state;
    alcm_stream *a = det_stream(1), *fresh = det_stream(1);
    alcm_shape sh = shape2d();
    size_t cap = alcm_compress_bound(N * 4);
    uint8_t *ba = tu_malloc(cap), *bb = tu_malloc(cap);
    float *x = tu_synth(ALCM_SYNTH_LAPLACE, N, COLS, 3);
    size_t la = 0, lb = 0;
    for (int i = 0; i < 4; i++)
        assert_int_equal(alcm_stream_compress(a, &sh, x, N * 4, ba, cap, &la, NULL, NULL), ALCM_OK);
    alcm_stream_reset(a);
    alcm_sched_state st;
    alcm_stream_get_state(a, &st);
    assert_int_equal(st.steps, 0);
    assert_int_equal(alcm_stream_compress(a, &sh, x, N * 4, ba, cap, &la, NULL, NULL), ALCM_OK);
    assert_int_equal(alcm_stream_compress(fresh, &sh, x, N * 4, bb, cap, &lb, NULL, NULL), ALCM_OK);
    assert_int_equal(la, lb);
    assert_memory_equal(ba, bb, la);
    free(x);
    free(ba);
    free(bb);
    alcm_stream_free(a);
    alcm_stream_free(fresh);
}

static void test_shape_change_and_memory(void **state)
{
    (void)state;
    alcm_stream *s = det_stream(1);
    size_t empty = alcm_stream_memory(s);
    alcm_shape sh = shape2d();
    size_t cap = alcm_compress_bound(N * 4);
    uint8_t *blob = tu_malloc(cap);
    float *x = tu_synth(ALCM_SYNTH_GAUSSIAN, N, COLS, 11);
    size_t len = 0;
    assert_int_equal(alcm_stream_compress(s, &sh, x, N * 4, blob, cap, &len, NULL, NULL), ALCM_OK);
    size_t full = alcm_stream_memory(s);
    assert_true(full >= empty + N * sizeof(float));
    alcm_shape small;
    alcm_shape_1d(&small, 1000);
    assert_int_equal(alcm_stream_compress(s, &small, x, 4000, blob, cap, &len, NULL, NULL), ALCM_OK);
    assert_true(alcm_stream_memory(s) < full);
    /* A byte count that disagrees with the shape is refused. */
    assert_int_equal(alcm_stream_compress(s, &small, x, 3996, blob, cap, &len, NULL, NULL),
                     ALCM_E_SHAPE);
    free(x);
    free(blob);
    alcm_stream_free(s);
}

/* A refused step (NaN) leaves the residual and the scheduler as they were. */
static void test_failed_step_changes_nothing(void **state)
{
    (void)state;
    alcm_stream *a = det_stream(1), *b = det_stream(1);
    alcm_shape sh = shape2d();
    size_t cap = alcm_compress_bound(N * 4);
    uint8_t *ba = tu_malloc(cap), *bb = tu_malloc(cap);
    float *x = tu_synth(ALCM_SYNTH_GAUSSIAN, N, COLS, 21);
    float *bad = tu_malloc(N * 4);
    memcpy(bad, x, N * 4);
    bad[N / 2] = NAN;
    size_t la = 0, lb = 0;
    assert_int_equal(alcm_stream_compress(a, &sh, x, N * 4, ba, cap, &la, NULL, NULL), ALCM_OK);
    assert_int_equal(alcm_stream_compress(b, &sh, x, N * 4, bb, cap, &lb, NULL, NULL), ALCM_OK);
    assert_int_equal(alcm_stream_compress(a, &sh, bad, N * 4, ba, cap, &la, NULL, NULL),
                     ALCM_E_NONFINITE);
    assert_int_equal(alcm_stream_compress(a, &sh, x, N * 4, ba, cap, &la, NULL, NULL), ALCM_OK);
    assert_int_equal(alcm_stream_compress(b, &sh, x, N * 4, bb, cap, &lb, NULL, NULL), ALCM_OK);
    assert_int_equal(la, lb);
    assert_memory_equal(ba, bb, la);
    free(bad);
    free(x);
    free(ba);
    free(bb);
    alcm_stream_free(a);
    alcm_stream_free(b);
}

/* A step writes its new residual into a second buffer and swaps the two: blobs, residual
 * and exported state are those of alcm_compress updating one residual in place, step after
 * step, with and without pruning, 2-D and 1-D (scalar tails), a too-small blob in between
 * (a failed step swaps nothing) and a change of shape. */
static void test_steps_match_in_place_residual(void **state)
{
    (void)state;
    const size_t n1 = 1003;
    for (int prune = 0; prune < 2; prune++) {
        alcm_stream_config c;
        alcm_stream_config_default(&c);
        c.sched.deterministic = 1;
        c.params.prune_ratio = prune ? 0.1 : 0.0;
        alcm_stream *s = NULL;
        assert_int_equal(alcm_stream_create(&c, &s), ALCM_OK);
        alcm_params p = c.params;
        p.error_budget = c.sched.error_budget;
        alcm_cctx *cx = alcm_cctx_create();
        size_t cap = alcm_compress_bound(N * 4);
        uint8_t *a = tu_malloc(cap), *b = tu_malloc(cap);
        float *r = calloc(N, sizeof(float));
        for (int step = 0; step < 16; step++) {
            alcm_shape sh = shape2d();
            size_t n = N;
            if (step == 10) { /* a new element count starts a new residual */
                memset(r, 0, N * sizeof(float));
            }
            if (step >= 10) {
                alcm_shape_1d(&sh, n1);
                n = n1;
            }
            float *x = tu_synth(step % 2 ? ALCM_SYNTH_GRADIENT : ALCM_SYNTH_LAPLACE, n, COLS,
                                300 + (uint64_t)step);
            size_t la = 0, lb = 0;
            if (step == 4) { /* too small: refused, nothing changes */
                assert_int_equal(alcm_stream_compress(s, &sh, x, n * 4, b, 64, &lb, NULL, NULL),
                                 ALCM_E_DST_TOO_SMALL);
            }
            assert_int_equal(alcm_compress(cx, &p, &sh, x, n * 4, r, a, cap, &la, NULL), ALCM_OK);
            assert_int_equal(alcm_stream_compress(s, &sh, x, n * 4, b, cap, &lb, NULL, NULL),
                             ALCM_OK);
            assert_int_equal(la, lb);
            assert_memory_equal(a, b, la);
            /* the exported residual: n floats before the CRC (docs/STATE.md) */
            size_t sz = alcm_stream_export_size(s), got = 0;
            uint8_t *state_bytes = tu_malloc(sz);
            assert_int_equal(alcm_stream_export(s, state_bytes, sz, &got), ALCM_OK);
            assert_int_equal(got, sz);
            assert_memory_equal(state_bytes + sz - 4 - n * 4, r, n * 4);
            free(state_bytes);
            free(x);
        }
        free(r);
        free(a);
        free(b);
        alcm_cctx_free(cx);
        alcm_stream_free(s);
    }
}

static void test_lossless_stream_is_exact(void **state)
{
    (void)state;
    alcm_stream_config c;
    alcm_stream_config_default(&c);
    alcm_params_default(&c.params, ALCM_PROFILE_LOSSLESS);
    c.params.dtype = ALCM_DTYPE_F32;
    alcm_stream *s = NULL;
    assert_int_equal(alcm_stream_create(&c, &s), ALCM_OK);
    assert_non_null(s);
    alcm_shape sh = shape2d();
    float *x = tu_synth(ALCM_SYNTH_HEAVY, N, COLS, 8);
    size_t cap = alcm_compress_bound(N * 4);
    uint8_t *blob = tu_malloc(cap);
    float *y = tu_malloc(N * 4);
    size_t len = 0, out = 0;
    alcm_info info;
    double cpu = -1;
    assert_int_equal(alcm_stream_compress(s, &sh, x, N * 4, blob, cap, &len, &info, &cpu), ALCM_OK);
    assert_true(cpu >= 0);
    assert_int_equal(info.exact, 1);
    alcm_dctx *d = alcm_dctx_create();
    assert_int_equal(alcm_decompress(d, blob, len, y, N * 4, &out), ALCM_OK);
    assert_memory_equal(x, y, N * 4);
    alcm_dctx_free(d);
    free(y);
    free(blob);
    free(x);
    alcm_stream_free(s);
}

static void test_config_equal(void **state)
{
    (void)state;
    alcm_stream_config a, b;
    alcm_stream_config_default(&a);
    alcm_stream_config_default(&b);
    assert_true(alcm_stream_config_equal(&a, &b));
    b.sched.deterministic = 1;
    assert_false(alcm_stream_config_equal(&a, &b));
    b = a;
    b.params.block_size = 1024;
    assert_false(alcm_stream_config_equal(&a, &b));
    b = a;
    b.error_feedback = 0;
    assert_false(alcm_stream_config_equal(&a, &b));
    /* The allocation-free check agrees with alcm_stream_create. */
    assert_int_equal(alcm_stream_config_check(&a), ALCM_OK);
    b = a;
    b.sched.window = 1;
    assert_int_equal(alcm_stream_config_check(&b), ALCM_E_ARG);
    assert_int_equal(alcm_sched_config_check(&b.sched), ALCM_E_ARG);
    alcm_stream *s = (alcm_stream *)&s;
    assert_int_equal(alcm_stream_create(&b, &s), ALCM_E_ARG);
    assert_null(s);
    b = a;
    b.sched.error_budget = 0;
    assert_int_not_equal(alcm_stream_config_check(&b), ALCM_OK);
    assert_int_equal(alcm_stream_create(&b, &s), alcm_stream_config_check(&b));
    assert_null(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults),
        cmocka_unit_test(test_config_equal),
        cmocka_unit_test(test_deterministic_replay),
        cmocka_unit_test(test_first_step_matches_one_shot),
        cmocka_unit_test(test_error_feedback_tracks_sum),
        cmocka_unit_test(test_reset_restarts_history),
        cmocka_unit_test(test_shape_change_and_memory),
        cmocka_unit_test(test_failed_step_changes_nothing),
        cmocka_unit_test(test_steps_match_in_place_residual),
        cmocka_unit_test(test_lossless_stream_is_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
