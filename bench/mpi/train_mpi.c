/* train_mpi.c - data-parallel Fashion-MNIST MLP trainer: one gradient allreduce per step. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "alcm_mpi.h"
#include "fmnist.h"

#define MAX_EPOCHS 64

typedef enum { MODE_PLAIN, MODE_EXPLICIT } train_mode;

typedef struct {
    train_mode mode;
    const char *data_dir;
    uint32_t epochs, batch;         /* batch: global, split evenly across ranks */
    uint32_t train_limit, test_limit;
    float lr, momentum;
    double lr_final;                /* learning-rate multiplier reached at the last step */
    uint64_t seed;
    uint32_t check_every;           /* parameter equality check period in steps; 0 = never */
    double min_accuracy;            /* exit 1 below this final accuracy (0 = no check) */
    const char *json;
    const char *label;
    alcm_mpi_options opts;          /* explicit mode */
} train_args;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: alcm_mpi_train [--mode plain|explicit] [--epochs N] [--batch GLOBAL]\n"
            "         [--lr F] [--lr-final F] [--momentum F] [--seed N] [--train-limit N]\n"
            "         [--test-limit N]\n"
            "         [--budget F] [--aggressiveness F] [--prune F] [--adaptive 0|1]\n"
            "         [--error-feedback 0|1] [--check-every N] [--min-accuracy F]\n"
            "         [--data DIR] [--json PATH] [--label TEXT]\n"
            "plain: gradients averaged with MPI_Allreduce (compressed when libalcm_mpi.so is\n"
            "preloaded); explicit: with alcm_mpi_allreduce and the options given here.\n"
            "--lr-final: the learning rate decays linearly from lr to lr * F over the run\n"
            "(applied as a scale of the averaged gradient, after the allreduce).\n");
}

static int parse_u32(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || s[0] == '-' || v > 0xffffffffUL) return -1;
    *out = (uint32_t)v;
    return 0;
}

static int parse_f(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (*end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, train_args *a)
{
    memset(a, 0, sizeof *a);
    a->mode = MODE_PLAIN;
    a->data_dir = ALCM_FMNIST_DEFAULT_DIR;
    a->epochs = 3;
    a->batch = 64;
    a->lr = 0.05f;
    a->momentum = 0.9f;
    a->lr_final = 1.0;
    a->seed = 1;
    a->label = "";
    alcm_mpi_options_preset(&a->opts, ALCM_MPI_TRAINING);
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--profile") != 0) continue;
        if (!strcmp(argv[i + 1], "safe")) alcm_mpi_options_preset(&a->opts, ALCM_MPI_SAFE);
        else if (strcmp(argv[i + 1], "training") != 0) return -1;
    }
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double d;
        uint32_t u;
        if (!strcmp(k, "--help") || !strcmp(k, "-h")) {
            usage(stdout);
            exit(0);
        }
        if (!v) return -1;
        i++;
        if (!strcmp(k, "--mode")) {
            if (!strcmp(v, "plain")) a->mode = MODE_PLAIN;
            else if (!strcmp(v, "explicit")) a->mode = MODE_EXPLICIT;
            else return -1;
        } else if (!strcmp(k, "--epochs")) {
            if (parse_u32(v, &a->epochs) || a->epochs < 1 || a->epochs > MAX_EPOCHS) return -1;
        } else if (!strcmp(k, "--batch")) {
            if (parse_u32(v, &a->batch) || a->batch < 1) return -1;
        } else if (!strcmp(k, "--train-limit")) {
            if (parse_u32(v, &a->train_limit)) return -1;
        } else if (!strcmp(k, "--test-limit")) {
            if (parse_u32(v, &a->test_limit)) return -1;
        } else if (!strcmp(k, "--lr")) {
            if (parse_f(v, &d) || d <= 0) return -1;
            a->lr = (float)d;
        } else if (!strcmp(k, "--lr-final")) {
            if (parse_f(v, &a->lr_final) || a->lr_final <= 0 || a->lr_final > 1) return -1;
        } else if (!strcmp(k, "--momentum")) {
            if (parse_f(v, &d) || d < 0 || d >= 1) return -1;
            a->momentum = (float)d;
        } else if (!strcmp(k, "--seed")) {
            if (parse_u32(v, &u)) return -1;
            a->seed = u;
        } else if (!strcmp(k, "--profile")) {
            /* applied above, before the options that override it */
        } else if (!strcmp(k, "--path")) {
            if (!strcmp(v, "auto")) a->opts.path = ALCM_MPI_PATH_AUTO;
            else if (!strcmp(v, "plain")) a->opts.path = ALCM_MPI_PATH_PLAIN;
            else if (!strcmp(v, "allgather")) a->opts.path = ALCM_MPI_PATH_ALLGATHER;
            else if (!strcmp(v, "rsag")) a->opts.path = ALCM_MPI_PATH_RSAG;
            else return -1;
        } else if (!strcmp(k, "--budget")) {
            if (parse_f(v, &a->opts.error_budget)) return -1;
        } else if (!strcmp(k, "--aggressiveness")) {
            if (parse_f(v, &a->opts.aggressiveness)) return -1;
        } else if (!strcmp(k, "--prune")) {
            if (parse_f(v, &a->opts.prune_ratio)) return -1;
        } else if (!strcmp(k, "--adaptive")) {
            if (parse_u32(v, &u) || u > 1) return -1;
            a->opts.adaptive = (int)u;
        } else if (!strcmp(k, "--error-feedback")) {
            if (parse_u32(v, &u) || u > 1) return -1;
            a->opts.error_feedback = (int)u;
        } else if (!strcmp(k, "--check-every")) {
            if (parse_u32(v, &a->check_every)) return -1;
        } else if (!strcmp(k, "--min-accuracy")) {
            if (parse_f(v, &a->min_accuracy)) return -1;
        } else if (!strcmp(k, "--data")) {
            a->data_dir = v;
        } else if (!strcmp(k, "--json")) {
            a->json = v;
        } else if (!strcmp(k, "--label")) {
            a->label = v;
        } else {
            return -1;
        }
    }
    return alcm_mpi_options_check(&a->opts) == MPI_SUCCESS ? 0 : -1;
}

/* FNV-1a over the parameter bytes: equal on every rank iff the parameters are (w.h.p.). */
static uint64_t hash_bytes(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

/* 1 when every rank holds the same hash. */
static int all_equal(uint64_t h, uint64_t *scratch, int size)
{
    MPI_Allgather(&h, 1, MPI_UINT64_T, scratch, 1, MPI_UINT64_T, MPI_COMM_WORLD);
    for (int r = 1; r < size; r++)
        if (scratch[r] != scratch[0]) return 0;
    return 1;
}

typedef struct {
    double acc[MAX_EPOCHS], test_loss[MAX_EPOCHS], train_loss[MAX_EPOCHS];
    double epoch_seconds[MAX_EPOCHS];
    double allreduce_seconds;
    double train_seconds;
    uint64_t steps, raw_bytes;
    uint64_t checks, mismatches;
    uint64_t final_hash;
} train_result;

/* Test accuracy and loss over the test set, each rank evaluating a contiguous share. */
static int evaluate(alcm_fmnist_mlp *mlp, const float *tx, const uint8_t *ty, uint32_t n,
                    int rank, int size, double *acc, double *loss)
{
    uint32_t lo = (uint32_t)((uint64_t)n * rank / size);
    uint32_t hi = (uint32_t)((uint64_t)n * (rank + 1) / size);
    double a = 0, l = 0;
    if (hi > lo &&
        alcm_fmnist_mlp_evaluate(mlp, tx + (size_t)lo * ALCM_FMNIST_PIXELS, ty + lo, hi - lo,
                                 &l, &a) != ALCM_FMNIST_OK)
        return -1;
    double local[2] = {round(a * (hi - lo)), l * (hi - lo)}, sum[2];
    MPI_Allreduce(local, sum, 2, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    *acc = sum[0] / n;
    *loss = sum[1] / n;
    return 0;
}

static void write_json(const train_args *a, const train_result *r, int size, size_t n_params,
                       const alcm_mpi_stats *st)
{
    FILE *f = fopen(a->json, "w");
    if (!f) {
        fprintf(stderr, "alcm_mpi_train: cannot write %s: %s\n", a->json, strerror(errno));
        return;
    }
    fprintf(f, "{\n  \"label\": \"%s\",\n  \"mode\": \"%s\",\n", a->label,
            a->mode == MODE_PLAIN ? "plain" : "explicit");
    fprintf(f, "  \"ranks\": %d,\n  \"epochs\": %u,\n  \"global_batch\": %u,\n", size,
            a->epochs, a->batch);
    fprintf(f, "  \"lr\": %g,\n  \"lr_final\": %g,\n  \"momentum\": %g,\n  \"seed\": %llu,\n",
            a->lr, a->lr_final, a->momentum, (unsigned long long)a->seed);
    fprintf(f, "  \"params\": %zu,\n  \"steps\": %llu,\n", n_params,
            (unsigned long long)r->steps);
    if (a->mode == MODE_EXPLICIT)
        fprintf(f,
                "  \"error_budget\": %g,\n  \"aggressiveness\": %g,\n  \"prune_ratio\": %g,\n"
                "  \"adaptive\": %d,\n  \"error_feedback\": %d,\n",
                a->opts.error_budget, a->opts.aggressiveness, a->opts.prune_ratio,
                a->opts.adaptive, a->opts.error_feedback);
    const char *keys[3] = {"test_accuracy", "test_loss", "train_loss"};
    const double *vals[3] = {r->acc, r->test_loss, r->train_loss};
    for (int k = 0; k < 3; k++) {
        fprintf(f, "  \"%s\": [", keys[k]);
        for (uint32_t e = 0; e < a->epochs; e++)
            fprintf(f, "%s%.6f", e ? ", " : "", vals[k][e]);
        fprintf(f, "],\n");
    }
    fprintf(f, "  \"epoch_seconds\": [");
    for (uint32_t e = 0; e < a->epochs; e++)
        fprintf(f, "%s%.3f", e ? ", " : "", r->epoch_seconds[e]);
    fprintf(f, "],\n");
    fprintf(f, "  \"final_accuracy\": %.6f,\n", r->acc[a->epochs - 1]);
    fprintf(f, "  \"train_seconds\": %.3f,\n  \"allreduce_seconds\": %.3f,\n", r->train_seconds,
            r->allreduce_seconds);
    fprintf(f, "  \"gradient_raw_bytes_per_rank\": %llu,\n", (unsigned long long)r->raw_bytes);
    fprintf(f, "  \"gradient_sent_bytes_per_rank\": %llu,\n",
            (unsigned long long)(st->intercepted ? st->sent_bytes : r->raw_bytes));
    /* What each rank put on and took off the network for the gradients: the hook's
     * figures when it ran, else a ring allreduce's 2 (p-1)/p of the raw bytes. */
    unsigned long long ring = (unsigned long long)(2.0 * (size - 1) / size * (double)r->raw_bytes);
    fprintf(f, "  \"wire_sent_bytes_per_rank\": %llu,\n  \"wire_recv_bytes_per_rank\": %llu,\n",
            st->intercepted ? (unsigned long long)st->wire_sent_bytes : ring,
            st->intercepted ? (unsigned long long)st->wire_recv_bytes : ring);
    fprintf(f, "  \"hook_segments\": {\"plain\": %llu, \"allgather\": %llu, \"rsag\": %llu},\n",
            (unsigned long long)st->path_segments[0], (unsigned long long)st->path_segments[1],
            (unsigned long long)st->path_segments[2]);
    fprintf(f, "  \"hook_seconds\": %.3f,\n  \"hook_codec_seconds\": %.3f,\n", st->seconds,
            st->codec_seconds);
    fprintf(f, "  \"param_checks\": %llu,\n  \"param_mismatches\": %llu,\n",
            (unsigned long long)r->checks, (unsigned long long)r->mismatches);
    fprintf(f, "  \"param_hash\": \"%016llx\"\n}\n", (unsigned long long)r->final_hash);
    fclose(f);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);

    train_args a;
    if (parse_args(argc, argv, &a) != 0) {
        if (rank == 0) usage(stderr);
        MPI_Finalize();
        return 2;
    }
    if (a.batch % (uint32_t)size) {
        if (rank == 0)
            fprintf(stderr, "alcm_mpi_train: --batch %u is not a multiple of %d ranks\n",
                    a.batch, size);
        MPI_Finalize();
        return 2;
    }

    alcm_fmnist_set train, test;
    char msg[256];
    alcm_fmnist_status fs = alcm_fmnist_load(a.data_dir, "train", &train, msg, sizeof msg);
    if (fs == ALCM_FMNIST_OK) fs = alcm_fmnist_load(a.data_dir, "t10k", &test, msg, sizeof msg);
    if (fs != ALCM_FMNIST_OK) {
        fprintf(stderr, "alcm_mpi_train: %s\n", msg);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    uint32_t n_train = a.train_limit && a.train_limit < train.count ? a.train_limit : train.count;
    uint32_t n_test = a.test_limit && a.test_limit < test.count ? a.test_limit : test.count;

    alcm_fmnist_mlp_config mc;
    alcm_fmnist_mlp_config_default(&mc);
    mc.learning_rate = a.lr;
    mc.momentum = a.momentum;
    mc.seed = a.seed;
    alcm_fmnist_mlp *mlp = alcm_fmnist_mlp_create(&mc);
    const uint32_t local_batch = a.batch / (uint32_t)size;
    size_t n_params = mlp ? alcm_fmnist_mlp_param_count(mlp) : 0;
    float *grad = malloc(n_params * sizeof *grad);
    float *sum = malloc(n_params * sizeof *sum);
    float *bx = malloc((size_t)local_batch * ALCM_FMNIST_PIXELS * sizeof *bx);
    uint8_t *by = malloc(local_batch);
    float *tx = malloc((size_t)n_test * ALCM_FMNIST_PIXELS * sizeof *tx);
    uint8_t *ty = malloc(n_test);
    uint32_t *perm = malloc((size_t)train.count * sizeof *perm);
    uint32_t *tidx = malloc((size_t)n_test * sizeof *tidx);
    uint64_t *hashes = malloc((size_t)size * sizeof *hashes);
    if (!mlp || !grad || !sum || !bx || !by || !tx || !ty || !perm || !tidx || !hashes) {
        fprintf(stderr, "alcm_mpi_train: out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    for (uint32_t i = 0; i < n_test; i++) tidx[i] = i;
    alcm_fmnist_gather(&test, tidx, n_test, tx, ty);

    train_result r;
    memset(&r, 0, sizeof r);
    const uint32_t steps_per_epoch = n_train / a.batch;
    alcm_rng rng;
    alcm_rng_seed(&rng, a.seed ^ 0x5eedda7aull);
    MPI_Barrier(MPI_COMM_WORLD);
    double t_start = MPI_Wtime();
    int ok = 1;
    for (uint32_t e = 0; e < a.epochs && ok; e++) {
        double t_epoch = MPI_Wtime();
        /* Same permutation on every rank; rank r takes its slice of each global batch. */
        alcm_fmnist_shuffle(&rng, perm, train.count);
        double loss_sum = 0;
        for (uint32_t s = 0; s < steps_per_epoch && ok; s++) {
            const uint32_t *items = perm + (size_t)s * a.batch + (size_t)rank * local_batch;
            double loss = 0;
            if (alcm_fmnist_gather(&train, items, local_batch, bx, by) != ALCM_FMNIST_OK ||
                alcm_fmnist_mlp_backward(mlp, bx, by, local_batch, grad, &loss) !=
                    ALCM_FMNIST_OK) {
                fprintf(stderr, "alcm_mpi_train: backward failed\n");
                MPI_Abort(MPI_COMM_WORLD, 2);
            }
            loss_sum += loss;
            double t0 = MPI_Wtime();
            int rc = a.mode == MODE_PLAIN
                         ? MPI_Allreduce(grad, sum, (int)n_params, MPI_FLOAT, MPI_SUM,
                                         MPI_COMM_WORLD)
                         : alcm_mpi_allreduce(grad, sum, (int)n_params, MPI_FLOAT, MPI_SUM,
                                              MPI_COMM_WORLD, &a.opts);
            r.allreduce_seconds += MPI_Wtime() - t0;
            if (rc != MPI_SUCCESS) {
                fprintf(stderr, "alcm_mpi_train: allreduce failed (%d)\n", rc);
                MPI_Abort(MPI_COMM_WORLD, 2);
            }
            /* Mean over the ranks, times the learning-rate schedule's factor. */
            const uint64_t total_steps = (uint64_t)steps_per_epoch * a.epochs;
            const double progress =
                total_steps > 1 ? (double)r.steps / (double)(total_steps - 1) : 0;
            const float scale = (float)((1.0 + (a.lr_final - 1.0) * progress) / size);
            for (size_t i = 0; i < n_params; i++) sum[i] *= scale;
            alcm_fmnist_mlp_apply(mlp, sum);
            r.steps++;
            r.raw_bytes += (uint64_t)n_params * sizeof(float);
            if (a.check_every && r.steps % a.check_every == 0) {
                r.checks++;
                if (!all_equal(hash_bytes(alcm_fmnist_mlp_params(mlp), n_params * 4), hashes,
                               size))
                    r.mismatches++;
            }
        }
        double local_loss = loss_sum / (steps_per_epoch ? steps_per_epoch : 1), mean_loss;
        MPI_Allreduce(&local_loss, &mean_loss, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        r.train_loss[e] = mean_loss / size;
        r.epoch_seconds[e] = MPI_Wtime() - t_epoch;
        if (evaluate(mlp, tx, ty, n_test, rank, size, &r.acc[e], &r.test_loss[e]) != 0) ok = 0;
        if (rank == 0) {
            printf("epoch %u: train_loss %.4f test_loss %.4f test_accuracy %.4f (%.1f s)\n",
                   e + 1, r.train_loss[e], r.test_loss[e], r.acc[e], r.epoch_seconds[e]);
            fflush(stdout);
        }
    }
    r.train_seconds = MPI_Wtime() - t_start;
    r.final_hash = hash_bytes(alcm_fmnist_mlp_params(mlp), n_params * 4);
    int identical = all_equal(r.final_hash, hashes, size);
    double ar_max;
    MPI_Allreduce(&r.allreduce_seconds, &ar_max, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    r.allreduce_seconds = ar_max;

    alcm_mpi_stats st;
    alcm_mpi_get_stats(&st);
    double final_acc = r.acc[a.epochs - 1];
    if (rank == 0) {
        printf("final: test_accuracy %.4f steps %llu params %zu identical %s checks %llu "
               "mismatches %llu hash %016llx train_s %.2f allreduce_s %.2f\n",
               final_acc, (unsigned long long)r.steps, n_params, identical ? "yes" : "no",
               (unsigned long long)r.checks, (unsigned long long)r.mismatches,
               (unsigned long long)r.final_hash, r.train_seconds, r.allreduce_seconds);
        if (a.mode == MODE_EXPLICIT)
            printf("bytes: raw %llu sent %llu reduction %.2fx last_error %.3f last_bits %.3f\n",
                   (unsigned long long)st.raw_bytes, (unsigned long long)st.sent_bytes,
                   st.sent_bytes ? (double)st.raw_bytes / (double)st.sent_bytes : 0.0,
                   st.last_rel_l2_error, st.last_mean_bits);
        if (a.json) write_json(&a, &r, size, n_params, &st);
    }
    int status = ok && identical && r.mismatches == 0 ? 0 : 1;
    if (a.min_accuracy > 0 && final_acc < a.min_accuracy) {
        if (rank == 0)
            fprintf(stderr, "alcm_mpi_train: final accuracy %.4f below %.4f\n", final_acc,
                    a.min_accuracy);
        status = 1;
    }
    if (!identical && rank == 0)
        fprintf(stderr, "alcm_mpi_train: parameters differ across ranks\n");

    alcm_fmnist_mlp_free(mlp);
    alcm_fmnist_set_free(&train);
    alcm_fmnist_set_free(&test);
    free(grad);
    free(sum);
    free(bx);
    free(by);
    free(tx);
    free(ty);
    free(perm);
    free(tidx);
    free(hashes);
    MPI_Finalize();
    return status;
}
