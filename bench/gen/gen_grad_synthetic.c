/* gen_grad_synthetic.c - writes the grad_synthetic bundle's tensors: the synthetic gradients
 * of the original experiment (alcm_synth_fill, ALCM_SYNTH_GRADIENT, one 100x100 tensor per
 * epoch from one generator seeded 42), and prints one manifest item line per file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alcm_tools.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: alcm-gen-grad-synthetic OUTDIR [--seed N] [--epochs N] [--rows N] "
               "[--cols N]\n"
               "Writes OUTDIR/grad_epochNN.f32 (float32 little-endian) and prints\n"
               "'file<TAB>type<TAB>source' lines for the bundle manifest.\n");
}

static int parse_u(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    errno = 0;
    if (!s || *s < '0' || *s > '9') return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v == 0 || v > max) return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    unsigned long long seed = 42, epochs = 10, rows = 100, cols = 100;
    const char *out = NULL;
    for (int i = 1; i < argc; i++) {
        unsigned long long *dst = NULL;
        if (!strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--seed")) dst = &seed;
        else if (!strcmp(argv[i], "--epochs")) dst = &epochs;
        else if (!strcmp(argv[i], "--rows")) dst = &rows;
        else if (!strcmp(argv[i], "--cols")) dst = &cols;
        else if (argv[i][0] == '-' || out) {
            usage(stderr);
            return 2;
        } else {
            out = argv[i];
            continue;
        }
        if (i + 1 >= argc || parse_u(argv[++i], 1ull << 24, dst) != 0) {
            fprintf(stderr, "alcm-gen-grad-synthetic: %s needs a positive integer\n", argv[i - 1]);
            return 2;
        }
    }
    if (!out || epochs > 999 || rows * cols > (1ull << 28)) {
        usage(stderr);
        return 2;
    }
    const uint32_t probe = 1;
    if (*(const uint8_t *)&probe != 1) {
        fprintf(stderr, "alcm-gen-grad-synthetic: bundles are little-endian; big-endian hosts "
                        "are not supported\n");
        return 1;
    }
    size_t n = (size_t)(rows * cols);
    float *x = malloc(n * sizeof *x);
    if (!x) {
        fprintf(stderr, "alcm-gen-grad-synthetic: out of memory\n");
        return 1;
    }
    alcm_rng rng;
    alcm_rng_seed(&rng, seed);
    for (unsigned long long e = 0; e < epochs; e++) {
        alcm_synth_fill(&rng, ALCM_SYNTH_GRADIENT, x, n, (size_t)cols);
        char name[64], path[4096];
        snprintf(name, sizeof name, "grad_epoch%02llu.f32", e);
        snprintf(path, sizeof path, "%s/%s", out, name);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(x, sizeof *x, n, f) != n || fclose(f) != 0) {
            fprintf(stderr, "alcm-gen-grad-synthetic: cannot write %s: %s\n", path,
                    strerror(errno));
            free(x);
            return 1;
        }
        printf("%s\tf32:%llux%llu\talcm_synth_fill(%s) seed=%llu epoch=%llu, libalcm %s\n", name,
               rows, cols, alcm_synth_name(ALCM_SYNTH_GRADIENT), seed, e, ALCM_VERSION_STRING);
    }
    free(x);
    return 0;
}
