/* fuzz_idx.c - fuzz target for the IDX parser of the Fashion-MNIST library
 * (alcm_fmnist_idx_parse): any bytes must give a status, never a crash, and an accepted file
 * must describe exactly the bytes it was given. */
#include <stdint.h>
#include <stdlib.h>

#include "fmnist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    alcm_fmnist_idx_view v;
    alcm_fmnist_status st = alcm_fmnist_idx_parse(data, size, &v);
    if (st != ALCM_FMNIST_OK) {
        if (v.data != NULL || v.size != 0) abort();
        return 0;
    }
    if (v.rank != 1 && v.rank != 3) abort();
    uint64_t prod = 1;
    for (uint32_t i = 0; i < v.rank; i++) prod *= v.dims[i];
    size_t header = 4 + 4 * (size_t)v.rank;
    if (prod != v.size || v.data != data + header || header + v.size != size) abort();
    unsigned sum = 0;
    for (uint64_t i = 0; i < v.size; i++) sum += v.data[i];   /* every byte is readable */
    return (int)(sum & 0);
}
