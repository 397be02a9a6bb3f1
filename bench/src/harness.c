/* harness.c - runs codecs over a loaded bundle: timed compress and decompress of every item,
 * verification of every blob, and the per-run figures reduced to means and CVs. */
#include <math.h>
#include <nettle/sha2.h>
#include <stdlib.h>
#include <string.h>

#include "alcm_tools.h"
#include "bench_internal.h"

#define MAX_RUNS 1000u
#define MAX_REPEATS 100u

void alcm_bench_config_default(alcm_bench_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->runs = 5;
    cfg->repeats = 1;
    cfg->warmup_runs = 1;
}

/* What one pass (one codec over the whole bundle) measured. */
typedef struct {
    double compress_cpu, decompress_cpu;
    uint64_t blob_bytes;
    double err_num, err_den, max_item_err;
    uint8_t digest[SHA256_DIGEST_SIZE];   /* of every blob, in item order */
} pass_result;

typedef struct {
    uint8_t *dst;
    size_t dst_cap;
    uint8_t *out;
    size_t out_cap;
} scratch;

static const char *codec_msg(alcm_codec *c, int code)
{
    const char *m = c->describe_error ? c->describe_error(c, code) : NULL;
    return m ? m : "no description";
}

/* Checks a lossy codec's decoding of an f32 item: finite values bit-exact where the input
 * is not finite, relative L2 error within the budget. Adds to the error sums. */
static alcm_bench_status check_f32(const alcm_codec *c, const alcm_bench_entry *e,
                                   const uint8_t *src, const uint8_t *dec, unsigned run,
                                   pass_result *pr, alcm_bench_error *err)
{
    size_t n = (size_t)(e->size / 4);
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        float a, b;
        memcpy(&a, src + 4 * i, 4);
        memcpy(&b, dec + 4 * i, 4);
        if (!isfinite(a)) {
            if (memcmp(src + 4 * i, dec + 4 * i, 4) != 0)
                return bench_fail(err, ALCM_BENCH_E_VERIFY,
                                  "codec %s, %s, run %u: non-finite input element %zu was not "
                                  "kept exactly", c->name, e->file, run, i);
            continue;
        }
        if (!isfinite(b))
            return bench_fail(err, ALCM_BENCH_E_VERIFY,
                              "codec %s, %s, run %u: element %zu decodes to a non-finite value",
                              c->name, e->file, run, i);
        double d = (double)a - (double)b;
        num += d * d;
        den += (double)a * (double)a;
    }
    double rel = den > 0 ? sqrt(num / den) : (num > 0 ? INFINITY : 0);
    /* The encoder checks the budget in its own arithmetic; allow rounding in the last digits. */
    if (!(rel <= e->item.error_budget * (1 + 1e-9)))
        return bench_fail(err, ALCM_BENCH_E_VERIFY,
                          "codec %s, %s, run %u: relative L2 error %.6g exceeds the error "
                          "budget %.6g", c->name, e->file, run, rel, e->item.error_budget);
    pr->err_num += num;
    pr->err_den += den;
    if (rel > pr->max_item_err) pr->max_item_err = rel;
    return ALCM_BENCH_OK;
}

static alcm_bench_status run_pass(const alcm_bench_bundle *b, alcm_codec *c, scratch *s,
                                  unsigned run, pass_result *pr, alcm_bench_error *err)
{
    struct sha256_ctx hash;
    sha256_init(&hash);
    memset(pr, 0, sizeof *pr);
    const alcm_bench_manifest *m = b->manifest;
    for (size_t i = 0; i < m->n_entries; i++) {
        const alcm_bench_entry *e = &m->entries[i];
        const uint8_t *src = b->data[i];
        size_t n = (size_t)e->size;
        size_t blen = 0, olen = 0;

        double t0 = alcm_thread_cpu_seconds();
        int rc = c->compress(c, &e->item, src, n, s->dst, s->dst_cap, &blen);
        double t1 = alcm_thread_cpu_seconds();
        if (rc != 0)
            return bench_fail(err, ALCM_BENCH_E_CODEC,
                              "codec %s failed to compress %s/%s (run %u): %s (code %d)",
                              c->name, b->name, e->file, run, codec_msg(c, rc), rc);
        if (blen > s->dst_cap)
            return bench_fail(err, ALCM_BENCH_E_CODEC,
                              "codec %s reported a %zu-byte blob for %s/%s, above its bound %zu",
                              c->name, blen, b->name, e->file, s->dst_cap);
        pr->compress_cpu += t1 - t0;
        pr->blob_bytes += blen;
        uint8_t len_le[8];
        for (int k = 0; k < 8; k++) len_le[k] = (uint8_t)((uint64_t)blen >> (8 * k));
        sha256_update(&hash, sizeof len_le, len_le);
        sha256_update(&hash, blen, s->dst);

        /* Poison the output so a decoder that writes nothing cannot pass. */
        if (n) memset(s->out, (uint8_t)~src[0], n);
        double t2 = alcm_thread_cpu_seconds();
        rc = c->decompress(c, &e->item, s->dst, blen, s->out, n, &olen);
        double t3 = alcm_thread_cpu_seconds();
        if (rc != 0)
            return bench_fail(err, ALCM_BENCH_E_CODEC,
                              "codec %s failed to decompress its own blob of %s/%s (run %u): "
                              "%s (code %d)", c->name, b->name, e->file, run, codec_msg(c, rc),
                              rc);
        pr->decompress_cpu += t3 - t2;
        if (olen != n)
            return bench_fail(err, ALCM_BENCH_E_VERIFY,
                              "codec %s, %s/%s, run %u: decoded %zu bytes, the input has %zu",
                              c->name, b->name, e->file, run, olen, n);
        if (c->lossless || e->item.type != ALCM_CODEC_ITEM_F32) {
            if (n && memcmp(src, s->out, n) != 0) {
                size_t k = 0;
                while (src[k] == s->out[k]) k++;
                return bench_fail(err, ALCM_BENCH_E_VERIFY,
                                  "codec %s, %s/%s, run %u: decoded bytes differ from the "
                                  "input at offset %zu (%s)", c->name, b->name, e->file, run,
                                  k, c->lossless ? "codec declares itself lossless"
                                                 : "bytes items must round-trip exactly");
            }
        } else {
            alcm_bench_status st = check_f32(c, e, src, s->out, run, pr, err);
            if (st != ALCM_BENCH_OK) return st;
        }
    }
    sha256_digest(&hash, sizeof pr->digest, pr->digest);
    return ALCM_BENCH_OK;
}

/* One output and one decode buffer, large enough for every codec and item. */
static alcm_bench_status scratch_alloc(const alcm_bench_bundle *b, alcm_codec *const *codecs,
                                       size_t n_codecs, scratch *s, alcm_bench_error *err)
{
    size_t dcap = 1, ocap = 1;
    for (size_t i = 0; i < b->manifest->n_entries; i++) {
        const alcm_bench_entry *e = &b->manifest->entries[i];
        if (e->size > ocap) ocap = (size_t)e->size;
        for (size_t k = 0; k < n_codecs; k++) {
            size_t bound = codecs[k]->bound(codecs[k], &e->item, (size_t)e->size);
            if (bound > dcap) dcap = bound;
        }
    }
    s->dst = malloc(dcap);
    s->out = malloc(ocap);
    s->dst_cap = dcap;
    s->out_cap = ocap;
    if (!s->dst || !s->out)
        return bench_fail(err, ALCM_BENCH_E_NOMEM, "cannot allocate %zu + %zu bytes of buffers",
                          dcap, ocap);
    return ALCM_BENCH_OK;
}

/* Per codec, per run figures. */
typedef struct {
    double *ratio, *cpu, *caq, *dcpu;
    uint64_t first_blob_bytes;
    double rel_err, max_item_err;
    int deterministic;
    uint8_t digest[SHA256_DIGEST_SIZE];
    int have_digest;
    double best_c, best_d;   /* the current run's smallest compress / decompress CPU time */
} series;

static void reduce(const alcm_bench_bundle *b, const alcm_codec *c, const series *s,
                   uint32_t runs, alcm_bench_result *r)
{
    memset(r, 0, sizeof *r);
    bench_copy(r->bundle, sizeof r->bundle, b->name);
    bench_copy(r->codec, sizeof r->codec, c->name);
    r->adaptive = c->adaptive;
    r->lossless = c->lossless;
    r->verified = 1;
    r->deterministic = s->deterministic;
    r->runs = runs;
    r->raw_bytes = b->total_bytes;
    r->compressed_bytes = s->first_blob_bytes;
    double dcpu, dcv;
    bench_mean_cv(s->ratio, runs, &r->ratio, &r->ratio_cv);
    bench_mean_cv(s->cpu, runs, &r->cpu_seconds, &r->cpu_cv);
    bench_mean_cv(s->caq, runs, &r->caq, &r->caq_cv);
    bench_mean_cv(s->dcpu, runs, &dcpu, &dcv);
    double mb = (double)b->total_bytes / 1e6;
    /* A pass always takes some CPU time; the floor only guards against a zero reading. */
    r->compress_mb_s = mb / (r->cpu_seconds > 1e-9 ? r->cpu_seconds : 1e-9);
    r->decompress_mb_s = mb / (dcpu > 1e-9 ? dcpu : 1e-9);
    r->rel_l2_error = s->rel_err;
    r->max_item_rel_l2_error = s->max_item_err;
    r->n_cpu_runs = runs < ALCM_BENCH_KEPT_RUNS ? runs : ALCM_BENCH_KEPT_RUNS;
    for (uint32_t i = 0; i < r->n_cpu_runs; i++) r->cpu_runs[i] = s->cpu[i];
}

alcm_bench_status alcm_bench_run(const alcm_bench_bundle *bundle, alcm_codec *const *codecs,
                                 size_t n_codecs, const alcm_bench_config *cfg,
                                 alcm_bench_result *results, alcm_bench_error *err)
{
    if (!bundle || !codecs || !n_codecs || !cfg || !results)
        return bench_fail(err, ALCM_BENCH_E_ARG, "bench run: NULL or empty argument");
    if (cfg->runs == 0 || cfg->runs > MAX_RUNS || cfg->warmup_runs > MAX_RUNS ||
        cfg->repeats == 0 || cfg->repeats > MAX_REPEATS)
        return bench_fail(err, ALCM_BENCH_E_ARG,
                          "runs must be 1..%u, repeats 1..%u, warm-up runs 0..%u", MAX_RUNS,
                          MAX_REPEATS, MAX_RUNS);
    for (size_t k = 0; k < n_codecs; k++) {
        alcm_bench_status st = alcm_bench_codec_check(codecs[k], err);
        if (st != ALCM_BENCH_OK) return st;
        for (size_t j = 0; j < k; j++)
            if (!strcmp(codecs[j]->name, codecs[k]->name))
                return bench_fail(err, ALCM_BENCH_E_ARG, "codec %s is listed twice",
                                  codecs[k]->name);
    }
    uint32_t runs = cfg->runs, total_runs = cfg->warmup_runs + cfg->runs;
    series *ser = calloc(n_codecs, sizeof *ser);
    scratch scr = {0};
    alcm_bench_status st = ALCM_BENCH_OK;
    if (!ser) {
        st = bench_fail(err, ALCM_BENCH_E_NOMEM, "bench run: out of memory");
        goto done;
    }
    for (size_t k = 0; k < n_codecs; k++) {
        ser[k].ratio = calloc(runs, sizeof(double));
        ser[k].cpu = calloc(runs, sizeof(double));
        ser[k].caq = calloc(runs, sizeof(double));
        ser[k].dcpu = calloc(runs, sizeof(double));
        ser[k].deterministic = 1;
        if (!ser[k].ratio || !ser[k].cpu || !ser[k].caq || !ser[k].dcpu) {
            st = bench_fail(err, ALCM_BENCH_E_NOMEM, "bench run: out of memory");
            goto done;
        }
    }
    st = scratch_alloc(bundle, codecs, n_codecs, &scr, err);
    if (st != ALCM_BENCH_OK) goto done;
    uint32_t repeats = cfg->repeats;
    unsigned done_passes = 0;
    unsigned total_passes = (cfg->warmup_runs + runs * repeats) * (unsigned)n_codecs;
    for (uint32_t r = 0; r < total_runs; r++) {
        int timed = r >= cfg->warmup_runs;
        uint32_t ti = timed ? r - cfg->warmup_runs : 0;
        for (size_t k = 0; k < n_codecs; k++) ser[k].best_c = ser[k].best_d = INFINITY;
        /* A run's repeats are rounds in which every codec takes a turn, so a burst of
         * interference from other processes rarely hits all passes of one codec. */
        for (uint32_t rep = 0; rep < (timed ? repeats : 1); rep++) {
            for (size_t j = 0; j < n_codecs; j++) {
                /* Rotate the order each round so no codec always runs first or last. */
                size_t k = (j + r + rep) % n_codecs;
                alcm_codec *c = codecs[k];
                series *s = &ser[k];
                pass_result pr;
                st = run_pass(bundle, c, &scr, r + 1, &pr, err);
                if (st != ALCM_BENCH_OK) goto done;
                if (!s->have_digest) {
                    memcpy(s->digest, pr.digest, sizeof s->digest);
                    s->have_digest = 1;
                } else if (memcmp(s->digest, pr.digest, sizeof s->digest) != 0) {
                    s->deterministic = 0;
                }
                if (timed) {
                    if (pr.compress_cpu < s->best_c) s->best_c = pr.compress_cpu;
                    if (pr.decompress_cpu < s->best_d) s->best_d = pr.decompress_cpu;
                    if (ti == 0 && rep == 0) s->first_blob_bytes = pr.blob_bytes;
                    s->ratio[ti] = pr.blob_bytes
                                       ? (double)bundle->total_bytes / (double)pr.blob_bytes
                                       : 0;
                    double rel = pr.err_den > 0 ? sqrt(pr.err_num / pr.err_den) : 0;
                    if (rel > s->rel_err) s->rel_err = rel;
                    if (pr.max_item_err > s->max_item_err) s->max_item_err = pr.max_item_err;
                }
                done_passes++;
                if (cfg->progress)
                    cfg->progress(cfg->progress_user, done_passes, total_passes, bundle->name,
                                  c->name);
            }
        }
        if (timed)
            for (size_t k = 0; k < n_codecs; k++) {
                series *s = &ser[k];
                s->cpu[ti] = s->best_c;
                s->caq[ti] = s->ratio[ti] / (s->best_c + 1);
                s->dcpu[ti] = s->best_d;
            }
    }
    for (size_t k = 0; k < n_codecs; k++) reduce(bundle, codecs[k], &ser[k], runs, &results[k]);
    for (size_t k = 0; k < n_codecs; k++) {
        if (strcmp(codecs[k]->name, "baseline") != 0) continue;
        double base = results[k].caq;
        for (size_t j = 0; j < n_codecs; j++)
            results[j].delta_vs_baseline_pct = base > 0 ? 100.0 * (results[j].caq / base - 1) : 0;
    }
    bench_ok(err);
done:
    if (ser)
        for (size_t k = 0; k < n_codecs; k++) {
            free(ser[k].ratio);
            free(ser[k].cpu);
            free(ser[k].caq);
            free(ser[k].dcpu);
        }
    free(scr.dst);
    free(scr.out);
    free(ser);
    return st;
}
