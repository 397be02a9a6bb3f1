/* gen_fmnist_f32.c - turns Fashion-MNIST images (gzipped IDX, as Debian ships them) into the
 * float32 input tensor a training pipeline holds: (pixel / 255 - 0.2860) / 0.3530, the data
 * set's mean and standard deviation. Used for the float segments of the mixed_stream bundle. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define IDX_IMAGES_MAGIC 0x00000803u

static void usage(FILE *f)
{
    fprintf(f, "usage: alcm-gen-fmnist-f32 IMAGES.idx3-ubyte.gz OUT.f32 [--first N] "
               "[--count N]\nWrites images first..first+count-1 as float32 little-endian, "
               "count x 784.\n");
}

static int parse_u(const char *s, unsigned long *out)
{
    char *end;
    errno = 0;
    if (!s || *s < '0' || *s > '9') return -1;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end) return -1;
    *out = v;
    return 0;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int main(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    unsigned long first = 0, count = 1000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--first") || !strcmp(argv[i], "--count")) {
            unsigned long *dst = argv[i][2] == 'f' ? &first : &count;
            if (i + 1 >= argc || parse_u(argv[++i], dst) != 0) {
                usage(stderr);
                return 2;
            }
        } else if (argv[i][0] != '-' && !in) in = argv[i];
        else if (argv[i][0] != '-' && !out) out = argv[i];
        else {
            usage(stderr);
            return 2;
        }
    }
    if (!in || !out || count == 0) {
        usage(stderr);
        return 2;
    }
    const uint32_t probe = 1;
    if (*(const uint8_t *)&probe != 1) {
        fprintf(stderr, "alcm-gen-fmnist-f32: big-endian hosts are not supported\n");
        return 1;
    }
    gzFile g = gzopen(in, "rb");
    if (!g) {
        fprintf(stderr, "alcm-gen-fmnist-f32: cannot open %s\n", in);
        return 1;
    }
    unsigned char hdr[16];
    if (gzread(g, hdr, sizeof hdr) != (int)sizeof hdr || be32(hdr) != IDX_IMAGES_MAGIC ||
        be32(hdr + 8) != 28 || be32(hdr + 12) != 28) {
        fprintf(stderr, "alcm-gen-fmnist-f32: %s is not an IDX file of 28x28 images\n", in);
        gzclose(g);
        return 1;
    }
    uint32_t n_images = be32(hdr + 4);
    if (first > n_images || count > n_images - first) {
        fprintf(stderr, "alcm-gen-fmnist-f32: %s holds %u images; asked for %lu..%lu\n", in,
                (unsigned)n_images, first, first + count - 1);
        gzclose(g);
        return 1;
    }
    unsigned char px[784];
    float row[784];
    for (unsigned long i = 0; i < first; i++)
        if (gzread(g, px, sizeof px) != (int)sizeof px) goto short_read;
    FILE *f = fopen(out, "wb");
    if (!f) {
        fprintf(stderr, "alcm-gen-fmnist-f32: cannot create %s: %s\n", out, strerror(errno));
        gzclose(g);
        return 1;
    }
    for (unsigned long i = 0; i < count; i++) {
        if (gzread(g, px, sizeof px) != (int)sizeof px) {
            fclose(f);
            goto short_read;
        }
        for (int k = 0; k < 784; k++) row[k] = ((float)px[k] / 255.0f - 0.2860f) / 0.3530f;
        if (fwrite(row, sizeof row, 1, f) != 1) {
            fprintf(stderr, "alcm-gen-fmnist-f32: write to %s failed\n", out);
            fclose(f);
            gzclose(g);
            return 1;
        }
    }
    gzclose(g);
    if (fclose(f) != 0) {
        fprintf(stderr, "alcm-gen-fmnist-f32: write to %s failed\n", out);
        return 1;
    }
    return 0;
short_read:
    fprintf(stderr, "alcm-gen-fmnist-f32: %s is truncated\n", in);
    gzclose(g);
    return 1;
}
