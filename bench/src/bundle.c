/* bundle.c - loads a bundle directory into memory, checking every file against its manifest. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench_internal.h"

#define MANIFEST_MAX_BYTES (1u << 20)

static int valid_bundle_name(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= ALCM_BENCH_NAME_MAX || name[0] == '.') return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* Reads a whole regular file of at most max bytes (expected: its size, or UINT64_MAX for
 * any). 0, or -1 with errno (EFBIG when larger than max). */
static int read_whole(const char *path, uint64_t max, uint8_t **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    struct stat st;
    if (fstat(fileno(f), &st) != 0) goto fail;
    if (!S_ISREG(st.st_mode)) {
        errno = EISDIR;
        goto fail;
    }
    if ((uint64_t)st.st_size > max) {
        errno = EFBIG;
        goto fail;
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) {
        errno = ENOMEM;
        goto fail;
    }
    if (n && fread(buf, 1, n, f) != n) {
        free(buf);
        errno = EIO;
        goto fail;
    }
    fclose(f);
    *data = buf;
    *len = n;
    return 0;
fail:;
    int e = errno;
    fclose(f);
    errno = e;
    return -1;
}

void alcm_bench_bundle_free(alcm_bench_bundle *bundle)
{
    if (!bundle) return;
    if (bundle->data && bundle->manifest)
        for (size_t i = 0; i < bundle->manifest->n_entries; i++) free(bundle->data[i]);
    free(bundle->data);
    alcm_bench_manifest_free(bundle->manifest);
    free(bundle);
}

alcm_bench_status alcm_bench_bundle_load(const char *dir, const char *name, double error_budget,
                                         alcm_bench_bundle **out, alcm_bench_error *err)
{
    if (!dir || !name || !out) return bench_fail(err, ALCM_BENCH_E_ARG, "bundle: NULL argument");
    *out = NULL;
    if (!valid_bundle_name(name))
        return bench_fail(err, ALCM_BENCH_E_ARG,
                          "bundle name '%s' must be 1-63 characters of [A-Za-z0-9._-]", name);
    if (!(error_budget > 0 && error_budget <= 1))
        return bench_fail(err, ALCM_BENCH_E_ARG, "error budget must be in (0, 1]");
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s/%s", dir, name, ALCM_BENCH_MANIFEST_NAME);
    if (n < 0 || (size_t)n >= sizeof path)
        return bench_fail(err, ALCM_BENCH_E_ARG, "bundle path too long");

    uint8_t *text = NULL;
    size_t text_len = 0;
    if (read_whole(path, MANIFEST_MAX_BYTES, &text, &text_len) != 0) {
        if (errno == ENOENT)
            return bench_fail(err, ALCM_BENCH_E_MANIFEST,
                              "bundle %s: no manifest at %s (build the bundles with "
                              "bench/make-bundles --out %s)", name, path, dir);
        return bench_fail(err, ALCM_BENCH_E_MANIFEST, "bundle %s: cannot read %s: %s", name,
                          path, strerror(errno));
    }
    alcm_bench_bundle *b = calloc(1, sizeof *b);
    if (!b) {
        free(text);
        return bench_fail(err, ALCM_BENCH_E_NOMEM, "bundle %s: out of memory", name);
    }
    bench_copy(b->name, sizeof b->name, name);
    alcm_bench_status st = alcm_bench_manifest_parse((const char *)text, text_len, &b->manifest,
                                                     err);
    free(text);
    if (st != ALCM_BENCH_OK) {
        if (err) {
            char inner[sizeof err->message];
            memcpy(inner, err->message, sizeof inner);
            bench_fail(err, st, "bundle %s: %s: %s", name, path, inner);
        }
        alcm_bench_bundle_free(b);
        return st;
    }
    const alcm_bench_manifest *m = b->manifest;
    b->data = calloc(m->n_entries, sizeof *b->data);
    if (!b->data) {
        alcm_bench_bundle_free(b);
        return bench_fail(err, ALCM_BENCH_E_NOMEM, "bundle %s: out of memory", name);
    }
    for (size_t i = 0; i < m->n_entries; i++) {
        alcm_bench_entry *e = &b->manifest->entries[i];
        if (e->item.type == ALCM_CODEC_ITEM_F32) e->item.error_budget = error_budget;
        n = snprintf(path, sizeof path, "%s/%s/%s", dir, name, e->file);
        if (n < 0 || (size_t)n >= sizeof path) {
            st = bench_fail(err, ALCM_BENCH_E_ARG, "bundle path too long");
            goto fail;
        }
        struct stat sb;
        if (stat(path, &sb) != 0) {
            if (errno == ENOENT)
                st = bench_fail(err, ALCM_BENCH_E_MISSING,
                                "bundle %s: %s is listed in the manifest but missing "
                                "(rebuild with bench/make-bundles)", name, path);
            else
                st = bench_fail(err, ALCM_BENCH_E_IO, "bundle %s: %s: %s", name, path,
                                strerror(errno));
            goto fail;
        }
        if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size != e->size) {
            st = bench_fail(err, ALCM_BENCH_E_MISMATCH,
                            "bundle %s: %s has %llu bytes, the manifest says %llu "
                            "(rebuild with bench/make-bundles)", name, path,
                            (unsigned long long)sb.st_size, (unsigned long long)e->size);
            goto fail;
        }
        size_t got = 0;
        if (read_whole(path, e->size, &b->data[i], &got) != 0 || got != e->size) {
            st = bench_fail(err, ALCM_BENCH_E_IO, "bundle %s: cannot read %s: %s", name, path,
                            strerror(errno));
            goto fail;
        }
        char hex[65];
        alcm_bench_sha256_hex(b->data[i], got, hex);
        if (strcmp(hex, e->sha256) != 0) {
            st = bench_fail(err, ALCM_BENCH_E_MISMATCH,
                            "bundle %s: %s has sha256 %s, the manifest says %s "
                            "(the file changed; rebuild with bench/make-bundles)", name, path,
                            hex, e->sha256);
            goto fail;
        }
        b->total_bytes += e->size;
    }
    *out = b;
    bench_ok(err);
    return ALCM_BENCH_OK;
fail:
    alcm_bench_bundle_free(b);
    return st;
}
