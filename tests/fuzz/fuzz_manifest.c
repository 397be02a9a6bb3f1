/* fuzz_manifest.c - fuzz target for the bundle manifest parser (alcm_bench_manifest_parse). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alcm_bench.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    alcm_bench_manifest *m = NULL;
    alcm_bench_error err;
    alcm_bench_status st = alcm_bench_manifest_parse((const char *)data, size, &m, &err);
    if (st != ALCM_BENCH_OK) {
        if (m || err.status != st || err.message[0] == '\0') abort();
        return 0;
    }
    if (!m || m->n_entries == 0 || m->n_entries > ALCM_BENCH_MAX_ITEMS) abort();
    for (size_t i = 0; i < m->n_entries; i++) {
        const alcm_bench_entry *e = &m->entries[i];
        if (!e->file[0] || strchr(e->file, '/') || strlen(e->sha256) != 64) abort();
        if (e->item.name != e->file) abort();
        if (e->item.type == ALCM_CODEC_ITEM_F32) {
            uint64_t numel = 1;
            for (uint32_t d = 0; d < e->item.rank; d++) numel *= e->item.dims[d];
            if (e->item.rank == 0 || e->item.rank > ALCM_CODEC_MAX_RANK || numel * 4 != e->size)
                abort();
        } else if (e->item.dims[0] != e->size) {
            abort();
        }
    }
    alcm_bench_manifest_free(m);
    return 0;
}
