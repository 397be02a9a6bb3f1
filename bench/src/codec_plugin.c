/* codec_plugin.c - loads codecs from shared libraries (dlopen) per the ABI in alcm_codec.h. */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "bench_internal.h"

struct alcm_bench_plugin {
    void *handle;
    alcm_codec *codec;
};

alcm_bench_status alcm_bench_plugin_open(const char *path, alcm_bench_plugin **out,
                                         alcm_bench_error *err)
{
    if (!path || !out) return bench_fail(err, ALCM_BENCH_E_ARG, "plugin: NULL argument");
    *out = NULL;
    /* dlopen searches the library path for a bare name; a plugin is always a file path. */
    if (!strchr(path, '/'))
        return bench_fail(err, ALCM_BENCH_E_PLUGIN,
                          "plugin %s: give a path (e.g. ./%s), not a bare library name", path,
                          path);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        return bench_fail(err, ALCM_BENCH_E_PLUGIN, "plugin %s: %s", path,
                          why ? why : "dlopen failed");
    }
    alcm_codec_plugin_create_fn create;
    void *sym = dlsym(h, ALCM_CODEC_PLUGIN_SYMBOL);
    if (!sym) {
        dlclose(h);
        return bench_fail(err, ALCM_BENCH_E_PLUGIN, "plugin %s: does not export %s()", path,
                          ALCM_CODEC_PLUGIN_SYMBOL);
    }
    /* POSIX guarantees object and function pointers convert through dlsym's result. */
    memcpy(&create, &sym, sizeof create);
    alcm_codec *c = create(ALCM_CODEC_ABI_VERSION);
    if (!c) {
        dlclose(h);
        return bench_fail(err, ALCM_BENCH_E_PLUGIN,
                          "plugin %s: %s(%u) returned NULL (ABI version not supported?)", path,
                          ALCM_CODEC_PLUGIN_SYMBOL, (unsigned)ALCM_CODEC_ABI_VERSION);
    }
    alcm_bench_error inner;
    if (alcm_bench_codec_check(c, &inner) != ALCM_BENCH_OK) {
        if (c->free && c->abi_version == ALCM_CODEC_ABI_VERSION) c->free(c);
        dlclose(h);
        return bench_fail(err, ALCM_BENCH_E_PLUGIN, "plugin %s: %s", path, inner.message);
    }
    alcm_bench_plugin *p = calloc(1, sizeof *p);
    if (!p) {
        c->free(c);
        dlclose(h);
        return bench_fail(err, ALCM_BENCH_E_NOMEM, "plugin %s: out of memory", path);
    }
    p->handle = h;
    p->codec = c;
    *out = p;
    bench_ok(err);
    return ALCM_BENCH_OK;
}

alcm_codec *alcm_bench_plugin_codec(alcm_bench_plugin *plugin)
{
    return plugin ? plugin->codec : NULL;
}

void alcm_bench_plugin_close(alcm_bench_plugin *plugin)
{
    if (!plugin) return;
    if (plugin->codec) plugin->codec->free(plugin->codec);
    dlclose(plugin->handle);
    free(plugin);
}
