/* test_manifest.c - bundle manifests: parsing, and loading bundles checked against them
 * (good bundle, missing file, wrong sha256, wrong size, missing or malformed manifest). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "bench_fixture.h"

#define SHA_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static alcm_bench_status parse(const char *text, alcm_bench_error *err)
{
    alcm_bench_manifest *m = NULL;
    alcm_bench_status st = alcm_bench_manifest_parse(text, strlen(text), &m, err);
    if (st == ALCM_BENCH_OK) assert_non_null(m);
    else assert_null(m);
    alcm_bench_manifest_free(m);
    return st;
}

static void test_sha256_known_vector(void **state)
{
    (void)state;
    char hex[65];
    alcm_bench_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    alcm_bench_sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_parse_good(void **state)
{
    (void)state;
    const char *text = "# alcm-bench-manifest v1\n"
                       "# a comment\n"
                       "\n"
                       "a.txt\t10\t" SHA_A "\tbytes\tdict-gcide=1.0:/x (first 10 bytes)\n"
                       "g.f32\t24\t" SHA_A "\tf32:2x3\tgenerated, seed 42\n";
    alcm_bench_manifest *m = NULL;
    alcm_bench_error err;
    assert_int_equal(alcm_bench_manifest_parse(text, strlen(text), &m, &err), ALCM_BENCH_OK);
    assert_int_equal(m->n_entries, 2);
    assert_string_equal(m->entries[0].file, "a.txt");
    assert_int_equal(m->entries[0].size, 10);
    assert_int_equal(m->entries[0].item.type, ALCM_CODEC_ITEM_BYTES);
    assert_int_equal(m->entries[0].item.dims[0], 10);
    assert_string_equal(m->entries[0].source, "dict-gcide=1.0:/x (first 10 bytes)");
    assert_int_equal(m->entries[1].item.type, ALCM_CODEC_ITEM_F32);
    assert_int_equal(m->entries[1].item.rank, 2);
    assert_int_equal(m->entries[1].item.dims[0], 2);
    assert_int_equal(m->entries[1].item.dims[1], 3);
    assert_string_equal(m->entries[1].item.name, "g.f32");
    char hex[65];
    alcm_bench_sha256_hex(text, strlen(text), hex);
    assert_string_equal(m->sha256, hex);
    alcm_bench_manifest_free(m);
}

static void test_parse_rejects(void **state)
{
    (void)state;
    alcm_bench_error err;
    assert_int_equal(parse("a.txt\t1\t" SHA_A "\tbytes\tx\n", &err), ALCM_BENCH_E_MANIFEST);
    assert_non_null(strstr(err.message, "first line"));
    assert_int_equal(parse("# alcm-bench-manifest v2\n", &err), ALCM_BENCH_E_MANIFEST);
    assert_int_equal(parse("# alcm-bench-manifest v1\n", &err), ALCM_BENCH_E_MANIFEST);
    assert_non_null(strstr(err.message, "no files"));
    assert_int_equal(parse("# alcm-bench-manifest v1\na.txt\t1\t" SHA_A "\tbytes\n", &err),
                     ALCM_BENCH_E_MANIFEST);
    assert_non_null(strstr(err.message, "line 2"));
    assert_non_null(strstr(err.message, "5 tab-separated"));
    assert_int_equal(parse("# alcm-bench-manifest v1\n../a\t1\t" SHA_A "\tbytes\tx\n", &err),
                     ALCM_BENCH_E_MANIFEST);
    assert_non_null(strstr(err.message, "file name"));
    assert_int_equal(parse("# alcm-bench-manifest v1\n.hidden\t1\t" SHA_A "\tbytes\tx\n", &err),
                     ALCM_BENCH_E_MANIFEST);
    assert_int_equal(parse("# alcm-bench-manifest v1\na\t-1\t" SHA_A "\tbytes\tx\n", &err),
                     ALCM_BENCH_E_MANIFEST);
    assert_int_equal(parse("# alcm-bench-manifest v1\na\t99999999999999999999\t" SHA_A
                           "\tbytes\tx\n", &err),
                     ALCM_BENCH_E_MANIFEST);
    assert_int_equal(parse("# alcm-bench-manifest v1\na\t1\tABC\tbytes\tx\n", &err),
                     ALCM_BENCH_E_MANIFEST);
    assert_non_null(strstr(err.message, "sha256"));
    assert_int_equal(parse("# alcm-bench-manifest v1\na\t1\t" SHA_A "\tint8\tx\n", &err),
                     ALCM_BENCH_E_MANIFEST);
    assert_non_null(strstr(err.message, "type"));
    assert_int_equal(parse("# alcm-bench-manifest v1\na\t20\t" SHA_A "\tf32:2x3\tx\n", &err),
                     ALCM_BENCH_E_MANIFEST);
    assert_non_null(strstr(err.message, "4 bytes times"));
    assert_int_equal(parse("# alcm-bench-manifest v1\na\t0\t" SHA_A "\tf32:0\tx\n", &err),
                     ALCM_BENCH_E_MANIFEST);
    assert_int_equal(parse("# alcm-bench-manifest v1\na\t4\t" SHA_A "\tf32:1x\tx\n", &err),
                     ALCM_BENCH_E_MANIFEST);
    assert_int_equal(parse("# alcm-bench-manifest v1\na\t4\t" SHA_A
                           "\tf32:1x1x1x1x1x1x1x1x1\tx\n", &err),
                     ALCM_BENCH_E_MANIFEST);
    assert_int_equal(parse("# alcm-bench-manifest v1\na\t4\t" SHA_A "\tbytes\t\n", &err),
                     ALCM_BENCH_E_MANIFEST);
    assert_non_null(strstr(err.message, "source"));
    assert_int_equal(parse("# alcm-bench-manifest v1\na\t1\t" SHA_A "\tbytes\tx\n"
                           "a\t1\t" SHA_A "\tbytes\ty\n", &err),
                     ALCM_BENCH_E_MANIFEST);
    assert_non_null(strstr(err.message, "twice"));
    const char with_nul[] = "# alcm-bench-manifest v1\na\t1\t" SHA_A "\tbytes\tx\0\n";
    alcm_bench_manifest *m = NULL;
    assert_int_equal(alcm_bench_manifest_parse(with_nul, sizeof with_nul - 1, &m, &err),
                     ALCM_BENCH_E_MANIFEST);
    assert_null(m);
}

/* The bundle every load test starts from: "tiny" with a 300-byte text and a 2x3 f32 item. */
typedef struct {
    bx_bundle b;
    uint8_t text[300];
} good_bundle;

static int setup_good_bundle(void **state)
{
    good_bundle *g = malloc(sizeof *g);
    if (!g) return -1;
    for (size_t i = 0; i < sizeof g->text; i++) g->text[i] = (uint8_t)("lorem ipsum "[i % 12]);
    float x[6] = {1, -2, 3.5f, 0, 0.25f, -8};
    bx_begin(&g->b, "tiny");
    bx_add(&g->b, "text.txt", g->text, sizeof g->text, "bytes");
    bx_add(&g->b, "x.f32", x, sizeof x, "f32:2x3");
    bx_end(&g->b);
    *state = g;
    return 0;
}

static int teardown_good_bundle(void **state)
{
    good_bundle *g = *state;
    bx_remove(&g->b);
    free(g);
    return 0;
}

/* Path of a file inside the bundle directory. */
static void bundle_path(const good_bundle *g, const char *file, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", g->b.dir, file);
}

/* Opens a file inside the bundle directory (fopen mode), failing the test if it cannot. */
static FILE *open_in_bundle(const good_bundle *g, const char *file, const char *mode)
{
    char path[512];
    bundle_path(g, file, path, sizeof path);
    FILE *f = fopen(path, mode);
    assert_non_null(f);
    return f;
}

static void test_bundle_good(void **state)
{
    good_bundle *g = *state;
    alcm_bench_bundle *bundle = NULL;
    alcm_bench_error err;
    assert_int_equal(alcm_bench_bundle_load(g->b.root, "tiny", 0.01, &bundle, &err),
                     ALCM_BENCH_OK);
    assert_string_equal(bundle->name, "tiny");
    assert_int_equal(bundle->manifest->n_entries, 2);
    assert_int_equal(bundle->total_bytes, sizeof g->text + 24);
    assert_memory_equal(bundle->data[0], g->text, sizeof g->text);
    assert_true(bundle->manifest->entries[1].item.error_budget == 0.01);
    assert_true(bundle->manifest->entries[0].item.error_budget == 0);
    alcm_bench_bundle_free(bundle);
}

static void test_bundle_missing_file(void **state)
{
    good_bundle *g = *state;
    char path[512];
    bundle_path(g, "x.f32", path, sizeof path);
    assert_int_equal(unlink(path), 0);
    alcm_bench_bundle *bundle = NULL;
    alcm_bench_error err;
    assert_int_equal(alcm_bench_bundle_load(g->b.root, "tiny", 0.01, &bundle, &err),
                     ALCM_BENCH_E_MISSING);
    assert_null(bundle);
    assert_int_equal(err.status, ALCM_BENCH_E_MISSING);
    assert_non_null(strstr(err.message, "x.f32"));
    assert_non_null(strstr(err.message, "missing"));
}

static void test_bundle_wrong_sha(void **state)
{
    good_bundle *g = *state;
    /* Same size, one byte changed. */
    g->text[100] ^= 1;
    FILE *f = open_in_bundle(g, "text.txt", "wb");
    assert_int_equal(fwrite(g->text, 1, sizeof g->text, f), sizeof g->text);
    assert_int_equal(fclose(f), 0);
    alcm_bench_bundle *bundle = NULL;
    alcm_bench_error err;
    assert_int_equal(alcm_bench_bundle_load(g->b.root, "tiny", 0.01, &bundle, &err),
                     ALCM_BENCH_E_MISMATCH);
    assert_null(bundle);
    assert_non_null(strstr(err.message, "text.txt"));
    assert_non_null(strstr(err.message, "sha256"));
}

static void test_bundle_wrong_size(void **state)
{
    good_bundle *g = *state;
    FILE *f = open_in_bundle(g, "text.txt", "ab");
    fputc('!', f);
    assert_int_equal(fclose(f), 0);
    alcm_bench_bundle *bundle = NULL;
    alcm_bench_error err;
    assert_int_equal(alcm_bench_bundle_load(g->b.root, "tiny", 0.01, &bundle, &err),
                     ALCM_BENCH_E_MISMATCH);
    assert_non_null(strstr(err.message, "301 bytes"));
}

static void test_bundle_no_or_bad_manifest(void **state)
{
    good_bundle *g = *state;
    alcm_bench_bundle *bundle = NULL;
    alcm_bench_error err;
    assert_int_equal(alcm_bench_bundle_load(g->b.root, "absent", 0.01, &bundle, &err),
                     ALCM_BENCH_E_MANIFEST);
    assert_non_null(strstr(err.message, "make-bundles"));
    assert_int_equal(alcm_bench_bundle_load(g->b.root, "../tiny", 0.01, &bundle, &err),
                     ALCM_BENCH_E_ARG);
    assert_int_equal(alcm_bench_bundle_load(g->b.root, "tiny", 0, &bundle, &err),
                     ALCM_BENCH_E_ARG);
    FILE *f = open_in_bundle(g, ALCM_BENCH_MANIFEST_NAME, "w");
    fputs("not a manifest\n", f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(alcm_bench_bundle_load(g->b.root, "tiny", 0.01, &bundle, &err),
                     ALCM_BENCH_E_MANIFEST);
    assert_null(bundle);
    assert_non_null(strstr(err.message, ALCM_BENCH_MANIFEST_NAME));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256_known_vector),
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test_setup_teardown(test_bundle_good, setup_good_bundle,
                                        teardown_good_bundle),
        cmocka_unit_test_setup_teardown(test_bundle_missing_file, setup_good_bundle,
                                        teardown_good_bundle),
        cmocka_unit_test_setup_teardown(test_bundle_wrong_sha, setup_good_bundle,
                                        teardown_good_bundle),
        cmocka_unit_test_setup_teardown(test_bundle_wrong_size, setup_good_bundle,
                                        teardown_good_bundle),
        cmocka_unit_test_setup_teardown(test_bundle_no_or_bad_manifest, setup_good_bundle,
                                        teardown_good_bundle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
