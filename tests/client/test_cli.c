/* test_cli.c - the `alcm` tool driven as a user would: exit codes, option range errors,
 * round trips through files, determinism, damaged blobs, the experiment's JSON. */
#include "cli_fixture.h"

#include <sys/stat.h>
#include <unistd.h>

static int setup(void **state)
{
    (void)state;
    return cli_fixture_mkdir("alcm-cli");
}

static int teardown(void **state)
{
    (void)state;
    return cli_fixture_rmdir();
}

static void test_help_and_usage_errors(void **state)
{
    (void)state;
    assert_int_equal(run("--help"), 0);
    assert_true(file_contains("out.txt", "compress"));
    /* The user tool has the user's commands; the benchmarks are alcm-bench's. */
    assert_false(file_contains("out.txt", "bench"));
    assert_false(file_contains("out.txt", "experiment"));
    assert_int_equal(run_bench("--help"), 0);
    assert_true(file_contains("out.txt", "experiment"));
    assert_true(file_contains("out.txt", "bench-core"));
    assert_int_equal(run("no-such-command"), 2);
    assert_true(file_contains("err.txt", "unknown command"));
    assert_int_equal(run("compress --help"), 0);
    assert_int_equal(run("decompress --help"), 0);
    assert_int_equal(run("inspect --help"), 0);
    assert_int_equal(run_bench("experiment --help"), 0);
    assert_int_equal(run("compress"), 2);
    assert_int_equal(run("compress --profile nope x -o y"), 2);
    assert_int_equal(run("compress --error-budget 2 x -o y"), 2);
    assert_int_equal(run("compress --shape 3xx4 x -o y"), 2);
}

/* `<bin> <args>` is a usage error (exit code 2) whose message contains needle. */
static void expect_program_usage_error(const char *bin, const char *args, const char *needle)
{
    assert_int_equal(run_program(bin, args), 2);
    if (!file_contains("err.txt", needle))
        fail_msg("%s %s: no '%s' in its message", bin, args, needle);
}

static void expect_usage_error(const char *args, const char *needle)
{
    expect_program_usage_error(ALCM_BIN, args, needle);
}

static void expect_bench_usage_error(const char *args, const char *needle)
{
    expect_program_usage_error(ALCM_BENCH_BIN, args, needle);
}

/* Option values outside their range are usage errors naming the option, the range and the
 * value given; the boundary values themselves are accepted. */
static void test_option_ranges_are_reported(void **state)
{
    (void)state;
    expect_usage_error("compress --error-budget 0 x -o y",
                       "--error-budget must be in (0, 1], got '0'");
    expect_usage_error("compress --prune 0.3 x -o y", "--prune must be in [0, 0.25], got '0.3'");
    expect_usage_error("compress --level 23 x -o y", "--level must be 0..22, got '23'");
    expect_usage_error("compress --shape 3xx4 x -o y", "bad --shape '3xx4'");
    expect_bench_usage_error("experiment --seed -1", "--seed must be an unsigned integer, got '-1'");
    expect_bench_usage_error("experiment --epochs 100001", "--epochs must be 1..100000");
    expect_bench_usage_error("experiment --size 100000x100000", "--size must hold 1 .. 2^28 elements");
    expect_bench_usage_error("experiment extra", "unexpected argument 'extra'");
    assert_int_equal(run_bench("experiment --epochs 1 --size 8x8 --error-budget 1 --seed 0"), 0);
}

static void test_lossless_round_trip_arbitrary_bytes(void **state)
{
    (void)state;
    /* Text, random bytes and a mix, in one file of awkward length. */
    size_t n = 300007;
    uint8_t *buf = tu_malloc(n);
    alcm_rng rng;
    alcm_rng_seed(&rng, 1);
    for (size_t i = 0; i < n; i++)
        buf[i] = i < n / 3 ? (uint8_t)("the quick brown fox "[i % 20])
                           : (uint8_t)alcm_rng_next(&rng);
    spit("in.bin", buf, n);
    assert_int_equal(run("compress --profile lossless in.bin -o in.alcm"), 0);
    assert_int_equal(run("decompress in.alcm -o back.bin"), 0);
    size_t m = 0;
    char *back = slurp("back.bin", &m);
    assert_int_equal(m, n);
    assert_memory_equal(back, buf, n);
    free(back);
    /* Empty input too. */
    spit("empty.bin", "", 0);
    assert_int_equal(run("compress --profile lossless empty.bin -o empty.alcm"), 0);
    assert_int_equal(run("decompress empty.alcm -o empty.back"), 0);
    back = slurp("empty.back", &m);
    assert_int_equal(m, 0);
    free(back);
    free(buf);
}

static void test_gradient_round_trip_within_budget(void **state)
{
    (void)state;
    size_t n = 64 * 300;
    float *x = tu_synth(ALCM_SYNTH_GRADIENT, n, 300, 9);
    spit("g.f32", x, n * 4);
    assert_int_equal(run("compress --shape 64x300 --error-budget 0.02 g.f32 -o g.alcm"), 0);
    assert_int_equal(run("decompress g.alcm -o g.back"), 0);
    size_t m = 0;
    float *y = (float *)slurp("g.back", &m);
    assert_int_equal(m, n * 4);
    assert_true(alcm_rel_l2_error(x, y, n) <= 0.02);
    assert_int_equal(run("inspect g.alcm"), 0);
    assert_true(file_contains("out.txt", "64x300"));
    assert_true(file_contains("out.txt", "gradient"));
    assert_int_equal(run("inspect --json g.alcm"), 0);
    assert_true(file_contains("out.txt", "\"bits_mean\""));
    free(y);
    free(x);
}

static void test_same_file_twice_gives_identical_blobs(void **state)
{
    (void)state;
    size_t n = 100 * 100;
    float *x = tu_synth(ALCM_SYNTH_LAPLACE, n, 100, 4);
    spit("d.f32", x, n * 4);
    const char *profiles[] = {"gradient", "lossless --dtype f32", "baseline"};
    for (int i = 0; i < 3; i++) {
        char args[256];
        snprintf(args, sizeof args, "compress --profile %s --shape 100x100 d.f32 -o a.alcm",
                 profiles[i]);
        assert_int_equal(run(args), 0);
        snprintf(args, sizeof args, "compress --profile %s --shape 100x100 d.f32 -o b.alcm",
                 profiles[i]);
        assert_int_equal(run(args), 0);
        size_t la, lb;
        char *a = slurp("a.alcm", &la), *b = slurp("b.alcm", &lb);
        assert_int_equal(la, lb);
        assert_memory_equal(a, b, la);
        free(a);
        free(b);
    }
    free(x);
}

/* --threads: out-of-range counts are usage errors; a tensor above the chunk threshold gives
 * the same blob with 1 and 3 threads, and decodes the same with 1 and 2. */
static void test_threads_option(void **state)
{
    (void)state;
    expect_usage_error("compress --threads 0 x -o y", "--threads must be 1..64, got '0'");
    expect_usage_error("decompress --threads 65 x -o y", "--threads must be 1..64, got '65'");
    expect_bench_usage_error("bench-core --threads 0", "--threads must be 1..64, got '0'");
    size_t n = ((size_t)1 << 22) + 4096 * 7;
    float *x = tu_synth(ALCM_SYNTH_GRADIENT, n, 4096, 21);
    spit("t.f32", x, n * 4);
    assert_int_equal(run("compress t.f32 -o t1.alcm"), 0);
    assert_int_equal(run("compress --threads 3 t.f32 -o t3.alcm"), 0);
    size_t l1, l3;
    char *b1 = slurp("t1.alcm", &l1), *b3 = slurp("t3.alcm", &l3);
    assert_int_equal(l1, l3);
    assert_memory_equal(b1, b3, l1);
    assert_int_equal(run("decompress t1.alcm -o t1.back"), 0);
    assert_int_equal(run("decompress --threads 2 t1.alcm -o t2.back"), 0);
    size_t m1, m2;
    char *y1 = slurp("t1.back", &m1), *y2 = slurp("t2.back", &m2);
    assert_int_equal(m1, n * 4);
    assert_int_equal(m2, n * 4);
    assert_memory_equal(y1, y2, m1);
    assert_true(alcm_rel_l2_error(x, (const float *)y1, n) <= 0.01);
    free(b1);
    free(b3);
    free(y1);
    free(y2);
    free(x);
}

/* Every single-byte change of a blob makes `alcm decompress` fail with a clear message. */
static void test_any_changed_byte_is_detected(void **state)
{
    (void)state;
    size_t n = 16 * 16;
    float *x = tu_synth(ALCM_SYNTH_GAUSSIAN, n, 16, 12);
    spit("s.f32", x, n * 4);
    assert_int_equal(run("compress --shape 16x16 s.f32 -o s.alcm"), 0);
    size_t len = 0;
    uint8_t *blob = (uint8_t *)slurp("s.alcm", &len);
    assert_true(len > 16);
    for (size_t i = 0; i < len; i++) {
        blob[i] ^= 0x5a;
        spit("bad.alcm", blob, len);
        blob[i] ^= 0x5a;
        assert_int_equal(run("decompress bad.alcm -o bad.out"), 1);
        assert_true(file_contains("err.txt", "ALCM_E_"));
    }
    /* Nothing is written when decoding fails. */
    char path[512];
    snprintf(path, sizeof path, "%s/bad.out", g_dir);
    struct stat st;
    assert_int_not_equal(stat(path, &st), 0);
    free(blob);
    free(x);
}

static void test_input_errors_are_reported(void **state)
{
    (void)state;
    float v[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    spit("ten.f32", v, sizeof v);
    assert_int_equal(run("compress --shape 3x3 ten.f32 -o t.alcm"), 1);
    assert_true(file_contains("err.txt", "shape 3x3"));
    v[3] = NAN;
    spit("nan.f32", v, sizeof v);
    assert_int_equal(run("compress nan.f32 -o n.alcm"), 1);
    assert_true(file_contains("err.txt", "ALCM_E_NONFINITE"));
    assert_int_equal(run("compress --profile lossless --dtype f32 nan.f32 -o n.alcm"), 0);
    spit("odd.bin", "abc", 3);
    assert_int_equal(run("compress odd.bin -o o.alcm"), 1);
    assert_true(file_contains("err.txt", "whole number"));
    assert_int_equal(run("decompress missing.alcm -o x"), 1);
    assert_int_equal(run("decompress odd.bin -o x"), 1);
    assert_true(file_contains("err.txt", "ALCM_E_"));
}

static void test_experiment_json(void **state)
{
    (void)state;
    assert_int_equal(run_bench("experiment --epochs 3 --size 50x40 --deterministic --json r.json"), 0);
    assert_true(file_contains("out.txt", "mean"));
    char *s = slurp("r.json", NULL);
    assert_non_null(s);
    const char *keys[] = {"\"epochs\"", "\"epoch\"", "\"baseline\"", "\"alcm\"", "\"ratio\"",
                          "\"caq\"", "\"rel_l2_error\"", "\"caq_gain_pct\"",
                          "\"mean_caq_gain_pct\"", "\"mean_rel_l2_error\"",
                          "\"global_q\"", "\"int8_zstd\""};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) assert_non_null(strstr(s, keys[i]));
    /* Three epoch objects. */
    int count = 0;
    for (const char *p = s; (p = strstr(p, "\"epoch\":")) != NULL; p++) count++;
    assert_int_equal(count, 3);
    count = 0;
    for (const char *p = s; (p = strstr(p, "\"global_q\":")) != NULL; p++) count++;
    assert_int_equal(count, 3); /* the peers are measured every epoch */
    assert_true(file_contains("out.txt", "global-q"));
    free(s);
    assert_int_equal(run_bench("experiment --epochs 0"), 2);
    assert_int_equal(run_bench("experiment --size 0x5"), 2);
}

/* The smaller things a first user meets: output files readable by others (umask
 * permitting), the dtype a lossless blob records named in the summary, non-float input to
 * the gradient profile answered with the profile to use. */
static void test_first_use_messages_and_modes(void **state)
{
    (void)state;
    uint8_t bytes[4001];
    alcm_rng rng;
    alcm_rng_seed(&rng, 7);
    for (size_t i = 0; i < sizeof bytes; i++) bytes[i] = (uint8_t)alcm_rng_next(&rng);
    spit("odd.bin", bytes, sizeof bytes);
    mode_t old = umask(022);
    assert_int_equal(run("compress --profile lossless odd.bin -o odd.alcm"), 0);
    umask(old);
    assert_true(file_contains("err.txt", "profile lossless, dtype bytes"));
    char path[512];
    snprintf(path, sizeof path, "%s/odd.alcm", g_dir);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0644);
    /* Explicit f32 on a length that is no whole number of floats is refused. */
    assert_int_equal(run("compress --profile lossless --dtype f32 odd.bin -o f.alcm"), 1);
    assert_true(file_contains("err.txt", "not a whole number of f32 elements"));
    assert_int_equal(run("compress odd.bin -o g.alcm"), 1);
    assert_true(file_contains("err.txt", "use --profile lossless"));
    /* Random bytes of a float length: NaN patterns, and the same hint. */
    spit("rand.bin", bytes, 4000);
    assert_int_equal(run("compress rand.bin -o r.alcm"), 1);
    assert_true(file_contains("err.txt", "ALCM_E_NONFINITE"));
    assert_true(file_contains("err.txt", "use --profile lossless"));
    /* alcm sample makes an input the gradient profile takes. */
    assert_int_equal(run("sample --shape 20x30 --seed 3 -o s.f32"), 0);
    size_t m = 0;
    free(slurp("s.f32", &m));
    assert_int_equal(m, 20 * 30 * 4);
    assert_int_equal(run("compress --shape 20x30 s.f32 -o s.alcm"), 0);
    expect_usage_error("sample", "missing -o OUT");
    expect_usage_error("sample --shape 0x3 -o z.f32", "must hold 1 .. 2^28 elements");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_and_usage_errors),
        cmocka_unit_test(test_option_ranges_are_reported),
        cmocka_unit_test(test_lossless_round_trip_arbitrary_bytes),
        cmocka_unit_test(test_gradient_round_trip_within_budget),
        cmocka_unit_test(test_same_file_twice_gives_identical_blobs),
        cmocka_unit_test(test_threads_option),
        cmocka_unit_test(test_any_changed_byte_is_detected),
        cmocka_unit_test(test_input_errors_are_reported),
        cmocka_unit_test(test_experiment_json),
        cmocka_unit_test(test_first_use_messages_and_modes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
