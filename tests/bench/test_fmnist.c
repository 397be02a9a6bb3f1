/* test_fmnist.c - the Fashion-MNIST library: IDX parsing and its rejections, message buffers,
 * gzip reading, dataset checks, batches, and the MLP (finite-difference gradients, learning,
 * determinism, the flat-gradient contract). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "fmnist.h"

/* ---- IDX ------------------------------------------------------------------------------ */

/* Builds an IDX file: 00 00 08 rank, dims big-endian, then payload bytes i % 251. */
static size_t make_idx(uint8_t *buf, uint8_t type, uint8_t rank, const uint32_t *dims,
                       size_t payload)
{
    buf[0] = 0;
    buf[1] = 0;
    buf[2] = type;
    buf[3] = rank;
    size_t off = 4;
    for (uint8_t i = 0; i < rank; i++, off += 4) {
        buf[off] = (uint8_t)(dims[i] >> 24);
        buf[off + 1] = (uint8_t)(dims[i] >> 16);
        buf[off + 2] = (uint8_t)(dims[i] >> 8);
        buf[off + 3] = (uint8_t)dims[i];
    }
    for (size_t i = 0; i < payload; i++) buf[off + i] = (uint8_t)(i % 251);
    return off + payload;
}

static void test_idx_parse_valid(void **state)
{
    (void)state;
    uint8_t buf[4 + 12 + 2 * 3 * 4];
    const uint32_t d3[3] = {2, 3, 4};
    size_t len = make_idx(buf, 8, 3, d3, 24);
    alcm_fmnist_idx_view v;
    assert_int_equal(alcm_fmnist_idx_parse(buf, len, &v), ALCM_FMNIST_OK);
    assert_int_equal(v.rank, 3);
    assert_int_equal(v.dims[0], 2);
    assert_int_equal(v.dims[1], 3);
    assert_int_equal(v.dims[2], 4);
    assert_int_equal(v.size, 24);
    assert_ptr_equal(v.data, buf + 16);
    const uint32_t d1[1] = {5};
    len = make_idx(buf, 8, 1, d1, 5);
    assert_int_equal(alcm_fmnist_idx_parse(buf, len, &v), ALCM_FMNIST_OK);
    assert_int_equal(v.rank, 1);
    assert_int_equal(v.size, 5);
    assert_int_equal(v.data[4], 4);
}

static void test_idx_parse_rejects_malformed(void **state)
{
    (void)state;
    uint8_t buf[64];
    alcm_fmnist_idx_view v;
    const uint32_t d3[3] = {2, 3, 4};
    size_t len = make_idx(buf, 8, 3, d3, 24);
    assert_int_equal(alcm_fmnist_idx_parse(buf, 3, &v), ALCM_FMNIST_E_TRUNCATED);
    assert_int_equal(alcm_fmnist_idx_parse(buf, 10, &v), ALCM_FMNIST_E_TRUNCATED);
    assert_int_equal(alcm_fmnist_idx_parse(buf, len - 1, &v), ALCM_FMNIST_E_TRUNCATED);
    assert_int_equal(alcm_fmnist_idx_parse(buf, len + 1, &v), ALCM_FMNIST_E_TRAILING);
    assert_int_equal(alcm_fmnist_idx_parse(NULL, 0, &v), ALCM_FMNIST_E_TRUNCATED);
    assert_int_equal(alcm_fmnist_idx_parse(buf, len, NULL), ALCM_FMNIST_E_ARG);
    buf[0] = 1;
    assert_int_equal(alcm_fmnist_idx_parse(buf, len, &v), ALCM_FMNIST_E_MAGIC);
    buf[0] = 0;
    buf[2] = 0x0d;   /* float elements */
    assert_int_equal(alcm_fmnist_idx_parse(buf, len, &v), ALCM_FMNIST_E_MAGIC);
    buf[2] = 8;
    buf[3] = 2;      /* rank 2 */
    assert_int_equal(alcm_fmnist_idx_parse(buf, len, &v), ALCM_FMNIST_E_HEADER);
    buf[3] = 0;
    assert_int_equal(alcm_fmnist_idx_parse(buf, len, &v), ALCM_FMNIST_E_HEADER);
    const uint32_t zero[3] = {2, 0, 4};
    len = make_idx(buf, 8, 3, zero, 0);
    assert_int_equal(alcm_fmnist_idx_parse(buf, len, &v), ALCM_FMNIST_E_HEADER);
    const uint32_t huge[3] = {0xffffffffu, 0xffffffffu, 0xffffffffu};
    len = make_idx(buf, 8, 3, huge, 8);
    assert_int_equal(alcm_fmnist_idx_parse(buf, len, &v), ALCM_FMNIST_E_LIMIT);
    assert_null(v.data);
    assert_string_not_equal(alcm_fmnist_strerror(ALCM_FMNIST_E_TRAILING), "unknown status");
}

/* The message buffer: formatted, truncated to its capacity, untouched without one. */
static void test_set_message(void **state)
{
    (void)state;
    char msg[8];
    alcm_fmnist_set_message(msg, sizeof msg, "%s:%u", "ab", 42u);
    assert_string_equal(msg, "ab:42");
    alcm_fmnist_set_message(msg, sizeof msg, "%s", "longer than eight");
    assert_string_equal(msg, "longer ");
    alcm_fmnist_set_message(msg, 0, "%s", "x");
    assert_string_equal(msg, "longer ");
    alcm_fmnist_set_message(NULL, sizeof msg, "%s", "x");
}

/* ---- files ---------------------------------------------------------------------------- */

static char g_dir[64];

static int make_dir(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/alcm_fmnist_XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static void remove_files(void)
{
    const char *names[] = {"t-images-idx3-ubyte.gz", "t-labels-idx1-ubyte.gz", "bad.gz",
                           "x.gz"};
    char p[128];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", g_dir, names[i]);
        unlink(p);
    }
}

static int remove_dir(void **state)
{
    (void)state;
    remove_files();
    return rmdir(g_dir);
}

static void write_gz(const char *name, const uint8_t *data, size_t len)
{
    char p[128];
    snprintf(p, sizeof p, "%s/%s", g_dir, name);
    gzFile g = gzopen(p, "wb");
    assert_non_null(g);
    assert_int_equal(gzwrite(g, data, (unsigned)len), (int)len);
    assert_int_equal(gzclose(g), Z_OK);
}

static void test_read_file_gzip_errors_and_limit(void **state)
{
    (void)state;
    uint8_t data[1000];
    for (int i = 0; i < 1000; i++) data[i] = (uint8_t)(i * 7);
    write_gz("x.gz", data, sizeof data);
    char p[128], msg[256];
    snprintf(p, sizeof p, "%s/x.gz", g_dir);
    uint8_t *out;
    size_t len;
    assert_int_equal(alcm_fmnist_idx_read_file(p, 1 << 20, &out, &len, msg, sizeof msg),
                     ALCM_FMNIST_OK);
    assert_int_equal(len, 1000);
    assert_memory_equal(out, data, 1000);
    free(out);
    assert_int_equal(alcm_fmnist_idx_read_file(p, 999, &out, &len, msg, sizeof msg),
                     ALCM_FMNIST_E_LIMIT);
    assert_null(out);
    assert_non_null(strstr(msg, "x.gz"));
    snprintf(p, sizeof p, "%s/missing.gz", g_dir);
    assert_int_equal(alcm_fmnist_idx_read_file(p, 1 << 20, &out, &len, msg, sizeof msg),
                     ALCM_FMNIST_E_IO);
    assert_non_null(strstr(msg, "missing.gz"));
    /* a gzip header followed by garbage: the stream error is reported, nothing returned */
    const uint8_t bad[] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0x00, 0x12,
                           0x34, 0x56, 0x78, 0x9a};
    snprintf(p, sizeof p, "%s/bad.gz", g_dir);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bad, 1, sizeof bad, f), sizeof bad);
    fclose(f);
    assert_int_equal(alcm_fmnist_idx_read_file(p, 1 << 20, &out, &len, msg, sizeof msg),
                     ALCM_FMNIST_E_IO);
    assert_null(out);
    assert_non_null(strstr(msg, "bad.gz"));
}

/* A 3-image split written in the Fashion-MNIST layout, then broken one way at a time. */
static void write_split(uint32_t n_img, uint32_t rows, uint32_t n_lab, uint8_t bad_label)
{
    size_t cap = 16 + (size_t)n_img * rows * 28;
    uint8_t *buf = malloc(cap + 16);
    assert_non_null(buf);
    const uint32_t d3[3] = {n_img, rows, 28};
    size_t len = make_idx(buf, 8, 3, d3, (size_t)n_img * rows * 28);
    write_gz("t-images-idx3-ubyte.gz", buf, len);
    const uint32_t d1[1] = {n_lab};
    len = make_idx(buf, 8, 1, d1, 0);
    for (uint32_t i = 0; i < n_lab; i++) buf[len + i] = (uint8_t)(i % 10);
    if (n_lab) buf[len + n_lab - 1] = bad_label ? bad_label : buf[len + n_lab - 1];
    write_gz("t-labels-idx1-ubyte.gz", buf, len + n_lab);
    free(buf);
}

static void test_load_checks_the_split(void **state)
{
    (void)state;
    alcm_fmnist_set s;
    char msg[512];
    write_split(3, 28, 3, 0);
    assert_int_equal(alcm_fmnist_load(g_dir, "t", &s, msg, sizeof msg), ALCM_FMNIST_OK);
    assert_int_equal(s.count, 3);
    assert_int_equal(s.rows, 28);
    assert_int_equal(s.cols, 28);
    assert_int_equal(s.labels[2], 2);
    assert_int_equal(s.images[100], 100 % 251);
    /* gather: pixel / 255, labels; an index out of range writes nothing */
    uint32_t idx[2] = {2, 0};
    float x[2 * 784];
    uint8_t y[2] = {99, 99};
    assert_int_equal(alcm_fmnist_gather(&s, idx, 2, x, y), ALCM_FMNIST_OK);
    assert_true(x[0] == (float)((2 * 784) % 251) / 255.0f);
    assert_true(x[784 + 5] == 5.0f / 255.0f);
    assert_true(y[0] == 2 && y[1] == 0);
    idx[1] = 3;
    y[0] = 99;
    assert_int_equal(alcm_fmnist_gather(&s, idx, 2, x, y), ALCM_FMNIST_E_ARG);
    assert_int_equal(y[0], 99);
    alcm_fmnist_set_free(&s);
    assert_null(s.images);

    write_split(3, 28, 4, 0);
    assert_int_equal(alcm_fmnist_load(g_dir, "t", &s, msg, sizeof msg), ALCM_FMNIST_E_MISMATCH);
    assert_null(s.images);
    write_split(3, 28, 3, 10);
    assert_int_equal(alcm_fmnist_load(g_dir, "t", &s, msg, sizeof msg), ALCM_FMNIST_E_MISMATCH);
    assert_non_null(strstr(msg, "label 10"));
    write_split(3, 27, 3, 0);
    assert_int_equal(alcm_fmnist_load(g_dir, "t", &s, msg, sizeof msg), ALCM_FMNIST_E_HEADER);
    assert_non_null(strstr(msg, "27x28"));
    assert_int_equal(alcm_fmnist_load(g_dir, "nosuch", &s, msg, sizeof msg), ALCM_FMNIST_E_IO);
    assert_non_null(strstr(msg, "nosuch-images-idx3-ubyte.gz"));
}

/* The installed dataset (dataset-fashion-mnist): the test split has 10000 images, 1000 of
 * each class. */
static void test_load_real_test_split(void **state)
{
    (void)state;
    alcm_fmnist_set s;
    char msg[512];
    alcm_fmnist_status st = alcm_fmnist_load(ALCM_FMNIST_DEFAULT_DIR, "t10k", &s, msg,
                                             sizeof msg);
    if (st != ALCM_FMNIST_OK) print_error("%s\n", msg);
    assert_int_equal(st, ALCM_FMNIST_OK);
    assert_int_equal(s.count, 10000);
    unsigned per_class[10] = {0};
    for (uint32_t i = 0; i < s.count; i++) per_class[s.labels[i]]++;
    for (int c = 0; c < 10; c++) assert_int_equal(per_class[c], 1000);
    alcm_fmnist_set_free(&s);
}

static void test_shuffle_is_a_seeded_permutation(void **state)
{
    (void)state;
    uint32_t a[1000], b[1000];
    alcm_rng r1, r2;
    alcm_rng_seed(&r1, 1);
    alcm_rng_seed(&r2, 1);
    alcm_fmnist_shuffle(&r1, a, 1000);
    alcm_fmnist_shuffle(&r2, b, 1000);
    assert_memory_equal(a, b, sizeof a);
    uint8_t seen[1000] = {0};
    size_t fixed = 0;
    for (int i = 0; i < 1000; i++) {
        assert_true(a[i] < 1000 && !seen[a[i]]);
        seen[a[i]] = 1;
        fixed += a[i] == (uint32_t)i;
    }
    assert_true(fixed < 10);
}

/* ---- MLP ------------------------------------------------------------------------------ */

static alcm_fmnist_mlp *small_mlp(uint32_t l, const uint32_t *sizes, float lr, uint64_t seed)
{
    alcm_fmnist_mlp_config c;
    memset(&c, 0, sizeof c);
    c.n_layers = l;
    for (uint32_t i = 0; i <= l; i++) c.sizes[i] = sizes[i];
    c.learning_rate = lr;
    c.momentum = 0.9f;
    c.seed = seed;
    alcm_fmnist_mlp *m = alcm_fmnist_mlp_create(&c);
    assert_non_null(m);
    return m;
}

static void test_mlp_config_and_layout(void **state)
{
    (void)state;
    alcm_fmnist_mlp_config c;
    alcm_fmnist_mlp_config_default(&c);
    alcm_fmnist_mlp *m = alcm_fmnist_mlp_create(&c);
    assert_non_null(m);
    assert_int_equal(alcm_fmnist_mlp_param_count(m),
                     784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
    assert_int_equal(alcm_fmnist_mlp_tensor_count(m), 6);
    size_t expect = 0;
    for (uint32_t i = 0; i < 6; i++) {
        alcm_fmnist_mlp_tensor t;
        assert_int_equal(alcm_fmnist_mlp_tensor_info(m, i, &t), ALCM_FMNIST_OK);
        assert_int_equal(t.offset, expect);
        assert_int_equal(t.is_bias, (int)(i % 2));
        expect += (size_t)t.rows * t.cols;
    }
    assert_int_equal(expect, alcm_fmnist_mlp_param_count(m));
    alcm_fmnist_mlp_tensor t;
    assert_int_equal(alcm_fmnist_mlp_tensor_info(m, 6, &t), ALCM_FMNIST_E_ARG);
    /* PyTorch default init: |w| <= 1/sqrt(784) in the first layer */
    const float *p = alcm_fmnist_mlp_params(m);
    float mx = 0;
    for (size_t i = 0; i < 784 * 256; i++) mx = fabsf(p[i]) > mx ? fabsf(p[i]) : mx;
    assert_true(mx <= 1.0f / 28.0f && mx > 0.035f);
    alcm_fmnist_mlp_free(m);
    c.sizes[3] = 1;                       /* a single class */
    assert_null(alcm_fmnist_mlp_create(&c));
    c.sizes[3] = 10;
    c.n_layers = 0;
    assert_null(alcm_fmnist_mlp_create(&c));
    c.n_layers = 3;
    c.momentum = 1.0f;
    assert_null(alcm_fmnist_mlp_create(&c));
}

/* Backward's gradient matches central finite differences of the mean loss, for every
 * parameter of a 5-7-6-3 network. */
static void test_mlp_gradient_finite_differences(void **state)
{
    (void)state;
    const uint32_t sizes[4] = {5, 7, 6, 3};
    alcm_fmnist_mlp *m = small_mlp(3, sizes, 0.1f, 3);
    const size_t np = alcm_fmnist_mlp_param_count(m), B = 4;
    float x[4 * 5];
    const uint8_t y[4] = {0, 2, 1, 2};
    alcm_rng r;
    alcm_rng_seed(&r, 8);
    for (size_t i = 0; i < B * 5; i++) x[i] = (float)alcm_rng_normal(&r);
    float *g = malloc(np * sizeof *g);
    assert_non_null(g);
    double loss;
    assert_int_equal(alcm_fmnist_mlp_backward(m, x, y, B, g, &loss), ALCM_FMNIST_OK);
    double loss2;
    assert_int_equal(alcm_fmnist_mlp_evaluate(m, x, y, B, &loss2, NULL), ALCM_FMNIST_OK);
    assert_true(fabs(loss - loss2) < 1e-12);
    float *p = alcm_fmnist_mlp_params(m);
    const float h = 1e-3f;
    size_t bad = 0;
    double gnorm = 0;
    for (size_t i = 0; i < np; i++) {
        float keep = p[i];
        double lp, lm;
        p[i] = keep + h;
        alcm_fmnist_mlp_evaluate(m, x, y, B, &lp, NULL);
        p[i] = keep - h;
        alcm_fmnist_mlp_evaluate(m, x, y, B, &lm, NULL);
        p[i] = keep;
        double fd = (lp - lm) / ((double)(keep + h) - (double)(keep - h));
        gnorm += fd * fd;
        if (fabs(fd - (double)g[i]) > 2e-4 + 1e-2 * fabs(fd)) bad++;
    }
    assert_int_equal(bad, 0);
    assert_true(gnorm > 1e-4);   /* the check is not vacuous */
    free(g);
    alcm_fmnist_mlp_free(m);
}

/* Three classes by angle around the origin (not linearly separable as one class is split
 * in two wedges): a 2-16-3 network learns them from batches of 32. */
static void test_mlp_learns_a_small_problem(void **state)
{
    (void)state;
    const uint32_t sizes[3] = {2, 16, 3};
    alcm_fmnist_mlp *m = small_mlp(2, sizes, 0.05f, 5);
    const size_t np = alcm_fmnist_mlp_param_count(m), n = 600;
    float *x = malloc(n * 2 * sizeof *x), *g = malloc(np * sizeof *g);
    uint8_t *y = malloc(n);
    assert_non_null(x);
    assert_non_null(g);
    assert_non_null(y);
    alcm_rng r;
    alcm_rng_seed(&r, 6);
    for (size_t i = 0; i < n; i++) {
        double a = 6.283185307179586 * alcm_rng_uniform(&r), rad = 0.5 + alcm_rng_uniform(&r);
        x[2 * i] = (float)(rad * cos(a));
        x[2 * i + 1] = (float)(rad * sin(a));
        int sector = (int)(a / 1.5707963267948966);   /* 4 quadrants -> 3 classes */
        y[i] = (uint8_t)(sector == 3 ? 0 : sector);
    }
    double loss0, acc0, loss1, acc1;
    alcm_fmnist_mlp_evaluate(m, x, y, n, &loss0, &acc0);
    for (int epoch = 0; epoch < 60; epoch++)
        for (size_t s = 0; s + 32 <= n; s += 32) {
            assert_int_equal(alcm_fmnist_mlp_backward(m, x + 2 * s, y + s, 32, g, NULL),
                             ALCM_FMNIST_OK);
            alcm_fmnist_mlp_apply(m, g);
        }
    alcm_fmnist_mlp_evaluate(m, x, y, n, &loss1, &acc1);
    assert_true(loss1 < 0.3 * loss0);
    assert_true(acc1 > 0.95);
    free(x);
    free(g);
    free(y);
    alcm_fmnist_mlp_free(m);
}

/* Same seed and steps: identical parameters. The gradient buffer is the caller's to change
 * between backward and apply: apply uses exactly what it is given (first step: w - lr·g;
 * a zero gradient then only carries the momentum). Bad labels are refused. */
static void test_mlp_determinism_and_flat_gradient_contract(void **state)
{
    (void)state;
    const uint32_t sizes[3] = {6, 5, 4};
    alcm_fmnist_mlp *a = small_mlp(2, sizes, 0.1f, 9), *b = small_mlp(2, sizes, 0.1f, 9);
    const size_t np = alcm_fmnist_mlp_param_count(a);
    float x[3 * 6], *g = malloc(np * sizeof *g), *p0 = malloc(np * sizeof *p0);
    assert_non_null(g);
    assert_non_null(p0);
    uint8_t y[3] = {1, 3, 0};
    for (int i = 0; i < 18; i++) x[i] = (float)(i % 5) * 0.3f - 0.5f;
    for (int s = 0; s < 5; s++) {
        alcm_fmnist_mlp_backward(a, x, y, 3, g, NULL);
        alcm_fmnist_mlp_apply(a, g);
        alcm_fmnist_mlp_backward(b, x, y, 3, g, NULL);
        alcm_fmnist_mlp_apply(b, g);
    }
    assert_memory_equal(alcm_fmnist_mlp_params(a), alcm_fmnist_mlp_params(b), np * 4);
    alcm_fmnist_mlp_free(a);
    alcm_fmnist_mlp_free(b);

    alcm_fmnist_mlp *m = small_mlp(2, sizes, 0.25f, 9);
    float *p = alcm_fmnist_mlp_params(m);
    memcpy(p0, p, np * sizeof *p);
    assert_int_equal(alcm_fmnist_mlp_backward(m, x, y, 3, g, NULL), ALCM_FMNIST_OK);
    assert_memory_equal(p, p0, np * sizeof *p);            /* backward does not update */
    for (size_t i = 0; i < np; i++) g[i] = (float)(i % 3) - 1.0f;   /* caller's gradient */
    alcm_fmnist_mlp_apply(m, g);
    for (size_t i = 0; i < np; i++) assert_true(p[i] == p0[i] - 0.25f * g[i]);
    memcpy(p0, p, np * sizeof *p);
    float *zero = calloc(np, sizeof *zero);
    assert_non_null(zero);
    alcm_fmnist_mlp_apply(m, zero);                          /* v = 0.9 v */
    for (size_t i = 0; i < np; i++) assert_true(p[i] == p0[i] - 0.25f * (0.9f * g[i]));
    y[1] = 4;
    assert_int_equal(alcm_fmnist_mlp_backward(m, x, y, 3, g, NULL), ALCM_FMNIST_E_ARG);
    assert_int_equal(alcm_fmnist_mlp_backward(m, x, y, 0, g, NULL), ALCM_FMNIST_E_ARG);
    free(zero);
    free(g);
    free(p0);
    alcm_fmnist_mlp_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idx_parse_valid),
        cmocka_unit_test(test_idx_parse_rejects_malformed),
        cmocka_unit_test(test_set_message),
        cmocka_unit_test(test_read_file_gzip_errors_and_limit),
        cmocka_unit_test(test_load_checks_the_split),
        cmocka_unit_test(test_load_real_test_split),
        cmocka_unit_test(test_shuffle_is_a_seeded_permutation),
        cmocka_unit_test(test_mlp_config_and_layout),
        cmocka_unit_test(test_mlp_gradient_finite_differences),
        cmocka_unit_test(test_mlp_learns_a_small_problem),
        cmocka_unit_test(test_mlp_determinism_and_flat_gradient_contract),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
