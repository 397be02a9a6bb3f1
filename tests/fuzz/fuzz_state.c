/* fuzz_state.c - fuzz target for stream state (docs/STATE.md): the input is read both as
 * an alcmd state file (daemon/state.c) and as a bare libalcm stream state
 * (alcm_stream_import); a state that is accepted is used for one compress step and
 * exported again, which must reproduce a state that imports. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alcm.h"
#include "state.h"

static void use(alcm_stream *s)
{
    float x[64];
    for (int i = 0; i < 64; i++) x[i] = (float)(i % 7) * 1e-3f - 2e-3f;
    alcm_stream_config cfg;
    alcm_stream_get_config(s, &cfg);
    alcm_shape sh;
    alcm_shape_1d(&sh, cfg.params.dtype == ALCM_DTYPE_F32 ? 64 : 64 * 4 /
                  (alcm_dtype_size(cfg.params.dtype) ? alcm_dtype_size(cfg.params.dtype) : 1));
    uint8_t blob[2048];
    size_t len;
    (void)alcm_stream_compress(s, &sh, x, sizeof x, blob, sizeof blob, &len, NULL, NULL);
    size_t cap = alcm_stream_export_size(s);
    uint8_t *buf = malloc(cap ? cap : 1);
    if (buf && alcm_stream_export(s, buf, cap, &len) == ALCM_OK) {
        alcm_stream *again = NULL;
        if (alcm_stream_import(buf, len, &again) != ALCM_OK) abort();
        alcm_stream_free(again);
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20)) return 0;
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    uint32_t uid;
    char name[300], why[256];
    alcmd_counters counters;
    alcm_stream *s = NULL;
    if (alcmd_state_decode(copy, size, &uid, name, sizeof name, &counters, &s, why,
                           sizeof why) == 0) {
        use(s);
        alcm_stream_free(s);
    }
    s = NULL;
    if (alcm_stream_import(copy, size, &s) == ALCM_OK) {
        use(s);
        alcm_stream_free(s);
    }
    free(copy);
    return 0;
}
