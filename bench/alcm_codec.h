/*
 * alcm_codec.h - the codec interface of `alcm-bench bench` (ABI version 1): one small vtable that
 * every benchmarked codec implements, whether built in or loaded from a shared library with
 * `alcm-bench bench --codec-plugin ./libmycodec.so`.
 *
 * A plugin is a shared library exporting one C function,
 *
 *     alcm_codec *alcm_codec_plugin_create(uint32_t abi_version);
 *
 * which returns a fully initialised codec (abi_version == ALCM_CODEC_ABI_VERSION), or NULL
 * when it cannot serve the requested ABI version or runs out of memory. The harness calls
 * the codec from one thread only, then calls codec->free(codec) exactly once and unloads
 * the library. docs/BENCHMARKS.md describes the rules and bench/plugin-example/ is a
 * complete plugin.
 *
 * The harness verifies every blob: it decodes it with the same codec and compares the
 * result with the input (byte-exact for bytes items and lossless codecs, within the error
 * budget for f32 items of lossy codecs) before any figure is reported.
 */
#ifndef ALCM_CODEC_H
#define ALCM_CODEC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ALCM_CODEC_ABI_VERSION 1u

/* Name of the entry point a plugin exports. */
#define ALCM_CODEC_PLUGIN_SYMBOL "alcm_codec_plugin_create"

/* Longest codec name (bytes, without the terminating NUL). Names use [a-z0-9._-] only. */
#define ALCM_CODEC_NAME_MAX 40

/* Highest rank a tensor item may declare. */
#define ALCM_CODEC_MAX_RANK 8

/* What a bundle item is, as declared by the bundle's manifest. */
typedef enum {
    ALCM_CODEC_ITEM_BYTES = 0,  /* opaque bytes: must round-trip exactly */
    ALCM_CODEC_ITEM_F32 = 1     /* float32 little-endian tensor of the declared shape */
} alcm_codec_item_type;

/* Description of one input, passed with every call. */
typedef struct {
    alcm_codec_item_type type;
    uint32_t rank;                          /* f32 items: 1..ALCM_CODEC_MAX_RANK; bytes: 1 */
    uint64_t dims[ALCM_CODEC_MAX_RANK];     /* dims[0] outermost; bytes items: dims[0] = size */
    double error_budget;   /* f32 items: the largest relative L2 error ||x - x'|| / ||x|| a
                              lossy codec may introduce; 0 for bytes items */
    const char *name;      /* item's file name inside its bundle (for messages) */
} alcm_codec_item;

typedef struct alcm_codec alcm_codec;

struct alcm_codec {
    uint32_t abi_version;   /* ALCM_CODEC_ABI_VERSION */
    const char *name;       /* stable, unique name shown in results, e.g. "zstd-3" */
    int adaptive;           /* 1: chooses its method per input from the data (leaderboard 🔬) */
    int lossless;           /* 1: every item decodes to the exact input bytes */
    void *state;            /* the codec's own data (contexts, scratch); NULL if none */

    /* Largest blob compress can produce for src_len bytes of this item. Must not fail. */
    size_t (*bound)(alcm_codec *codec, const alcm_codec_item *item, size_t src_len);

    /* Compresses src into dst (capacity dst_cap >= bound()) and writes the blob length to
     * *dst_len. The same input must give the same blob on every call. Returns 0 on success
     * or a codec-specific non-zero error code. */
    int (*compress)(alcm_codec *codec, const alcm_codec_item *item, const void *src,
                    size_t src_len, void *dst, size_t dst_cap, size_t *dst_len);

    /* Decodes a blob produced by compress into dst; dst_cap is exactly the size of the
     * original input. Writes the decoded length to *dst_len. Returns 0 or an error code. */
    int (*decompress)(alcm_codec *codec, const alcm_codec_item *item, const void *src,
                      size_t src_len, void *dst, size_t dst_cap, size_t *dst_len);

    /* Optional (may be NULL): a static one-line message for an error code. */
    const char *(*describe_error)(alcm_codec *codec, int code);

    /* Releases the state and, if it was allocated, the codec itself. Called once. */
    void (*free)(alcm_codec *codec);
};

/* Type of the plugin entry point. */
typedef alcm_codec *(*alcm_codec_plugin_create_fn)(uint32_t abi_version);

#ifdef __cplusplus
}
#endif
#endif /* ALCM_CODEC_H */
