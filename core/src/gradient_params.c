/* gradient_params.c - the per-channel parameter stream of a gradient blob (levels, width,
 * delta-coded step index) and the code-stream sizes it implies. */
#include "gradient.h"

#include "bytes.h"

size_t alcm_params_stream_write(const alcm_chan_param *ch, uint32_t C, uint8_t *out)
{
    size_t n = 0;
    int32_t prev = ALCM_STEP_ONE;
    for (uint32_t c = 0; c < C; c++) {
        n += alcm_varint_put(out + n, ch[c].levels);
        if (ch[c].levels == 0) continue;
        int32_t s = ch[c].step;
        n += alcm_varint_put(out + n, alcm_zigzag(s - prev) << 2 | ch[c].width);
        prev = s;
    }
    return n;
}

size_t alcm_param_parse_one(const uint8_t *p, size_t avail, int32_t *prev, alcm_chan_param *out)
{
    uint32_t v;
    size_t k = alcm_varint_get(p, avail, &v);
    if (!k || v > ALCM_LEVEL_MAX) return 0;
    out->levels = (uint16_t)v;
    out->step = 0;
    out->width = 0;
    if (v == 0) return k;
    size_t k2 = alcm_varint_get(p + k, avail - k, &v);
    if (!k2) return 0;
    int32_t s = *prev + alcm_unzigzag(v >> 2);
    if (s < ALCM_STEP_MIN || s > ALCM_STEP_MAX) return 0;
    out->step = (uint16_t)s;
    out->width = (uint8_t)(v & 3);
    *prev = s;
    return k + k2;
}

alcm_status alcm_params_stream_read(const uint8_t *p, size_t n, uint32_t C, alcm_chan_param *ch)
{
    size_t at = 0;
    int32_t prev = ALCM_STEP_ONE;
    for (uint32_t c = 0; c < C; c++) {
        size_t k = alcm_param_parse_one(p + at, n - at, &prev, &ch[c]);
        if (!k) return ALCM_E_CORRUPT;
        at += k;
    }
    return at == n ? ALCM_OK : ALCM_E_CORRUPT;
}

void alcm_class_sizes(const alcm_chan_param *ch, uint32_t C, uint64_t numel, uint64_t len,
                      uint64_t elems[ALCM_NWIDTH], uint64_t bytes[5])
{
    for (int w = 0; w < ALCM_NWIDTH; w++) elems[w] = 0;
    for (uint32_t c = 0; c < C; c++)
        if (ch[c].levels) elems[ch[c].width] += alcm_chan_len(numel, len, c, C);
    bytes[0] = elems[ALCM_W2] / 4 + (elems[ALCM_W2] % 4 != 0);
    bytes[1] = elems[ALCM_W4] / 2 + (elems[ALCM_W4] % 2 != 0);
    bytes[2] = elems[ALCM_W8];
    bytes[3] = elems[ALCM_W16];
    bytes[4] = elems[ALCM_W16];
}
