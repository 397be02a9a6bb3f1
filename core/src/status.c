/* status.c - alcm_status codes: messages and symbolic names. */
#include "alcm.h"

typedef struct {
    alcm_status code;
    const char *name;
    const char *message;
} status_entry;

static const status_entry k_status[] = {
    {ALCM_OK, "ALCM_OK", "success"},
    {ALCM_E_ARG, "ALCM_E_ARG", "invalid argument"},
    {ALCM_E_NOMEM, "ALCM_E_NOMEM", "out of memory"},
    {ALCM_E_DST_TOO_SMALL, "ALCM_E_DST_TOO_SMALL", "output buffer too small"},
    {ALCM_E_SHAPE, "ALCM_E_SHAPE", "invalid shape or shape does not match the data size"},
    {ALCM_E_DTYPE, "ALCM_E_DTYPE", "dtype not supported by this profile"},
    {ALCM_E_NONFINITE, "ALCM_E_NONFINITE", "NaN or Inf in input of the lossy gradient profile"},
    {ALCM_E_TRUNCATED, "ALCM_E_TRUNCATED", "blob is truncated"},
    {ALCM_E_MAGIC, "ALCM_E_MAGIC", "not an ALCM blob (bad magic)"},
    {ALCM_E_VERSION, "ALCM_E_VERSION", "unsupported blob format version"},
    {ALCM_E_CHECKSUM, "ALCM_E_CHECKSUM", "blob checksum mismatch (corrupted data)"},
    {ALCM_E_CORRUPT, "ALCM_E_CORRUPT", "blob field out of range or inconsistent"},
    {ALCM_E_CODEC, "ALCM_E_CODEC", "unknown codec or backend in blob"},
    {ALCM_E_BACKEND, "ALCM_E_BACKEND", "entropy backend (zlib/zstd) failed"},
    {ALCM_E_LIMIT, "ALCM_E_LIMIT", "decoded size exceeds the configured limit"},
    {ALCM_E_INTERNAL, "ALCM_E_INTERNAL", "internal error (library bug)"},
    {ALCM_E_INPUT_CHANGED, "ALCM_E_INPUT_CHANGED",
     "the input changed while it was being encoded (rewritten during the call)"},
};

static const status_entry *find(alcm_status s)
{
    for (size_t i = 0; i < sizeof k_status / sizeof k_status[0]; i++)
        if (k_status[i].code == s) return &k_status[i];
    return NULL;
}

const char *alcm_strerror(alcm_status status)
{
    const status_entry *e = find(status);
    return e ? e->message : "unknown error code";
}

const char *alcm_status_name(alcm_status status)
{
    const status_entry *e = find(status);
    return e ? e->name : "ALCM_E_UNKNOWN";
}
