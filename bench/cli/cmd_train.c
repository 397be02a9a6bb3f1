/* cmd_train.c - `alcm-bench train`: builds the predictor corpus, trains the entropy predictor
 * offline and writes its weights as C source (core/src/predictor_weights.c). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "alcm_tools.h"
#include "bench_cli.h"
#include "fmnist.h"
#include "train_corpus.h"

/* The held-out MSE the trained predictor must reach. */
#define MAX_HOLDOUT_LOSS 0.01

static void usage(FILE *f)
{
    fprintf(f,
            "usage: alcm-bench train [options]\n"
            "\n"
            "Builds the predictor corpus (synthetic tensor families plus the weights and\n"
            "gradients of a small MLP trained on Fashion-MNIST), computes the six features and\n"
            "the measured entropy of every channel, trains the 6-64-1 entropy predictor and\n"
            "prints the loss per epoch and on the held-out set (which must be below %g).\n"
            "With --out, writes the weights as C source; `alcm-bench train --out\n"
            "core/src/predictor_weights.c` regenerates the committed file bit for bit.\n"
            "\n"
            "  --epochs N        training epochs (default 10)\n"
            "  --seed S          training seed (default 42)\n"
            "  --lr X            Adam learning rate (default 0.001)\n"
            "  --out FILE        write the weights as C source to FILE ('-' for stdout)\n"
            "  --json FILE       write corpus and training figures as JSON to FILE\n"
            "  --data DIR        Fashion-MNIST directory (default %s)\n"
            "  --synthetic-only  corpus without Fashion-MNIST tensors\n"
            "  -h, --help        this help\n",
            MAX_HOLDOUT_LOSS, ALCM_FMNIST_DEFAULT_DIR);
}

/* Appends printf output to a growing buffer; returns -1 when out of memory. */
typedef struct {
    char *p;
    size_t len, cap;
} strbuf;

static int sb_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int sb_printf(strbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) return -1;
        if (b->p && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return 0;
        }
        size_t cap = b->cap ? b->cap : 4096;
        while (cap <= b->len + (size_t)n) cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) return -1;
        b->p = np;
        b->cap = cap;
    }
}

/* A float as an exact C literal (hex float, "f" suffix). */
static int sb_float(strbuf *b, float v)
{
    return sb_printf(b, "%af", (double)v);
}

static int emit_source(strbuf *b, const alcm_predictor *m, const alcm_train_config *cfg,
                       const train_corpus *c, const alcm_train_report *rep, int synthetic_only)
{
    int e = 0;
    e |= sb_printf(b, "/* predictor_weights.c - the entropy predictor's trained weights, "
                      "written by `alcm-bench train`. */\n");
    e |= sb_printf(b,
                   "/*\n"
                   " * Do not edit: regenerate with\n"
                   " *   alcm-bench train --out core/src/predictor_weights.c%s\n"
                   " * Corpus: %zu channels (%zu synthetic, %zu Fashion-MNIST MLP); seed %llu,\n"
                   " * %u epochs, batch %u, Adam learning rate %g; held-out MSE %.6f over %u\n"
                   " * channels. Floats are hex literals, exact.\n"
                   " */\n",
                   synthetic_only ? " --synthetic-only" : "", c->n,
                   c->n - c->n_real_weights - c->n_real_grads - c->n_real_blocks,
                   c->n_real_weights + c->n_real_grads + c->n_real_blocks,
                   (unsigned long long)cfg->seed, cfg->epochs, cfg->batch, cfg->learning_rate,
                   rep->holdout_loss, rep->n_holdout);
    e |= sb_printf(b, "#include \"alcm_tools.h\"\n#include \"predictor_default.h\"\n\n"
                      "static const alcm_predictor k_model = {\n");
    e |= sb_printf(b, "    .w1 = {\n");
    for (int h = 0; h < ALCM_HIDDEN; h++) {
        e |= sb_printf(b, "        {");
        for (int k = 0; k < ALCM_N_FEATURES; k++) {
            if (k == 3) e |= sb_printf(b, "\n         ");
            e |= sb_float(b, m->w1[h][k]);
            if (k + 1 < ALCM_N_FEATURES) e |= sb_printf(b, k == 2 ? "," : ", ");
        }
        e |= sb_printf(b, "},\n");
    }
    e |= sb_printf(b, "    },\n");
    const float *vecs[2] = {m->b1, m->w2};
    const char *names[2] = {"b1", "w2"};
    for (int v = 0; v < 2; v++) {
        e |= sb_printf(b, "    .%s = {", names[v]);
        for (int h = 0; h < ALCM_HIDDEN; h++) {
            if (h % 4 == 0) e |= sb_printf(b, "\n        ");
            e |= sb_float(b, vecs[v][h]);
            if (h + 1 < ALCM_HIDDEN) e |= sb_printf(b, (h % 4 == 3) ? "," : ", ");
        }
        e |= sb_printf(b, "\n    },\n");
    }
    e |= sb_printf(b, "    .b2 = ");
    e |= sb_float(b, m->b2);
    e |= sb_printf(b, ",\n};\n\nconst alcm_predictor *alcm_predictor_default(void)\n{\n"
                      "    return &k_model;\n}\n");
    /* The same first layer feature by feature, for the predictor's vector kernel. */
    e |= sb_printf(b, "\n/* w1 feature by feature: k_w1t[k][h] = w1[h][k]. */\n"
                      "static const float k_w1t[ALCM_N_FEATURES][ALCM_HIDDEN] = {\n");
    for (int k = 0; k < ALCM_N_FEATURES; k++) {
        e |= sb_printf(b, "    {");
        for (int h = 0; h < ALCM_HIDDEN; h++) {
            if (h % 4 == 0) e |= sb_printf(b, "\n        ");
            e |= sb_float(b, m->w1[h][k]);
            if (h + 1 < ALCM_HIDDEN) e |= sb_printf(b, (h % 4 == 3) ? "," : ", ");
        }
        e |= sb_printf(b, "\n    },\n");
    }
    e |= sb_printf(b, "};\n\nconst float (*alcm_predictor_default_w1t(void))[ALCM_HIDDEN]\n{\n"
                      "    return k_w1t;\n}\n");
    return e ? -1 : 0;
}

static int write_json(const char *path, const train_corpus *c, const alcm_train_config *cfg,
                      const alcm_train_report *rep, double corpus_s, double train_s,
                      int synthetic_only)
{
    cli_json j;
    if (cli_json_open(&j, path)) return -1;
    cli_json_begin_object(&j, NULL);
    cli_json_string(&j, "command", "train");
    cli_json_begin_object(&j, "corpus");
    cli_json_int(&j, "channels", (int64_t)c->n);
    cli_json_begin_object(&j, "synthetic_rows");
    for (int fam = 0; fam < ALCM_SYNTH_COUNT; fam++)
        cli_json_int(&j, alcm_synth_name((alcm_synth_family)fam), (int64_t)c->n_synth[fam]);
    cli_json_end_object(&j);
    cli_json_int(&j, "synthetic_blocks", (int64_t)c->n_synth_blocks);
    cli_json_bool(&j, "fashion_mnist", !synthetic_only);
    cli_json_int(&j, "mlp_weight_channels", (int64_t)c->n_real_weights);
    cli_json_int(&j, "mlp_gradient_channels", (int64_t)c->n_real_grads);
    cli_json_int(&j, "mlp_flat_blocks", (int64_t)c->n_real_blocks);
    cli_json_int(&j, "mlp_snapshots", c->real_snapshots);
    cli_json_number(&j, "mlp_accuracy", c->real_test_accuracy);
    cli_json_end_object(&j);
    cli_json_begin_object(&j, "training");
    cli_json_int(&j, "seed", (int64_t)cfg->seed);
    cli_json_int(&j, "epochs", cfg->epochs);
    cli_json_int(&j, "batch", cfg->batch);
    cli_json_number(&j, "learning_rate", cfg->learning_rate);
    cli_json_int(&j, "n_train", rep->n_train);
    cli_json_int(&j, "n_holdout", rep->n_holdout);
    cli_json_begin_array(&j, "train_loss");
    for (uint32_t e = 0; e < cfg->epochs && e < 64; e++)
        cli_json_number(&j, NULL, rep->train_loss[e]);
    cli_json_end_array(&j);
    cli_json_number(&j, "holdout_loss", rep->holdout_loss);
    cli_json_number(&j, "holdout_limit", MAX_HOLDOUT_LOSS);
    cli_json_end_object(&j);
    cli_json_begin_object(&j, "seconds");
    cli_json_number(&j, "corpus", corpus_s);
    cli_json_number(&j, "train", train_s);
    cli_json_end_object(&j);
    cli_json_end_object(&j);
    return cli_json_close(&j);
}

int cmd_train(int argc, char **argv)
{
    static const struct option opts[] = {
        {"epochs", required_argument, 0, 'e'},
        {"seed", required_argument, 0, 's'},
        {"lr", required_argument, 0, 'l'},
        {"out", required_argument, 0, 'o'},
        {"json", required_argument, 0, 'j'},
        {"data", required_argument, 0, 'd'},
        {"synthetic-only", no_argument, 0, 'S'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *cmd = "train";
    alcm_train_config cfg;
    alcm_train_config_default(&cfg);
    const char *out_path = NULL, *json_path = NULL, *data_dir = ALCM_FMNIST_DEFAULT_DIR;
    int synthetic_only = 0;
    uint64_t u;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'e':
            if (cli_opt_u64(cmd, "--epochs", optarg, 1, 100000, &u)) return 2;
            cfg.epochs = (uint32_t)u;
            break;
        case 's':
            if (cli_opt_u64(cmd, "--seed", optarg, 0, UINT64_MAX, &u)) return 2;
            cfg.seed = u;
            break;
        case 'l':
            if (cli_opt_double(cmd, "--lr", optarg, 0, 1, 1, &cfg.learning_rate)) return 2;
            break;
        case 'o': out_path = optarg; break;
        case 'j': json_path = optarg; break;
        case 'd': data_dir = optarg; break;
        case 'S': synthetic_only = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (cli_no_operands(cmd, optind, argc, argv)) {
        usage(stderr);
        return 2;
    }
    /* Progress goes to stderr when the weights go to stdout. */
    FILE *log = out_path && !strcmp(out_path, "-") ? stderr : stdout;

    double t0 = cli_wall_seconds();
    train_corpus c;
    train_corpus_init(&c);
    int rc = 1;
    strbuf src = {0};
    if (train_corpus_add_synthetic(&c)) {
        cli_error(cmd, "out of memory building the synthetic corpus");
        goto out;
    }
    if (!synthetic_only) {
        char msg[600];
        if (train_corpus_add_fmnist(&c, data_dir, msg, sizeof msg)) {
            cli_error(cmd, "cannot use Fashion-MNIST: %s", msg);
            cli_error(cmd, "install the Debian package dataset-fashion-mnist (files in %s), "
                           "pass --data DIR, or train on --synthetic-only",
                      ALCM_FMNIST_DEFAULT_DIR);
            goto out;
        }
    }
    double t1 = cli_wall_seconds();
    size_t n_real = c.n_real_weights + c.n_real_grads + c.n_real_blocks;
    fprintf(log, "corpus: %zu channels (%zu synthetic: ", c.n, c.n - n_real);
    for (int fam = 0; fam < ALCM_SYNTH_COUNT; fam++)
        fprintf(log, "%s %zu, ", alcm_synth_name((alcm_synth_family)fam), c.n_synth[fam]);
    fprintf(log, "blocks %zu; Fashion-MNIST MLP: %zu weight, %zu gradient, %zu flat-block "
                 "channels at %u steps",
            c.n_synth_blocks, c.n_real_weights, c.n_real_grads, c.n_real_blocks,
            c.real_snapshots);
    if (c.real_snapshots) fprintf(log, ", MLP accuracy %.3f", c.real_test_accuracy);
    fprintf(log, ") in %.2f s\n", t1 - t0);

    alcm_predictor model;
    alcm_train_report rep;
    alcm_status st = alcm_train(c.features, c.targets, c.n, &cfg, &model, &rep);
    double t2 = cli_wall_seconds();
    if (st != ALCM_OK) {
        cli_error(cmd, "training failed: %s", alcm_strerror(st));
        goto out;
    }
    for (uint32_t e = 0; e < cfg.epochs && e < 64; e++)
        fprintf(log, "epoch %2u  train MSE %.6f\n", e + 1, rep.train_loss[e]);
    fprintf(log, "held-out MSE %.6f on %u channels (train %u) in %.2f s; limit %g\n",
            rep.holdout_loss, rep.n_holdout, rep.n_train, t2 - t1, MAX_HOLDOUT_LOSS);
    if (json_path &&
        write_json(json_path, &c, &cfg, &rep, t1 - t0, t2 - t1, synthetic_only)) {
        cli_error(cmd, "cannot write '%s': %s", json_path, strerror(errno));
        goto out;
    }
    if (!(rep.holdout_loss < MAX_HOLDOUT_LOSS)) {
        cli_error(cmd, "held-out MSE %.6f is not below %g: weights not written",
                  rep.holdout_loss, MAX_HOLDOUT_LOSS);
        goto out;
    }
    if (out_path) {
        if (emit_source(&src, &model, &cfg, &c, &rep, synthetic_only)) {
            cli_error(cmd, "out of memory");
            goto out;
        }
        if (cli_write_file(out_path, src.p, src.len)) {
            cli_error(cmd, "cannot write '%s': %s", out_path, strerror(errno));
            goto out;
        }
        if (strcmp(out_path, "-")) fprintf(log, "wrote %s\n", out_path);
    }
    rc = 0;
out:
    free(src.p);
    train_corpus_free(&c);
    return rc;
}
