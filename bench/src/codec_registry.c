/* codec_registry.c - built-in codecs by name and the checks every codec vtable must pass. */
#include <string.h>

#include "bench_internal.h"

static const char *const k_builtin[] = {
    "baseline", "alcm",     "alcm-lossless", "zstd-1", "zstd-3", "lz4",  "mock",
    "fp16",     "bf16",     "int8-zstd",     "global-q", "topk",  "zfp",  "planes-zstd",
    "planes-huff", NULL,
};

const char *const *alcm_bench_builtin_names(void)
{
    return k_builtin;
}

alcm_bench_status alcm_bench_codec_create(const char *name, alcm_codec **out,
                                          alcm_bench_error *err)
{
    if (!name || !out) return bench_fail(err, ALCM_BENCH_E_ARG, "codec: NULL argument");
    *out = NULL;
    alcm_codec *c;
    if (!strcmp(name, "baseline")) c = bench_codec_baseline();
    else if (!strcmp(name, "alcm")) c = bench_codec_alcm(0);
    else if (!strcmp(name, "alcm-lossless")) c = bench_codec_alcm(1);
    else if (!strcmp(name, "zstd-1")) c = bench_codec_zstd(1);
    else if (!strcmp(name, "zstd-3")) c = bench_codec_zstd(3);
    else if (!strcmp(name, "lz4")) c = bench_codec_lz4();
    else if (!strcmp(name, "mock")) c = bench_codec_mock();
    else if (!strcmp(name, "zfp")) c = bench_codec_zfp();
    else if (!strcmp(name, "planes-zstd")) c = bench_codec_planes(0);
    else if (!strcmp(name, "planes-huff")) c = bench_codec_planes(1);
    else if (!strcmp(name, "fp16") || !strcmp(name, "bf16") || !strcmp(name, "int8-zstd") ||
             !strcmp(name, "global-q") || !strcmp(name, "topk"))
        c = bench_codec_peer(name);
    else
        return bench_fail(err, ALCM_BENCH_E_UNKNOWN,
                          "unknown codec '%s' (built in: baseline, alcm, alcm-lossless, "
                          "zstd-1, zstd-3, lz4, mock, fp16, bf16, int8-zstd, global-q, topk, "
                          "zfp, planes-zstd, planes-huff; others load with --codec-plugin)", name);
    if (!c) return bench_fail(err, ALCM_BENCH_E_NOMEM, "codec %s: out of memory", name);
    *out = c;
    bench_ok(err);
    return ALCM_BENCH_OK;
}

void alcm_bench_codec_free(alcm_codec *codec)
{
    if (codec && codec->free) codec->free(codec);
}

alcm_bench_status alcm_bench_codec_check(const alcm_codec *c, alcm_bench_error *err)
{
    if (!c) return bench_fail(err, ALCM_BENCH_E_PLUGIN, "codec is NULL");
    if (c->abi_version != ALCM_CODEC_ABI_VERSION)
        return bench_fail(err, ALCM_BENCH_E_PLUGIN,
                          "codec reports ABI version %u, this harness speaks %u",
                          (unsigned)c->abi_version, (unsigned)ALCM_CODEC_ABI_VERSION);
    if (!c->name) return bench_fail(err, ALCM_BENCH_E_PLUGIN, "codec has no name");
    size_t n = strnlen(c->name, ALCM_CODEC_NAME_MAX + 1);
    if (n == 0 || n > ALCM_CODEC_NAME_MAX)
        return bench_fail(err, ALCM_BENCH_E_PLUGIN, "codec name must be 1-%d characters",
                          ALCM_CODEC_NAME_MAX);
    for (size_t i = 0; i < n; i++) {
        char ch = c->name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
              ch == '-'))
            return bench_fail(err, ALCM_BENCH_E_PLUGIN,
                              "codec name '%.40s' may use only [a-z0-9._-]", c->name);
    }
    if ((c->adaptive != 0 && c->adaptive != 1) || (c->lossless != 0 && c->lossless != 1))
        return bench_fail(err, ALCM_BENCH_E_PLUGIN,
                          "codec %s: adaptive and lossless flags must be 0 or 1", c->name);
    if (!c->bound || !c->compress || !c->decompress || !c->free)
        return bench_fail(err, ALCM_BENCH_E_PLUGIN,
                          "codec %s: bound, compress, decompress and free are required",
                          c->name);
    bench_ok(err);
    return ALCM_BENCH_OK;
}
