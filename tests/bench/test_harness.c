/* test_harness.c - the measuring harness driven with the mock codec and small in-test
 * codecs: exact figures from the mock's documented format, verification of lossless and
 * lossy codecs, rejection of broken codecs, determinism, progress, and the built-ins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "bench_fixture.h"

/* ---- the bundle: runs of equal bytes, text, and a float tensor ---------------------------- */
#define N_ZERO 1000
#define N_TEXT 600
#define N_F32 4096

static uint8_t g_zero[N_ZERO], g_text[N_TEXT];
static float g_f32[N_F32];
static bx_bundle g_b;

/* Bytes the mock's documented run-length code takes for buf. */
static size_t mock_size(const uint8_t *buf, size_t n)
{
    size_t out = 0;
    for (size_t i = 0; i < n;) {
        size_t run = 1;
        while (i + run < n && run < 255 && buf[i + run] == buf[i]) run++;
        out += 2;
        i += run;
    }
    return out;
}

static int setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_TEXT; i++) g_text[i] = (uint8_t)("the quick brown fox "[i % 20]);
    for (size_t i = 0; i < N_F32; i++) g_f32[i] = (float)sin((double)i * 0.01) * 3.0f;
    bx_begin(&g_b, "unit");
    bx_add(&g_b, "zero.bin", g_zero, sizeof g_zero, "bytes");
    bx_add(&g_b, "text.txt", g_text, sizeof g_text, "bytes");
    bx_add(&g_b, "t.f32", g_f32, sizeof g_f32, "f32:64x64");
    bx_end(&g_b);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    bx_remove(&g_b);
    return 0;
}

static alcm_bench_bundle *load(void)
{
    alcm_bench_bundle *b = NULL;
    alcm_bench_error err;
    assert_int_equal(alcm_bench_bundle_load(g_b.root, "unit", 0.01, &b, &err), ALCM_BENCH_OK);
    return b;
}

static alcm_codec *builtin(const char *name)
{
    alcm_codec *c = NULL;
    alcm_bench_error err;
    assert_int_equal(alcm_bench_codec_create(name, &c, &err), ALCM_BENCH_OK);
    assert_string_equal(c->name, name);
    return c;
}

/* ---- in-test codecs ---------------------------------------------------------------------- */
enum { T_PASS, T_CORRUPT, T_LOSSY_OK, T_LOSSY_BAD, T_FAIL, T_SILENT, T_NONDET };

typedef struct {
    alcm_codec c;
    int mode;
    unsigned calls;
} test_codec;

static size_t t_bound(alcm_codec *c, const alcm_codec_item *item, size_t n)
{
    (void)c;
    (void)item;
    return n + 1;
}

static int t_compress(alcm_codec *c, const alcm_codec_item *item, const void *src, size_t n,
                      void *dst, size_t cap, size_t *len)
{
    test_codec *t = (test_codec *)c;
    (void)cap;
    if (t->mode == T_FAIL) return 7;
    uint8_t *d = dst;
    memcpy(d, src, n);
    *len = n;
    if (item->type == ALCM_CODEC_ITEM_F32 && (t->mode == T_LOSSY_OK || t->mode == T_LOSSY_BAD)) {
        for (size_t i = 0; i + 4 <= n; i += 4) {
            float v;
            memcpy(&v, d + i, 4);
            if (t->mode == T_LOSSY_OK) {
                uint32_t u;
                memcpy(&u, &v, 4);
                u &= ~(uint32_t)0xFFF;   /* drop 12 mantissa bits: ~2^-11 relative error */
                memcpy(&v, &u, 4);
            } else {
                v *= 0.5f;               /* 50 % error: far beyond the budget */
            }
            memcpy(d + i, &v, 4);
        }
    }
    if (t->mode == T_NONDET) d[(*len)++] = (uint8_t)t->calls++;
    return 0;
}

static int t_decompress(alcm_codec *c, const alcm_codec_item *item, const void *src, size_t n,
                        void *dst, size_t cap, size_t *len)
{
    test_codec *t = (test_codec *)c;
    (void)item;
    if (t->mode == T_NONDET) n--;
    if (n > cap) return 3;
    if (t->mode != T_SILENT) memcpy(dst, src, n);
    if (t->mode == T_CORRUPT && n > 10) ((uint8_t *)dst)[n / 2] ^= 0x40;
    *len = n;
    return 0;
}

static const char *t_describe(alcm_codec *c, int code)
{
    (void)c;
    return code == 7 ? "test codec refuses" : "test codec error";
}

static void t_free(alcm_codec *c)
{
    (void)c;   /* lives on the stack of the test */
}

static void t_init(test_codec *t, const char *name, int mode, int lossless)
{
    memset(t, 0, sizeof *t);
    t->c.abi_version = ALCM_CODEC_ABI_VERSION;
    t->c.name = name;
    t->c.lossless = lossless;
    t->c.bound = t_bound;
    t->c.compress = t_compress;
    t->c.decompress = t_decompress;
    t->c.describe_error = t_describe;
    t->c.free = t_free;
    t->mode = mode;
}

/* ---- tests ------------------------------------------------------------------------------- */
static void test_mock_format(void **state)
{
    (void)state;
    alcm_codec *m = builtin("mock");
    alcm_codec_item item = {.type = ALCM_CODEC_ITEM_BYTES, .rank = 1};
    uint8_t out[16], back[4];
    size_t len = 0, blen = 0;
    assert_int_equal(m->compress(m, &item, "aaab", 4, out, sizeof out, &len), 0);
    assert_int_equal(len, 4);
    assert_memory_equal(out, "\x03" "a" "\x01" "b", 4);
    assert_int_equal(m->decompress(m, &item, out, len, back, 4, &blen), 0);
    assert_int_equal(blen, 4);
    assert_memory_equal(back, "aaab", 4);
    /* Malformed pairs are refused: a zero count, an odd length, an overflowing run. */
    assert_int_not_equal(m->decompress(m, &item, "\x00" "a", 2, back, 4, &blen), 0);
    assert_int_not_equal(m->decompress(m, &item, "\x01", 1, back, 4, &blen), 0);
    assert_int_not_equal(m->decompress(m, &item, "\x05" "a", 2, back, 4, &blen), 0);
    assert_true(m->lossless && !m->adaptive);
    alcm_bench_codec_free(m);
}

typedef struct {
    unsigned calls, last_done, last_total;
} progress_log;

static void on_progress(void *user, unsigned done, unsigned total, const char *bundle,
                        const char *codec)
{
    progress_log *p = user;
    assert_string_equal(bundle, "unit");
    assert_non_null(codec);
    assert_true(done > p->last_done);
    p->calls++;
    p->last_done = done;
    p->last_total = total;
}

static void test_mock_and_baseline_figures(void **state)
{
    (void)state;
    alcm_bench_bundle *b = load();
    alcm_codec *codecs[2] = {builtin("baseline"), builtin("mock")};
    alcm_bench_config cfg;
    alcm_bench_config_default(&cfg);
    assert_int_equal(cfg.runs, 5);
    cfg.runs = 3;
    cfg.warmup_runs = 1;
    progress_log log = {0, 0, 0};
    cfg.progress = on_progress;
    cfg.progress_user = &log;
    alcm_bench_result res[2];
    alcm_bench_error err;
    assert_int_equal(alcm_bench_run(b, codecs, 2, &cfg, res, &err), ALCM_BENCH_OK);
    assert_int_equal(log.calls, 8);
    assert_int_equal(log.last_done, 8);
    assert_int_equal(log.last_total, 8);

    size_t raw = N_ZERO + N_TEXT + sizeof g_f32;
    size_t blob = mock_size(g_zero, N_ZERO) + mock_size(g_text, N_TEXT) +
                  mock_size((const uint8_t *)g_f32, sizeof g_f32);
    const alcm_bench_result *m = &res[1], *z = &res[0];
    assert_string_equal(m->codec, "mock");
    assert_string_equal(m->bundle, "unit");
    assert_int_equal(m->raw_bytes, raw);
    assert_int_equal(m->compressed_bytes, blob);
    assert_true(fabs(m->ratio - (double)raw / (double)blob) < 1e-12);
    assert_true(m->ratio_cv == 0);
    assert_true(m->verified && m->deterministic && m->lossless && !m->adaptive);
    assert_int_equal(m->runs, 3);
    assert_true(m->cpu_seconds > 0);
    /* CAQ is the mean of ratio / (cpu + 1) over runs: below the ratio, near ratio/(cpu+1). */
    assert_true(m->caq < m->ratio);
    assert_true(fabs(m->caq - m->ratio / (m->cpu_seconds + 1)) < 0.01 * m->caq);
    assert_true(m->caq_cv >= 0 && m->cpu_cv >= 0);
    assert_true(m->compress_mb_s > 0 && m->decompress_mb_s > 0);
    assert_true(fabs(m->compress_mb_s * m->cpu_seconds - (double)raw / 1e6) < 1e-9);
    assert_true(m->rel_l2_error == 0 && m->max_item_rel_l2_error == 0);
    /* Baseline: zlib-6 shrinks this bundle; deltas are relative to it. */
    assert_true(z->ratio > 1);
    assert_true(z->delta_vs_baseline_pct == 0);
    assert_true(fabs(m->delta_vs_baseline_pct - 100 * (m->caq / z->caq - 1)) < 1e-9);
    alcm_bench_codec_free(codecs[0]);
    alcm_bench_codec_free(codecs[1]);
    alcm_bench_bundle_free(b);
}

static void test_repeats_per_run(void **state)
{
    (void)state;
    alcm_bench_bundle *b = load();
    alcm_codec *codecs[1] = {builtin("mock")};
    alcm_bench_config cfg;
    alcm_bench_config_default(&cfg);
    assert_int_equal(cfg.repeats, 1);
    cfg.runs = 2;
    cfg.repeats = 3;
    cfg.warmup_runs = 0;
    progress_log log = {0, 0, 0};
    cfg.progress = on_progress;
    cfg.progress_user = &log;
    alcm_bench_result res;
    alcm_bench_error err;
    assert_int_equal(alcm_bench_run(b, codecs, 1, &cfg, &res, &err), ALCM_BENCH_OK);
    assert_int_equal(log.calls, 6);
    assert_int_equal(log.last_total, 6);
    assert_int_equal(res.runs, 2);
    assert_int_equal(res.n_cpu_runs, 2);
    assert_true(res.cpu_runs[0] > 0 && res.cpu_runs[1] > 0);
    assert_true(fabs(res.cpu_seconds - (res.cpu_runs[0] + res.cpu_runs[1]) / 2) < 1e-15);
    cfg.repeats = 0;
    assert_int_equal(alcm_bench_run(b, codecs, 1, &cfg, &res, &err), ALCM_BENCH_E_ARG);
    alcm_bench_codec_free(codecs[0]);
    alcm_bench_bundle_free(b);
}

/* Runs one test codec (name, mode, lossless) alone over b with `runs` timed runs. */
static alcm_bench_status run_alone(const alcm_bench_bundle *b, const char *name, int mode,
                                   int lossless, uint32_t runs, alcm_bench_result *res,
                                   alcm_bench_error *err)
{
    test_codec t;
    t_init(&t, name, mode, lossless);
    alcm_codec *codecs[1] = {&t.c};
    alcm_bench_config cfg;
    alcm_bench_config_default(&cfg);
    cfg.runs = runs;
    return alcm_bench_run(b, codecs, 1, &cfg, res, err);
}

static void test_lossy_within_budget(void **state)
{
    (void)state;
    alcm_bench_bundle *b = load();
    alcm_bench_result res;
    alcm_bench_error err;
    assert_int_equal(run_alone(b, "trunc", T_LOSSY_OK, 0, 2, &res, &err), ALCM_BENCH_OK);
    assert_true(res.verified);
    assert_true(res.rel_l2_error > 0);
    assert_true(res.rel_l2_error < 0.001);
    /* One f32 item: the bundle figure is that item's. */
    assert_true(fabs(res.rel_l2_error - res.max_item_rel_l2_error) < 1e-15);
    assert_true(res.delta_vs_baseline_pct == 0);   /* no baseline in this run */
    alcm_bench_bundle_free(b);
}

static void expect_failure(int mode, int lossless, alcm_bench_status want, const char *needle)
{
    alcm_bench_bundle *b = load();
    alcm_bench_result res;
    alcm_bench_error err;
    assert_int_equal(run_alone(b, "broken", mode, lossless, 1, &res, &err), want);
    assert_int_equal(err.status, want);
    assert_non_null(strstr(err.message, "broken"));
    if (!strstr(err.message, needle)) fail_msg("message '%s' lacks '%s'", err.message, needle);
    alcm_bench_bundle_free(b);
}

static void test_broken_codecs_are_caught(void **state)
{
    (void)state;
    expect_failure(T_CORRUPT, 1, ALCM_BENCH_E_VERIFY, "differ from the input at offset");
    /* A lossy codec must still return bytes items exactly. */
    expect_failure(T_CORRUPT, 0, ALCM_BENCH_E_VERIFY, "bytes items must round-trip");
    expect_failure(T_LOSSY_BAD, 0, ALCM_BENCH_E_VERIFY, "exceeds the error budget");
    /* A lossless codec may not change floats at all. */
    expect_failure(T_LOSSY_OK, 1, ALCM_BENCH_E_VERIFY, "declares itself lossless");
    expect_failure(T_FAIL, 1, ALCM_BENCH_E_CODEC, "test codec refuses");
    expect_failure(T_SILENT, 1, ALCM_BENCH_E_VERIFY, "differ");
}

static void test_nondeterminism_is_reported(void **state)
{
    (void)state;
    alcm_bench_bundle *b = load();
    alcm_bench_result res;
    alcm_bench_error err;
    assert_int_equal(run_alone(b, "counter", T_NONDET, 1, 2, &res, &err), ALCM_BENCH_OK);
    assert_true(res.verified);
    assert_false(res.deterministic);
    alcm_bench_bundle_free(b);
}

static void test_codec_checks(void **state)
{
    (void)state;
    alcm_bench_bundle *b = load();
    alcm_bench_error err;
    test_codec t;
    t_init(&t, "Bad Name", T_PASS, 1);
    assert_int_equal(alcm_bench_codec_check(&t.c, &err), ALCM_BENCH_E_PLUGIN);
    t_init(&t, "ok", T_PASS, 1);
    t.c.abi_version = 99;
    assert_int_equal(alcm_bench_codec_check(&t.c, &err), ALCM_BENCH_E_PLUGIN);
    assert_non_null(strstr(err.message, "ABI"));
    t_init(&t, "ok", T_PASS, 1);
    t.c.decompress = NULL;
    assert_int_equal(alcm_bench_codec_check(&t.c, &err), ALCM_BENCH_E_PLUGIN);
    t_init(&t, "ok", T_PASS, 2);
    assert_int_equal(alcm_bench_codec_check(&t.c, &err), ALCM_BENCH_E_PLUGIN);
    /* The harness runs the same checks, and refuses a codec listed twice. */
    t_init(&t, "ok", T_PASS, 1);
    alcm_codec *twice[2] = {&t.c, &t.c};
    alcm_bench_config cfg;
    alcm_bench_config_default(&cfg);
    alcm_bench_result res[2];
    assert_int_equal(alcm_bench_run(b, twice, 2, &cfg, res, &err), ALCM_BENCH_E_ARG);
    cfg.runs = 0;
    assert_int_equal(alcm_bench_run(b, twice, 1, &cfg, res, &err), ALCM_BENCH_E_ARG);
    alcm_codec *unknown = NULL;
    assert_int_equal(alcm_bench_codec_create("gzip-9", &unknown, &err), ALCM_BENCH_E_UNKNOWN);
    assert_null(unknown);
    assert_non_null(strstr(err.message, "gzip-9"));
    alcm_bench_bundle_free(b);
}

static void test_every_builtin_round_trips(void **state)
{
    (void)state;
    alcm_bench_bundle *b = load();
    const char *const *names = alcm_bench_builtin_names();
    alcm_codec *codecs[32];
    size_t n = 0;
    for (; names[n]; n++) codecs[n] = builtin(names[n]);
    assert_true(n >= 7);
    alcm_bench_config cfg;
    alcm_bench_config_default(&cfg);
    cfg.runs = 2;
    alcm_bench_result res[32];
    alcm_bench_error err;
    alcm_bench_status st = alcm_bench_run(b, codecs, n, &cfg, res, &err);
    if (st != ALCM_BENCH_OK) fail_msg("%s", err.message);
    for (size_t i = 0; i < n; i++) {
        assert_true(res[i].verified);
        assert_true(res[i].deterministic);
        assert_true(res[i].ratio_cv == 0);
        assert_true(res[i].ratio > 0);
        assert_true(res[i].max_item_rel_l2_error <= 0.01 * (1 + 1e-9));
        if (res[i].lossless) assert_true(res[i].rel_l2_error == 0);
        alcm_bench_codec_free(codecs[i]);
    }
    alcm_bench_bundle_free(b);
}

/* The example plugin, built next to the tests: <build>/lib/libalcm_codec_shuffle.so. */
static void plugin_path(char *buf, size_t cap)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    assert_true(n > 0);
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    assert_non_null(slash);
    *slash = '\0';
    snprintf(buf, cap, "%s/../lib/libalcm_codec_shuffle.so", exe);
}

static void test_plugin_loading(void **state)
{
    (void)state;
    alcm_bench_plugin *p = NULL;
    alcm_bench_error err;
    assert_int_equal(alcm_bench_plugin_open("libnothing.so", &p, &err), ALCM_BENCH_E_PLUGIN);
    assert_non_null(strstr(err.message, "path"));
    assert_int_equal(alcm_bench_plugin_open("/nonexistent/libx.so", &p, &err),
                     ALCM_BENCH_E_PLUGIN);
    assert_null(p);
    /* A shared library without the entry point (zlib, where the usual path exists). */
    const char *libz = "/lib/x86_64-linux-gnu/libz.so.1";
    if (access(libz, R_OK) == 0) {
        assert_int_equal(alcm_bench_plugin_open(libz, &p, &err), ALCM_BENCH_E_PLUGIN);
        assert_non_null(strstr(err.message, "does not export"));
    }
    char path[4200];
    plugin_path(path, sizeof path);
    assert_int_equal(alcm_bench_plugin_open(path, &p, &err), ALCM_BENCH_OK);
    alcm_codec *c = alcm_bench_plugin_codec(p);
    assert_string_equal(c->name, "shuffle-zstd");
    alcm_bench_bundle *b = load();
    alcm_codec *codecs[1] = {c};
    alcm_bench_config cfg;
    alcm_bench_config_default(&cfg);
    cfg.runs = 1;
    alcm_bench_result res;
    assert_int_equal(alcm_bench_run(b, codecs, 1, &cfg, &res, &err), ALCM_BENCH_OK);
    assert_true(res.verified && res.lossless && res.ratio > 1);
    alcm_bench_bundle_free(b);
    alcm_bench_plugin_close(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mock_format),
        cmocka_unit_test(test_mock_and_baseline_figures),
        cmocka_unit_test(test_repeats_per_run),
        cmocka_unit_test(test_lossy_within_budget),
        cmocka_unit_test(test_broken_codecs_are_caught),
        cmocka_unit_test(test_nondeterminism_is_reported),
        cmocka_unit_test(test_codec_checks),
        cmocka_unit_test(test_every_builtin_round_trips),
        cmocka_unit_test(test_plugin_loading),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
