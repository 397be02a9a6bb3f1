/* bench_fixture.h - temporary bundle directories for the alcm_bench suites (header-only). */
#ifndef ALCM_BENCH_FIXTURE_H
#define ALCM_BENCH_FIXTURE_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alcm_bench.h"

/* A bundle directory under a fresh temporary root: root/name/. */
typedef struct {
    char root[256];
    char dir[320];
    FILE *manifest;   /* open while files are added */
} bx_bundle;

static inline void bx_begin(bx_bundle *b, const char *name)
{
    snprintf(b->root, sizeof b->root, "/tmp/alcm-bench-test-XXXXXX");
    assert_non_null(mkdtemp(b->root));
    snprintf(b->dir, sizeof b->dir, "%s/%s", b->root, name);
    assert_int_equal(mkdir(b->dir, 0700), 0);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", b->dir, ALCM_BENCH_MANIFEST_NAME);
    b->manifest = fopen(path, "w");
    assert_non_null(b->manifest);
    fprintf(b->manifest, "%s\n# test bundle\n", ALCM_BENCH_MANIFEST_MAGIC);
}

/* Writes a file into the bundle and its manifest line (type "bytes" or "f32:<shape>"). */
static inline void bx_add(bx_bundle *b, const char *file, const void *data, size_t len,
                          const char *type)
{
    char path[512], hex[65];
    snprintf(path, sizeof path, "%s/%s", b->dir, file);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (len) assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    alcm_bench_sha256_hex(data, len, hex);
    fprintf(b->manifest, "%s\t%zu\t%s\t%s\ttest data\n", file, len, hex, type);
}

static inline void bx_end(bx_bundle *b)
{
    assert_int_equal(fclose(b->manifest), 0);
    b->manifest = NULL;
}

/* Removes the bundle directory, its files and the root. */
static inline void bx_remove(bx_bundle *b)
{
    DIR *d = opendir(b->dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char path[600];
            snprintf(path, sizeof path, "%s/%s", b->dir, e->d_name);
            unlink(path);
        }
        closedir(d);
    }
    rmdir(b->dir);
    rmdir(b->root);
}

#endif
