/* rans.c - static order-0 rANS (16-bit renormalisation, 32-bit states, four interleaved)
 * for byte planes whose symbols are independent: the exponent plane of float weights is
 * coded within 0.2 % of its order-0 entropy, where Huffman coding loses 1-2 % on its skewed
 * distribution. Layout in docs/FORMAT.md, "Stream method 2". */
#include "rans.h"

#include <string.h>

#include "bytes.h"

#define SCALE ((uint32_t)1 << ALCM_RANS_SCALE_BITS)
#define RANS_L ((uint32_t)1 << 15) /* states live in [L, 2^16 L) */
#define BITMAP 32                  /* bytes of the present-symbol bitmap */

void alcm_rans_histogram(const uint8_t *src, size_t n, uint32_t hist[256])
{
    uint32_t h[4][256];
    memset(h, 0, sizeof h);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        h[0][src[i]]++;
        h[1][src[i + 1]]++;
        h[2][src[i + 2]]++;
        h[3][src[i + 3]]++;
    }
    for (; i < n; i++) h[0][src[i]]++;
    for (int v = 0; v < 256; v++) hist[v] = h[0][v] + h[1][v] + h[2][v] + h[3][v];
}

/* Frequencies summing to SCALE, every present symbol >= 1: rounded shares, then the
 * rounding difference spread one unit at a time over the symbols in decreasing count order
 * (ties: smaller symbol first). Integer arithmetic only, so the table is the same on every
 * machine. */
static void normalise(const uint32_t hist[256], size_t n, uint32_t freq[256])
{
    uint8_t order[256];
    int used = 0;
    int64_t sum = 0;
    for (int v = 0; v < 256; v++) {
        freq[v] = 0;
        if (!hist[v]) continue;
        uint64_t f = ((uint64_t)hist[v] * SCALE + n / 2) / n;
        freq[v] = f ? (uint32_t)f : 1;
        sum += freq[v];
        /* insertion into the count order */
        int k = used++;
        while (k > 0 && hist[order[k - 1]] < hist[v]) {
            order[k] = order[k - 1];
            k--;
        }
        order[k] = (uint8_t)v;
    }
    int64_t diff = (int64_t)SCALE - sum;
    while (diff != 0) {
        int moved = 0;
        for (int k = 0; k < used && diff != 0; k++) {
            uint32_t *f = &freq[order[k]];
            if (diff > 0) {
                (*f)++;
                diff--;
                moved = 1;
            } else if (*f > 1) {
                (*f)--;
                diff++;
                moved = 1;
            }
        }
        if (!moved) break; /* cannot happen: at most 256 symbols of at least 1 each */
    }
}

/* Encoder view of a symbol (the division-free update of ryg_rans, public domain):
 * x' = (x / f) * SCALE + x mod f + start, computed as x + bias + q * (SCALE - f) with
 * q = floor(x / f) = the high 64 bits of x * ceil(2^64 / f), exact for x < 2^31 (the error
 * x * e / 2^64, e < 1, stays below 1/f). f = 1 uses rcp = 2^64 - 1, giving q = x - 1, and
 * a bias one larger: the same x'. */
typedef struct {
    uint64_t rcp;
    uint32_t x_max;
    uint16_t bias, cmpl; /* bias < 2 SCALE, cmpl < SCALE */
} enc_sym;

static void enc_sym_init(enc_sym *s, uint32_t start, uint32_t f)
{
    s->x_max = ((RANS_L >> ALCM_RANS_SCALE_BITS) << 16) * f;
    s->cmpl = (uint16_t)(SCALE - f);
    if (f < 2) {
        s->rcp = ~(uint64_t)0;
        s->bias = (uint16_t)(start + SCALE - 1);
    } else {
        s->rcp = UINT64_MAX / f + 1; /* ceil(2^64 / f), f not a power of 2 or not */
        s->bias = (uint16_t)start;
    }
}

/* A little-endian 16-bit word, one store on little-endian hosts. */
static inline void put_word(uint8_t *p, uint16_t w)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &w, 2);
#else
    alcm_put_u16(p, w);
#endif
}

static inline uint32_t get_word(const uint8_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint16_t w;
    memcpy(&w, p, 2);
    return w;
#else
    return alcm_get_u16(p);
#endif
}

typedef struct {
    uint16_t freq, bias; /* bias = slot - start of the symbol */
    uint8_t sym;
} dec_slot;

static size_t put_table(const uint32_t freq[256], uint8_t *t)
{
    memset(t, 0, BITMAP);
    size_t len = BITMAP;
    for (int v = 0; v < 256; v++) {
        if (!freq[v]) continue;
        t[v >> 3] |= (uint8_t)(1u << (v & 7));
        uint32_t x = freq[v] - 1; /* < 2^12: one or two varint bytes */
        if (x < 0x80) {
            t[len++] = (uint8_t)x;
        } else {
            t[len++] = (uint8_t)(0x80 | (x & 0x7F));
            t[len++] = (uint8_t)(x >> 7);
        }
    }
    return len;
}

alcm_status alcm_rans_encode(const uint8_t *src, size_t n, const uint32_t hist[256],
                             uint8_t *dst, size_t cap, size_t *out)
{
    *out = 0;
    if (n == 0) return ALCM_E_ARG;
    uint32_t freq[256];
    normalise(hist, n, freq);
    uint8_t table[BITMAP + 2 * 256];
    size_t tlen = put_table(freq, table);
    if (cap < tlen + 4 * ALCM_RANS_STATES) return ALCM_E_DST_TOO_SMALL;
    enc_sym sym[256];
    uint32_t start = 0;
    for (int v = 0; v < 256; v++) {
        if (freq[v]) enc_sym_init(&sym[v], start, freq[v]);
        start += freq[v];
    }
    /* 16-bit words go backwards from the end of dst down to lo, then move up behind the
     * header. A symbol emits at most one word, so four symbols need at most 8 bytes: the
     * room is checked once per four, and the word is stored unconditionally (branch-free;
     * a word not kept is overwritten or left below the output). */
    uint8_t *const lo = dst + tlen + 4 * ALCM_RANS_STATES;
    uint8_t *p = dst + cap;
    uint32_t r0 = RANS_L, r1 = RANS_L, r2 = RANS_L, r3 = RANS_L;
#define PUT(x, byte)                                                                          \
    do {                                                                                      \
        const enc_sym *s_ = &sym[byte];                                                       \
        uint32_t c_ = x >= s_->x_max;                                                         \
        put_word(p - 2, (uint16_t)x);                                                         \
        p -= 2 * c_;                                                                          \
        x = c_ ? x >> 16 : x;                                                                 \
        uint32_t q_ = (uint32_t)(((unsigned __int128)x * s_->rcp) >> 64);                     \
        x = x + s_->bias + q_ * s_->cmpl;                                                     \
    } while (0)
    size_t n4 = n & ~(size_t)3;
    if ((size_t)(p - lo) < 8) return ALCM_E_DST_TOO_SMALL;
    switch (n - n4) { /* the last symbols first: state i mod 4 */
    case 3: PUT(r2, src[n4 + 2]); /* fall through */
    case 2: PUT(r1, src[n4 + 1]); /* fall through */
    case 1: PUT(r0, src[n4]); /* fall through */
    default: break;
    }
    for (size_t i = n4; i > 0; i -= 4) {
        if ((size_t)(p - lo) < 8) return ALCM_E_DST_TOO_SMALL;
        PUT(r3, src[i - 1]);
        PUT(r2, src[i - 2]);
        PUT(r1, src[i - 3]);
        PUT(r0, src[i - 4]);
    }
#undef PUT
    const uint32_t r[ALCM_RANS_STATES] = {r0, r1, r2, r3};
    size_t body = (size_t)(dst + cap - p);
    memmove(lo, p, body);
    memcpy(dst, table, tlen);
    for (int k = 0; k < ALCM_RANS_STATES; k++)
        for (int b = 0; b < 4; b++) dst[tlen + 4 * k + b] = (uint8_t)(r[k] >> (8 * b));
    *out = tlen + 4 * ALCM_RANS_STATES + body;
    return ALCM_OK;
}

alcm_status alcm_rans_decode(const uint8_t *src, size_t len, uint8_t *dst, size_t n)
{
    if (n == 0 || len < BITMAP) return ALCM_E_CORRUPT;
    uint32_t freq[256], cum[256];
    size_t pos = BITMAP;
    uint32_t total = 0;
    for (int v = 0; v < 256; v++) {
        cum[v] = total;
        freq[v] = 0;
        if (!(src[v >> 3] >> (v & 7) & 1)) continue;
        if (pos >= len) return ALCM_E_CORRUPT;
        uint32_t x = src[pos++];
        if (x & 0x80) {
            if (pos >= len) return ALCM_E_CORRUPT;
            uint32_t hi = src[pos++];
            if (hi == 0 || hi >= 0x80) return ALCM_E_CORRUPT; /* shortest, two bytes at most */
            x = (x & 0x7F) | hi << 7;
        }
        freq[v] = x + 1;
        if (freq[v] > SCALE - total) return ALCM_E_CORRUPT;
        total += freq[v];
    }
    if (total != SCALE) return ALCM_E_CORRUPT; /* also rejects an empty bitmap */
    if (len - pos < 4 * ALCM_RANS_STATES || (len - pos) % 2) return ALCM_E_CORRUPT;
    /* per slot: the symbol, its frequency and slot - start, so a step is one lookup */
    dec_slot slot[SCALE];
    for (int v = 0; v < 256; v++)
        for (uint32_t k = 0; k < freq[v]; k++) {
            slot[cum[v] + k].sym = (uint8_t)v;
            slot[cum[v] + k].freq = (uint16_t)freq[v];
            slot[cum[v] + k].bias = (uint16_t)k;
        }
    uint32_t r[ALCM_RANS_STATES];
    for (int k = 0; k < ALCM_RANS_STATES; k++) {
        const uint8_t *b = src + pos + 4 * k;
        r[k] = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
        if (r[k] < RANS_L || r[k] >= RANS_L << 16) return ALCM_E_CORRUPT;
    }
    const uint8_t *p = src + pos + 4 * ALCM_RANS_STATES, *const end = src + len;
    uint32_t r0 = r[0], r1 = r[1], r2 = r[2], r3 = r[3];
    /* one step: at most one 16-bit word read, branch-free while 8 bytes remain */
#define GET(x, at)                                                                            \
    do {                                                                                      \
        const dec_slot *d_ = &slot[x & (SCALE - 1)];                                          \
        dst[at] = d_->sym;                                                                    \
        x = d_->freq * (x >> ALCM_RANS_SCALE_BITS) + d_->bias;                                \
        uint32_t c_ = x < RANS_L; /* arithmetic, not a branch: c_ is unpredictable */         \
        uint32_t w_ = get_word(p);                                                            \
        x = x << (c_ << 4) | (w_ & (0u - c_));                                                \
        p += 2 * c_;                                                                          \
    } while (0)
#define GET_CHECKED(x, at)                                                                    \
    do {                                                                                      \
        const dec_slot *d_ = &slot[x & (SCALE - 1)];                                          \
        dst[at] = d_->sym;                                                                    \
        x = d_->freq * (x >> ALCM_RANS_SCALE_BITS) + d_->bias;                                \
        if (x < RANS_L) {                                                                     \
            if (end - p < 2) return ALCM_E_CORRUPT;                                           \
            x = x << 16 | (uint32_t)p[0] | (uint32_t)p[1] << 8;                               \
            p += 2;                                                                           \
        }                                                                                     \
    } while (0)
    size_t n4 = n & ~(size_t)3, i = 0;
    for (; i < n4 && end - p >= 8; i += 4) {
        GET(r0, i);
        GET(r1, i + 1);
        GET(r2, i + 2);
        GET(r3, i + 3);
    }
    for (; i < n4; i += 4) {
        GET_CHECKED(r0, i);
        GET_CHECKED(r1, i + 1);
        GET_CHECKED(r2, i + 2);
        GET_CHECKED(r3, i + 3);
    }
    switch (n - n4) {
    case 3: GET_CHECKED(r0, n4); GET_CHECKED(r1, n4 + 1); GET_CHECKED(r2, n4 + 2); break;
    case 2: GET_CHECKED(r0, n4); GET_CHECKED(r1, n4 + 1); break;
    case 1: GET_CHECKED(r0, n4); break;
    default: break;
    }
#undef GET
#undef GET_CHECKED
    if (p != end || r0 != RANS_L || r1 != RANS_L || r2 != RANS_L || r3 != RANS_L)
        return ALCM_E_CORRUPT;
    return ALCM_OK;
}
