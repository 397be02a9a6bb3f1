/* consumer.c - a program using the installed libalcm and libalcmc: encodes and decodes
 * in-process, and reports that no daemon listens on a made-up socket. */
#include <stdio.h>
#include <string.h>

#include "alcm.h"
#include "alcmc.h"

int main(void)
{
    float x[512], y[512];
    for (int i = 0; i < 512; i++) x[i] = (float)(i % 37) * 0.5f;
    alcm_params p;
    alcm_params_default(&p, ALCM_PROFILE_LOSSLESS);
    alcm_shape s;
    alcm_shape_1d(&s, 512);
    unsigned char blob[8192];
    size_t len, n;
    alcm_cctx *c = alcm_cctx_create();
    alcm_status st = alcm_compress(c, &p, &s, x, sizeof x, NULL, blob, sizeof blob, &len, NULL);
    alcm_cctx_free(c);
    if (st != ALCM_OK) return 1;
    if (alcmc_decompress_local(blob, len, y, sizeof y, &n, NULL) != ALCMC_OK) return 2;
    if (n != sizeof y || memcmp(x, y, sizeof x) != 0) return 3;
    alcmc_conn *conn;
    if (alcmc_connect("/nonexistent/alcmd.sock", NULL, &conn) != ALCMC_E_CONNECT) return 4;
    printf("consumer OK: %zu -> %zu bytes, %s\n", sizeof x, len,
           alcmc_strerror(ALCMC_E_CONNECT));
    return 0;
}
