/* gen_grad_fmnist.c - writes the grad_fmnist bundle's tensors: real gradients and weights of
 * a 784-256-128-10 MLP trained on Fashion-MNIST (alcm_fmnist, SGD with momentum, batch 64,
 * seed 42), one file per layer tensor at fixed steps, and prints one manifest item line per
 * file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmnist.h"

#define BATCH 64

/* Steps (1-based, after which the gradient of that step is captured) and weight snapshots. */
static const unsigned k_grad_steps[] = {1, 10, 50, 100, 200, 400};
static const unsigned k_weight_steps[] = {200, 400};

static void usage(FILE *f)
{
    fprintf(f, "usage: alcm-gen-grad-fmnist OUTDIR [--data DIR] [--source TEXT]\n"
               "Trains the MLP on DIR/train-*-ubyte.gz (default %s) and writes gradient and\n"
               "weight tensors to OUTDIR, printing 'file<TAB>type<TAB>source' lines.\n",
               ALCM_FMNIST_DEFAULT_DIR);
}

/* Writes every tensor of buf (a flat parameter-layout buffer) as prefix_lL_{weight,bias}. */
static int write_tensors(const char *dir, const char *prefix, unsigned step,
                         const alcm_fmnist_mlp *mlp, const float *buf, const char *what,
                         const char *source)
{
    uint32_t nt = alcm_fmnist_mlp_tensor_count(mlp);
    for (uint32_t i = 0; i < nt; i++) {
        alcm_fmnist_mlp_tensor t;
        if (alcm_fmnist_mlp_tensor_info(mlp, i, &t) != ALCM_FMNIST_OK) return -1;
        char name[96], path[4096], type[64];
        snprintf(name, sizeof name, "%s_step%04u_l%u_%s.f32", prefix, step, (unsigned)t.layer,
                 t.is_bias ? "bias" : "weight");
        snprintf(path, sizeof path, "%s/%s", dir, name);
        size_t n = (size_t)t.rows * t.cols;
        if (t.is_bias) snprintf(type, sizeof type, "f32:%u", (unsigned)t.rows);
        else snprintf(type, sizeof type, "f32:%ux%u", (unsigned)t.rows, (unsigned)t.cols);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(buf + t.offset, sizeof(float), n, f) != n || fclose(f) != 0) {
            fprintf(stderr, "alcm-gen-grad-fmnist: cannot write %s: %s\n", path,
                    strerror(errno));
            return -1;
        }
        printf("%s\t%s\t%s; %s of layer %u %s after step %u\n", name, type, source, what,
               (unsigned)t.layer, t.is_bias ? "bias" : "weight", step);
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *out = NULL, *data = ALCM_FMNIST_DEFAULT_DIR;
    const char *tag = "dataset-fashion-mnist";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--data") && i + 1 < argc) data = argv[++i];
        else if (!strcmp(argv[i], "--source") && i + 1 < argc) tag = argv[++i];
        else if (argv[i][0] != '-' && !out) out = argv[i];
        else {
            usage(stderr);
            return 2;
        }
    }
    if (!out) {
        usage(stderr);
        return 2;
    }
    const uint32_t probe = 1;
    if (*(const uint8_t *)&probe != 1) {
        fprintf(stderr, "alcm-gen-grad-fmnist: big-endian hosts are not supported\n");
        return 1;
    }
    char msg[512];
    alcm_fmnist_set set;
    alcm_fmnist_status st = alcm_fmnist_load(data, "train", &set, msg, sizeof msg);
    if (st != ALCM_FMNIST_OK) {
        fprintf(stderr, "alcm-gen-grad-fmnist: %s\n", msg);
        return 1;
    }
    alcm_fmnist_mlp_config cfg;
    alcm_fmnist_mlp_config_default(&cfg);
    cfg.seed = 42;
    alcm_fmnist_mlp *mlp = alcm_fmnist_mlp_create(&cfg);
    size_t np = mlp ? alcm_fmnist_mlp_param_count(mlp) : 0;
    float *grad = malloc(np * sizeof *grad), *x = malloc((size_t)BATCH * 784 * sizeof *x);
    uint32_t *order = malloc((size_t)set.count * sizeof *order);
    uint8_t y[BATCH];
    int rc = 1;
    if (!mlp || !grad || !x || !order) {
        fprintf(stderr, "alcm-gen-grad-fmnist: out of memory\n");
        goto done;
    }
    char source[200];
    snprintf(source, sizeof source, "%s train split, alcm_fmnist MLP 784-256-128-10 seed 42, "
             "SGD lr %g momentum %g, batch %d", tag, (double)cfg.learning_rate,
             (double)cfg.momentum, BATCH);
    alcm_rng rng;
    alcm_rng_seed(&rng, 42);
    alcm_fmnist_shuffle(&rng, order, set.count);
    unsigned last = k_weight_steps[sizeof k_weight_steps / sizeof k_weight_steps[0] - 1];
    size_t pos = 0;
    for (unsigned step = 1; step <= last; step++) {
        if (pos + BATCH > set.count) {
            alcm_fmnist_shuffle(&rng, order, set.count);
            pos = 0;
        }
        if (alcm_fmnist_gather(&set, order + pos, BATCH, x, y) != ALCM_FMNIST_OK ||
            alcm_fmnist_mlp_backward(mlp, x, y, BATCH, grad, NULL) != ALCM_FMNIST_OK) {
            fprintf(stderr, "alcm-gen-grad-fmnist: training step %u failed\n", step);
            goto done;
        }
        pos += BATCH;
        for (size_t k = 0; k < sizeof k_grad_steps / sizeof k_grad_steps[0]; k++)
            if (k_grad_steps[k] == step &&
                write_tensors(out, "grad", step, mlp, grad, "gradient", source) != 0)
                goto done;
        alcm_fmnist_mlp_apply(mlp, grad);
        for (size_t k = 0; k < sizeof k_weight_steps / sizeof k_weight_steps[0]; k++)
            if (k_weight_steps[k] == step &&
                write_tensors(out, "weights", step, mlp, alcm_fmnist_mlp_params(mlp), "weights",
                              source) != 0)
                goto done;
    }
    rc = 0;
done:
    free(grad);
    free(x);
    free(order);
    alcm_fmnist_mlp_free(mlp);
    alcm_fmnist_set_free(&set);
    return rc;
}
