/* safetensors.c - the safetensors header parser (docs/PACK.md, "What is parsed"). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "safetensors.h"

void st_put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
void st_put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
uint32_t st_get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}
uint64_t st_get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

void st_free(st_file *f)
{
    json_decref(f->root);
    free(f->t);
    memset(f, 0, sizeof *f);
}

/* Element size of a safetensors dtype and the alcm dtype it is compressed as; 0 if unknown. */
static size_t st_dtype(const char *s, alcm_dtype *as)
{
    static const struct { const char *name; size_t size; alcm_dtype as; } k[] = {
        {"F64", 8, ALCM_DTYPE_BYTES},  {"F32", 4, ALCM_DTYPE_F32},   {"F16", 2, ALCM_DTYPE_F16},
        {"BF16", 2, ALCM_DTYPE_BF16},  {"I64", 8, ALCM_DTYPE_BYTES}, {"I32", 4, ALCM_DTYPE_BYTES},
        {"I16", 2, ALCM_DTYPE_BYTES},  {"I8", 1, ALCM_DTYPE_BYTES},  {"U64", 8, ALCM_DTYPE_BYTES},
        {"U32", 4, ALCM_DTYPE_BYTES},  {"U16", 2, ALCM_DTYPE_BYTES}, {"U8", 1, ALCM_DTYPE_BYTES},
        {"BOOL", 1, ALCM_DTYPE_BYTES}, {"F8_E4M3", 1, ALCM_DTYPE_BYTES},
        {"F8_E5M2", 1, ALCM_DTYPE_BYTES},
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        if (strcmp(s, k[i].name) == 0) {
            *as = k[i].as;
            return k[i].size;
        }
    return 0;
}

/* Data order: by begin; zero-byte tensors beginning where another begins keep their JSON
 * order (a total order, so every libc sorts alike). */
static int by_begin(const void *a, const void *b)
{
    const st_tensor *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index ? 1 : 0;
}

static int nonneg_int(const json_t *v, uint64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0) return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

int st_parse(const char *cmd, const char *path, const uint8_t *p, uint64_t avail,
                    int have_data_len, uint64_t data_len, st_file *f)
{
    memset(f, 0, sizeof *f);
    if (avail < 8) {
        cli_error(cmd, "%s: shorter than the 8-byte header length", path);
        return -1;
    }
    uint64_t n = st_get_u64(p);
    if (n < 2 || n > ST_MAX_HEADER || n > avail - 8) {
        cli_error(cmd, "%s: header length %llu out of range (2..%llu, file leaves %llu)", path,
                  (unsigned long long)n, ST_MAX_HEADER, (unsigned long long)(avail - 8));
        return -1;
    }
    if (!have_data_len) data_len = avail - 8 - n;
    f->header_len = n;
    json_error_t err;
    f->root = json_loadb((const char *)p + 8, (size_t)n, JSON_REJECT_DUPLICATES, &err);
    if (!f->root || !json_is_object(f->root)) {
        cli_error(cmd, "%s: header is not a JSON object (%s)", path, f->root ? "" : err.text);
        st_free(f);
        return -1;
    }
    size_t count = json_object_size(f->root);
    if (count > ST_MAX_TENSORS + 1) {
        cli_error(cmd, "%s: more than %u tensors", path, ST_MAX_TENSORS);
        st_free(f);
        return -1;
    }
    f->t = calloc(count ? count : 1, sizeof *f->t);
    if (!f->t) {
        cli_error(cmd, "%s: out of memory", path);
        st_free(f);
        return -1;
    }
    const char *key;
    json_t *val;
    json_object_foreach(f->root, key, val) {
        if (strcmp(key, "__metadata__") == 0) {
            const char *k2;
            json_t *v2;
            if (!json_is_object(val)) goto bad_meta;
            json_object_foreach(val, k2, v2) if (!json_is_string(v2)) goto bad_meta;
            continue;
        bad_meta:
            cli_error(cmd, "%s: __metadata__ must map strings to strings", path);
            st_free(f);
            return -1;
        }
        st_tensor *t = &f->t[f->n];
        t->name = key;
        t->index = f->n;
        json_t *dt = json_object_get(val, "dtype"), *sh = json_object_get(val, "shape"),
               *off = json_object_get(val, "data_offsets");
        size_t esize = json_is_string(dt) ? st_dtype(json_string_value(dt), &t->dtype) : 0;
        if (!json_is_object(val) || json_object_size(val) != 3 || !esize || !json_is_array(sh) ||
            json_array_size(sh) > ALCM_MAX_RANK || !json_is_array(off) ||
            json_array_size(off) != 2 || nonneg_int(json_array_get(off, 0), &t->begin) ||
            nonneg_int(json_array_get(off, 1), &t->end)) {
            cli_error(cmd, "%s: tensor '%s': needs exactly dtype (a known one), shape (<= %d "
                      "non-negative integers) and data_offsets ([begin, end])", path, key,
                      ALCM_MAX_RANK);
            st_free(f);
            return -1;
        }
        uint64_t bytes = esize;
        for (size_t i = 0; i < json_array_size(sh); i++) {
            uint64_t d;
            if (nonneg_int(json_array_get(sh, i), &d) ||
                (d && bytes > UINT64_MAX / d)) {
                cli_error(cmd, "%s: tensor '%s': bad or overflowing shape", path, key);
                st_free(f);
                return -1;
            }
            bytes *= d;
        }
        if (t->begin > t->end || t->end > data_len || t->end - t->begin != bytes) {
            cli_error(cmd, "%s: tensor '%s': data_offsets [%llu, %llu] do not hold its %llu "
                      "bytes inside the %llu-byte data buffer", path, key,
                      (unsigned long long)t->begin, (unsigned long long)t->end,
                      (unsigned long long)bytes, (unsigned long long)data_len);
            st_free(f);
            return -1;
        }
        f->n++;
    }
    qsort(f->t, f->n, sizeof *f->t, by_begin);
    uint64_t at = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (f->t[i].begin != at) {
            cli_error(cmd, "%s: tensor '%s' starts at %llu, expected %llu (tensors must be "
                      "contiguous, without holes or overlaps)", path, f->t[i].name,
                      (unsigned long long)f->t[i].begin, (unsigned long long)at);
            st_free(f);
            return -1;
        }
        at = f->t[i].end;
    }
    if (at != data_len) {
        cli_error(cmd, "%s: tensors end at %llu but the data buffer has %llu bytes", path,
                  (unsigned long long)at, (unsigned long long)data_len);
        st_free(f);
        return -1;
    }
    return 0;
}
