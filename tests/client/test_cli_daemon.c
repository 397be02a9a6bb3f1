/* test_cli_daemon.c - the `alcm` tool through a real alcmd: --socket on compress,
 * decompress, experiment and stats, global and per-command forms, and a missing daemon. */
#include "cli_fixture.h"

#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char g_sock[320];
static pid_t g_daemon = -1;

/* alcmd sits next to the alcm binary in the build tree. */
static void daemon_path(char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", ALCM_BIN);
    char *slash = strrchr(buf, '/');
    assert_non_null(slash);
    snprintf(slash + 1, cap - (size_t)(slash + 1 - buf), "alcmd");
}

static int setup(void **state)
{
    (void)state;
    if (cli_fixture_mkdir("alcm-clid")) return -1;
    snprintf(g_sock, sizeof g_sock, "%s/alcm.sock", g_dir);
    char bin[512], log[400];
    daemon_path(bin, sizeof bin);
    snprintf(log, sizeof log, "%s/alcmd.log", g_dir);
    g_daemon = fork();
    if (g_daemon < 0) return -1;
    if (g_daemon == 0) {
        if (!freopen(log, "w", stderr)) _exit(127);
        execl(bin, "alcmd", "--socket", g_sock, "--log-level", "debug", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) { /* up to 10 s for the socket to appear */
        struct stat st;
        if (stat(g_sock, &st) == 0 && S_ISSOCK(st.st_mode)) return 0;
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

static int teardown(void **state)
{
    (void)state;
    int ok = 0;
    if (g_daemon > 0) {
        kill(g_daemon, SIGTERM);
        int st;
        waitpid(g_daemon, &st, 0);
        ok = WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
    }
    if (cli_fixture_rmdir() != 0) ok = -1;
    return ok;
}

static void test_compress_decompress_through_daemon(void **state)
{
    (void)state;
    size_t n = 32 * 500;
    float *x = tu_synth(ALCM_SYNTH_GRADIENT, n, 500, 31);
    spit("g.f32", x, n * 4);
    char args[1024];
    snprintf(args, sizeof args,
             "--socket '%s' --stream rank0/fc1 compress --shape 32x500 g.f32 -o g.alcm", g_sock);
    assert_int_equal(run(args), 0);
    snprintf(args, sizeof args, "decompress --socket '%s' g.alcm -o g.back", g_sock);
    assert_int_equal(run(args), 0);
    size_t m = 0;
    float *y = (float *)slurp("g.back", &m);
    assert_int_equal(m, n * 4);
    assert_true(alcm_rel_l2_error(x, y, n) <= 0.01);
    /* The blob is an ordinary blob: in-process decoding gives the same bytes. */
    assert_int_equal(run("decompress g.alcm -o g.local"), 0);
    size_t m2 = 0;
    char *y2 = slurp("g.local", &m2);
    assert_int_equal(m2, m);
    assert_memory_equal(y2, y, m);
    snprintf(args, sizeof args, "--socket '%s' stats", g_sock);
    assert_int_equal(run(args), 0);
    assert_true(file_contains("out.txt", "rank0/fc1"));
    /* Nothing else is running: the stats request does not count itself as in flight. */
    assert_true(file_contains("out.txt", "in flight: 0 request(s), 0 B"));
    /* --stream names a compress stream; decompress has none and says so. */
    snprintf(args, sizeof args, "--socket '%s' --stream rank0/fc1 decompress g.alcm -o g.x",
             g_sock);
    assert_int_equal(run(args), 2);
    assert_true(file_contains("err.txt", "decompress takes none"));
    free(y2);
    free(y);
    free(x);
}

/* A tensor large enough for the shared region: read from a file straight into it (no copy),
 * or from stdin through the client's memory, the daemon gets the same bytes. */
static void test_large_file_zero_copy(void **state)
{
    (void)state;
    size_t n = 300 * 500;
    float *x = tu_synth(ALCM_SYNTH_GRADIENT, n, 500, 32);
    spit("big.f32", x, n * 4);
    char args[1024];
    snprintf(args, sizeof args, "--socket '%s' --stream zc/file compress big.f32 -o f.alcm",
             g_sock);
    assert_int_equal(run(args), 0);
    snprintf(args, sizeof args,
             "--socket '%s' --stream zc/stdin compress - -o s.alcm <big.f32", g_sock);
    assert_int_equal(run(args), 0);
    size_t lf = 0, ls = 0;
    char *bf = slurp("f.alcm", &lf), *bs = slurp("s.alcm", &ls);
    assert_true(lf > 0 && lf < n * 4);
    assert_int_equal(lf, ls);
    assert_memory_equal(bf, bs, lf);
    assert_int_equal(run("decompress f.alcm -o f.back"), 0);
    size_t m = 0;
    float *y = (float *)slurp("f.back", &m);
    assert_int_equal(m, n * 4);
    assert_true(alcm_rel_l2_error(x, y, n) <= 0.01);
    free(y);
    free(bf);
    free(bs);
    free(x);
}

static void test_experiment_through_daemon(void **state)
{
    (void)state;
    char args[1024];
    snprintf(args, sizeof args,
             "experiment --socket '%s' --stream exp/a --epochs 4 --size 40x50 --json r.json",
             g_sock);
    assert_int_equal(run_bench(args), 0);
    assert_true(file_contains("out.txt", "through alcmd"));
    assert_true(file_contains("r.json", "\"mean_caq_gain_pct\""));
    snprintf(args, sizeof args, "stats --socket '%s' --json", g_sock);
    assert_int_equal(run(args), 0);
    assert_true(file_contains("out.txt", "exp/a"));
}

static void test_missing_daemon_is_a_clear_error(void **state)
{
    (void)state;
    float v[4] = {1, 2, 3, 4};
    spit("v.f32", v, sizeof v);
    char args[1024];
    snprintf(args, sizeof args, "--socket '%s/nope.sock' compress v.f32 -o v.alcm", g_dir);
    assert_int_equal(run(args), 1);
    assert_true(file_contains("err.txt", "ALCMC_E_CONNECT"));
    assert_true(file_contains("err.txt", "No such file or directory"));
    /* A path that exists but is no socket says so, for every command that connects. */
    assert_int_equal(run("--socket /etc/passwd stats"), 1);
    assert_true(file_contains("err.txt", "'/etc/passwd': not a socket"));
    assert_int_equal(run("--socket /etc/passwd compress v.f32 -o v.alcm"), 1);
    assert_true(file_contains("err.txt", "not a socket"));
    /* A codec refusal travels back with libalcm's status. */
    v[2] = NAN;
    spit("nan.f32", v, sizeof v);
    snprintf(args, sizeof args, "--socket '%s' compress nan.f32 -o n.alcm", g_sock);
    assert_int_equal(run(args), 1);
    assert_true(file_contains("err.txt", "ALCM_E_NONFINITE"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compress_decompress_through_daemon),
        cmocka_unit_test(test_large_file_zero_copy),
        cmocka_unit_test(test_experiment_through_daemon),
        cmocka_unit_test(test_missing_daemon_is_a_clear_error),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
