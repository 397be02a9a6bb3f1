/* tans.c - static order-0 tANS (table-based asymmetric numeral systems, as in FSE) for byte
 * planes whose symbols are independent: the exponent plane of float weights is coded within
 * 0.2 % of its order-0 entropy, where Huffman coding loses 1-2 % on its skewed distribution,
 * at a table lookup, a shift and an add per byte (no multiply). Four interleaved states
 * share one bit stream. Layout in docs/FORMAT.md, "Stream method 2". */
#include "tans.h"

#include <string.h>

#include "bytes.h"

#define TMAX ((uint32_t)1 << ALCM_TANS_LOG) /* the largest table */
#define BITMAP 32                           /* bytes of the present-symbol bitmap */

/* The coding loop and the histogram are built twice on x86-64 with GCC, for x86-64-v3
 * (BMI1/BMI2: BZHI takes the low bits, shifts by a register count take three operands, a
 * quarter fewer instructions per byte; AVX2 for the histogram's compares) and portable, and
 * picked at load time: integer code, the same results either way. */
#if defined(__x86_64__) && defined(__has_attribute) && !defined(ALCM_NO_CLONES) && \
    !defined(__clang__)
#if __has_attribute(target_clones)
#define TANS_KERNEL __attribute__((target_clones("arch=x86-64-v3", "default")))
#endif
#endif
#ifndef TANS_KERNEL
#define TANS_KERNEL
#endif

/* The spread's step for a table of T slots: odd, so it visits every slot once. */
static inline uint32_t spread_step(uint32_t T) { return (T >> 1) + (T >> 3) + 3; }

/* Little-endian 64-bit words, one move on little-endian hosts. */
static inline void put_u64_le(uint8_t *p, uint64_t w)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &w, 8);
#else
    alcm_put_u64(p, w);
#endif
}

static inline uint64_t get_u64_le(const uint8_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
#else
    return alcm_get_u64(p);
#endif
}

/* Eight counter tables: a plane of few distinct values (exponents) would otherwise wait on
 * the store of the same counter every few bytes. Adds the counts of src[0..n) to hist. */
static void count_scalar(const uint8_t *src, size_t n, uint32_t hist[256])
{
    uint32_t h[8][256];
    memset(h, 0, sizeof h);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, src + i, 8);
        for (int k = 0; k < 8; k++) h[k][(uint8_t)(w >> (8 * k))]++;
    }
    for (; i < n; i++) h[0][src[i]]++;
    for (int v = 0; v < 256; v++) {
        uint32_t t = 0;
        for (int k = 0; k < 8; k++) t += h[k][v];
        hist[v] += t;
    }
}

/* Histogram counting in vector compares against HIST_TOP values: 32 bytes per step, each
 * value's matches summed in byte lanes (at most 255 steps between flushes); a 32-byte
 * block with a byte outside the values is counted byte by byte too, for those bytes. An
 * exponent plane has most of its bytes among a dozen values (the CNN's: 99.6 % of its
 * blocks), where counting a byte at a time is bound by one counter update per cycle. */
#define HIST_TOP 16
#define HIST_HEAD 1024 /* bytes counted plainly first, to pick the values */
typedef uint8_t v32u8 __attribute__((vector_size(32)));

TANS_KERNEL static void count_top(const uint8_t *src, size_t n, const uint8_t top[HIST_TOP],
                                  uint32_t hist[256])
{
    uint8_t listed[256];
    memset(listed, 0, sizeof listed);
    v32u8 val[HIST_TOP];
    uint64_t total[HIST_TOP];
    for (int k = 0; k < HIST_TOP; k++) {
        listed[top[k]] = 1;
        for (int j = 0; j < 32; j++) val[k][j] = top[k];
        total[k] = 0;
    }
    size_t i = 0;
    while (n - i >= 32) {
        size_t steps = (n - i) / 32;
        if (steps > 255) steps = 255;
        v32u8 acc[HIST_TOP];
        for (int k = 0; k < HIST_TOP; k++) acc[k] = (v32u8){0};
        for (size_t s = 0; s < steps; s++, i += 32) {
            v32u8 x, any = (v32u8){0};
            memcpy(&x, src + i, 32);
            for (int k = 0; k < HIST_TOP; k++) {
                v32u8 eq = (v32u8)(x == val[k]); /* 0xFF where equal */
                acc[k] -= eq;
                any |= eq;
            }
            uint64_t w[4];
            memcpy(w, &any, 32);
            if ((w[0] & w[1] & w[2] & w[3]) != ~(uint64_t)0)
                for (int j = 0; j < 32; j++)
                    if (!listed[src[i + j]]) hist[src[i + j]]++;
        }
        for (int k = 0; k < HIST_TOP; k++) {
            uint8_t a[32];
            memcpy(a, &acc[k], 32);
            uint32_t t = 0;
            for (int j = 0; j < 32; j++) t += a[j];
            total[k] += t;
        }
    }
    for (; i < n; i++) hist[src[i]]++;
    for (int k = 0; k < HIST_TOP; k++) hist[top[k]] += (uint32_t)total[k];
}

void alcm_tans_histogram(const uint8_t *src, size_t n, uint32_t hist[256])
{
    memset(hist, 0, 256 * sizeof hist[0]);
    if (n < 4 * HIST_HEAD) {
        count_scalar(src, n, hist);
        return;
    }
    count_scalar(src, HIST_HEAD, hist);
    /* the HIST_TOP most frequent values of the head (ties: the smaller value), chosen among
     * the values that occur there; values that do not occur fill up the list, which only
     * costs speed */
    uint8_t occ[256], top[HIST_TOP], taken[256];
    int no = 0;
    for (int v = 0; v < 256; v++)
        if (hist[v]) occ[no++] = (uint8_t)v;
    memset(taken, 0, sizeof taken);
    for (int k = 0; k < HIST_TOP; k++) {
        int best = -1;
        for (int j = 0; j < no; j++) {
            int v = occ[j];
            if (!taken[v] && (best < 0 || hist[v] > hist[best])) best = v;
        }
        for (int v = 0; best < 0; v++)
            if (!taken[v]) best = v;
        taken[best] = 1;
        top[k] = (uint8_t)best;
    }
    count_top(src + HIST_HEAD, n - HIST_HEAD, top, hist);
}

/* Frequencies summing to T, every present symbol >= 1: rounded shares, then the rounding
 * difference spread one unit at a time over the symbols in decreasing count order (ties:
 * smaller symbol first). Integer arithmetic only, so the table is the same on every
 * machine. */
static void normalise(const uint32_t hist[256], size_t n, uint32_t T, uint32_t freq[256])
{
    uint8_t order[256];
    int used = 0;
    int64_t sum = 0;
    for (int v = 0; v < 256; v++) {
        freq[v] = 0;
        if (!hist[v]) continue;
        /* the same quotient in 32 bits when it fits (2^19 x 2^12 + 2^18 < 2^32): a shorter
         * division */
        uint64_t f = n <= ((size_t)1 << 19)
                         ? (uint32_t)(hist[v] * T + (uint32_t)(n / 2)) / (uint32_t)n
                         : ((uint64_t)hist[v] * T + n / 2) / n;
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
    int64_t diff = (int64_t)T - sum;
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

static size_t put_table(const uint32_t freq[256], uint8_t *t)
{
    memset(t, 0, BITMAP);
    size_t len = BITMAP;
    for (int v = 0; v < 256; v++) {
        if (!freq[v]) continue;
        t[v >> 3] |= (uint8_t)(1u << (v & 7));
        uint32_t x = freq[v] - 1; /* < T: one or two varint bytes */
        if (x < 0x80) {
            t[len++] = (uint8_t)x;
        } else {
            t[len++] = (uint8_t)(0x80 | (x & 0x7F));
            t[len++] = (uint8_t)(x >> 7);
        }
    }
    return len;
}

/* Slot u of the table holds symbol tab[u]: symbols in increasing value, each f_v times,
 * placed at u = 0, STEP, 2 STEP, ... mod T, i.e. the k-th placement (k counted over all
 * symbols) at k STEP mod T. The frequencies sum to T. Callers then read the table in
 * increasing u, each slot taking the next rank j of its symbol; a plain pass would make
 * each slot wait for the previous slot of the same symbol (a counter in memory, ~5 cycles,
 * and an exponent plane has a few symbols sharing most slots). So they read it as PARTS
 * parts side by side, and first[q][v] gives the rank of v's first slot in part q: its
 * slots in the parts before (counted the same way, one counter table per part). */
#define PARTS 8
/* The present values (f_v > 0) in increasing order into sy; returns their count. The
 * table set-up loops over these only: an exponent plane has a few dozen of the 256. */
static int present(const uint32_t freq[256], uint8_t sy[256])
{
    int ns = 0;
    for (int v = 0; v < 256; v++)
        if (freq[v]) sy[ns++] = (uint8_t)v;
    return ns;
}

/* first[q][v] is set for the present values only (sy[0..ns)). */
static void spread(const uint32_t freq[256], uint32_t T, uint8_t *tab, uint32_t first[PARTS][256],
                   const uint8_t *sy, int ns)
{
    const uint32_t STEP = spread_step(T), PART = T / PARTS;
    uint8_t seq[TMAX]; /* the symbols in placement order */
    uint32_t k = 0;
    for (int j = 0; j < ns; j++) {
        memset(seq + k, sy[j], freq[sy[j]]);
        k += freq[sy[j]];
    }
    for (uint32_t i = 0, pos = 0; i < T; i += 4, pos = (pos + 4 * STEP) & (T - 1)) {
        tab[pos] = seq[i];
        tab[(pos + STEP) & (T - 1)] = seq[i + 1];
        tab[(pos + 2 * STEP) & (T - 1)] = seq[i + 2];
        tab[(pos + 3 * STEP) & (T - 1)] = seq[i + 3];
    }
    for (int j = 0; j < ns; j++)
        for (uint32_t q = 0; q < PARTS; q++) first[q][sy[j]] = 0;
    for (uint32_t u = 0; u < PART; u++)
        for (uint32_t q = 1; q < PARTS; q++) first[q][tab[(q - 1) * PART + u]]++;
    for (uint32_t q = 2; q < PARTS; q++)
        for (int j = 0; j < ns; j++) first[q][sy[j]] += first[q - 1][sy[j]];
}

static inline uint32_t highbit(uint32_t x) /* floor(log2 x), x >= 1 */
{
    return 31u - (uint32_t)__builtin_clz(x);
}

/* Encoder view of a symbol: bits out = (X + dnb) >> 16 for a state X in [T, 2T), and the
 * next state = next[(X >> bits) + dfs]. */
typedef struct {
    int32_t dnb, dfs;
} enc_sym;

/* Both encoder tables behind one pointer (one register fewer in the coding loop). */
typedef struct {
    uint16_t next[TMAX];
    enc_sym sym[256];
} enc_tables;


/* The bit stream is one little-endian integer B over the data bytes after the header,
 * read from its lowest bit up. The encoder runs from the last byte of the plane to the
 * first and pushes each step's bits *under* the ones before (B = B << k | bits), so the
 * decoder reads them in its own order. Pushed bits collect in acc (cnt of them, newest
 * lowest) and leave it as whole bytes from the top, written downwards from the end of the
 * output: at most 4 x 12 + 7 = 55 bits are pending, so eight bytes are stored
 * unconditionally, top-aligned, and p moves down by the complete ones (the rest is
 * overwritten next time or left below the output). Four steps move p down by at most six
 * bytes, so runs of steps whose stores all stay at or above lo go unchecked. Writes the
 * stream into [lo, end) top-aligned: *start = its first byte, *pad = the padding bits;
 * ALCM_E_DST_TOO_SMALL when it does not fit. */
TANS_KERNEL static alcm_status encode_bits(const uint8_t *src, size_t n, const enc_tables *et,
                                           unsigned R, uint8_t *lo, uint8_t *end,
                                           uint8_t **start, uint32_t *pad_out)
{
    const uint32_t T = (uint32_t)1 << R;
    uint8_t *p = end;
    uint64_t acc = 0;
    uint32_t cnt = 0;
    uint64_t x0 = T, x1 = T, x2 = T, x3 = T; /* 64-bit: no zero extensions in the loop */
#define PUT(X, byte)                                                                          \
    do {                                                                                      \
        const enc_sym *s_ = &et->sym[byte];                                                   \
        uint32_t k_ = ((uint32_t)X + (uint32_t)s_->dnb) >> 16; /* the sum is in (0, 2^32) */ \
        uint64_t hi_ = X >> k_;                                                               \
        acc = acc << k_ | (X & (((uint64_t)1 << k_) - 1));                                    \
        cnt += k_;                                                                            \
        X = et->next[(uint32_t)hi_ + (uint32_t)s_->dfs]; /* the sum is an index >= 0 */      \
    } while (0)
#define STORE()                                                                               \
    do {                                                                                      \
        put_u64_le(p - 8, (acc << 1) << (63 - cnt));                                          \
        p -= cnt >> 3;                                                                        \
        cnt &= 7;                                                                             \
    } while (0)
#define FLUSH()                                                                               \
    do {                                                                                      \
        if ((size_t)(p - lo) < 8) return ALCM_E_DST_TOO_SMALL;                                \
        STORE();                                                                              \
    } while (0)
    size_t n4 = n & ~(size_t)3;
    switch (n - n4) { /* the last symbols first: state i mod 4 */
    case 3: PUT(x2, src[n4 + 2]); /* fall through */
    case 2: PUT(x1, src[n4 + 1]); /* fall through */
    case 1: PUT(x0, src[n4]); FLUSH(); /* fall through */
    default: break;
    }
    for (size_t i = n4; i > 0;) {
        size_t room = (size_t)(p - lo);
        if (room < 8) return ALCM_E_DST_TOO_SMALL;
        size_t safe = ((room - 8) / 6 + 1) * 4; /* symbols whose stores stay above lo */
        size_t stop = i > safe ? i - safe : 0;
        const uint8_t *q = src + i, *const qstop = src + stop;
        for (; q > qstop; q -= 4) {
            PUT(x3, q[-1]);
            PUT(x2, q[-2]);
            PUT(x1, q[-3]);
            PUT(x0, q[-4]);
            STORE();
        }
        i = stop;
    }
    /* the final states, state 0 read first, then zero padding to a whole byte */
    acc = acc << R | (x3 - T);
    acc = acc << R | (x2 - T);
    cnt += 2 * R;
    FLUSH();
    acc = acc << R | (x1 - T);
    acc = acc << R | (x0 - T);
    cnt += 2 * R;
    FLUSH();
    uint32_t pad = (8 - cnt) & 7;
    acc <<= pad;
    cnt += pad;
    FLUSH();
#undef PUT
#undef STORE
#undef FLUSH
    *start = p;
    *pad_out = pad;
    return ALCM_OK;
}

alcm_status alcm_tans_encode(const uint8_t *src, size_t n, const uint32_t hist[256], unsigned R,
                             uint8_t *dst, size_t cap, size_t *out)
{
    *out = 0;
    if (n == 0 || R < ALCM_TANS_LOG_MIN || R > ALCM_TANS_LOG) return ALCM_E_ARG;
    const uint32_t T = (uint32_t)1 << R, PART = T / PARTS;
    uint32_t freq[256];
    normalise(hist, n, T, freq);
    uint8_t table[BITMAP + 2 * 256];
    size_t tlen = put_table(freq, table);
    if (cap < tlen + 1 + 8) return ALCM_E_DST_TOO_SMALL;
    uint8_t tab[TMAX];
    uint32_t first[PARTS][256];
    uint8_t sy[256];
    const int ns = present(freq, sy);
    spread(freq, T, tab, first, sy, ns);
    enc_tables et;
    uint32_t total = 0;
    for (int j = 0; j < ns; j++) {
        const int v = sy[j];
        for (int q = 0; q < PARTS; q++) first[q][v] += total; /* becomes the next index */
        if (freq[v] == 1) {
            et.sym[v].dnb = (int32_t)((R << 16) - T);
            et.sym[v].dfs = (int32_t)total - 1;
        } else {
            uint32_t most = R - highbit(freq[v] - 1); /* bits: most or most - 1 */
            et.sym[v].dnb = (int32_t)((most << 16) - (freq[v] << most));
            et.sym[v].dfs = (int32_t)total - (int32_t)freq[v];
        } /* absent values are never looked up */
        total += freq[v];
    }
    /* next[total_v + j] = T + (the j-th slot of v): the parts side by side */
    for (uint32_t u = 0; u < PART; u++)
        for (uint32_t q = 0; q < PARTS; q++) {
            uint32_t w = q * PART + u;
            et.next[first[q][tab[w]]++] = (uint16_t)(T + w);
        }
    uint8_t *const lo = dst + tlen + 1, *p;
    uint32_t pad;
    alcm_status st = encode_bits(src, n, &et, R, lo, dst + cap, &p, &pad);
    if (st != ALCM_OK) return st;
    size_t body = (size_t)(dst + cap - p);
    memmove(lo, p, body);
    memcpy(dst, table, tlen);
    dst[tlen] = (uint8_t)pad;
    *out = tlen + 1 + body;
    return ALCM_OK;
}

/* Decoder view of a slot: the symbol, the bits to read and the next state's base. */
typedef struct {
    uint16_t base;
    uint8_t sym, bits;
} dec_slot;

/* Bits [pos, pos + k) of the little-endian bit stream s[0..len), k <= 16: a 64-bit load
 * while eight bytes remain, byte by byte at the end. The caller has checked that the bits
 * exist. */
static inline uint32_t peek(const uint8_t *s, size_t len, uint64_t pos, uint32_t k)
{
    size_t at = (size_t)(pos >> 3);
    uint64_t w;
    if (len - at >= 8) {
        w = get_u64_le(s + at);
    } else {
        w = 0;
        for (size_t b = 0; at + b < len; b++) w |= (uint64_t)s[at + b] << (8 * b);
    }
    return (uint32_t)(w >> (pos & 7)) & (((uint32_t)1 << k) - 1);
}

alcm_status alcm_tans_decode(const uint8_t *src, size_t len, uint8_t *dst, size_t n, unsigned R)
{
    if (n == 0 || len < BITMAP || R < ALCM_TANS_LOG_MIN || R > ALCM_TANS_LOG)
        return ALCM_E_CORRUPT;
    const uint32_t T = (uint32_t)1 << R, PART = T / PARTS;
    uint32_t freq[256];
    size_t pos = BITMAP;
    uint32_t total = 0;
    for (int v = 0; v < 256; v++) {
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
        if (freq[v] > T - total) return ALCM_E_CORRUPT;
        total += freq[v];
    }
    if (total != T) return ALCM_E_CORRUPT; /* also rejects an empty bitmap */
    if (pos >= len) return ALCM_E_CORRUPT;
    uint32_t pad = src[pos++];
    const uint8_t *s = src + pos;
    const size_t slen = len - pos;
    const uint64_t nbits = (uint64_t)slen * 8;
    if (pad > 7 || nbits < pad + ALCM_TANS_STATES * R) return ALCM_E_CORRUPT;
    if (peek(s, slen, 0, pad) != 0) return ALCM_E_CORRUPT;
    uint8_t tab[TMAX];
    uint32_t first[PARTS][256];
    uint8_t sy[256];
    const int ns = present(freq, sy);
    spread(freq, T, tab, first, sy, ns);
    dec_slot slot[TMAX];
    for (int j = 0; j < ns; j++)
        for (int q = 0; q < PARTS; q++) first[q][sy[j]] += freq[sy[j]];
    /* slot w, the j-th of its symbol v: x = f_v + j in [f_v, 2 f_v); the parts side by
     * side */
    for (uint32_t u = 0; u < PART; u++) {
        for (uint32_t q = 0; q < PARTS; q++) {
            uint32_t w = q * PART + u, v = tab[w], x = first[q][v]++;
            uint32_t k = R - highbit(x);
            slot[w].sym = (uint8_t)v;
            slot[w].bits = (uint8_t)k;
            slot[w].base = (uint16_t)((x << k) - T);
        }
    }
    uint64_t at = pad;
    uint32_t x[ALCM_TANS_STATES];
    for (int k = 0; k < ALCM_TANS_STATES; k++) {
        x[k] = peek(s, slen, at, R);
        at += R;
    }
    uint32_t x0 = x[0], x1 = x[1], x2 = x[2], x3 = x[3];
    /* one step reads at most 12 bits: four steps are safe while 48 bits remain */
#define GET(X, i)                                                                             \
    do {                                                                                      \
        const dec_slot d_ = slot[X];                                                          \
        dst[i] = d_.sym;                                                                      \
        X = d_.base + peek(s, slen, at, d_.bits);                                             \
        at += d_.bits;                                                                        \
    } while (0)
#define GET_CHECKED(X, i)                                                                     \
    do {                                                                                      \
        const dec_slot d_ = slot[X];                                                          \
        if (nbits - at < d_.bits) return ALCM_E_CORRUPT;                                      \
        dst[i] = d_.sym;                                                                      \
        X = d_.base + peek(s, slen, at, d_.bits);                                             \
        at += d_.bits;                                                                        \
    } while (0)
    size_t n4 = n & ~(size_t)3, i = 0;
    for (; i < n4 && nbits - at >= 4 * ALCM_TANS_LOG; i += 4) {
        GET(x0, i);
        GET(x1, i + 1);
        GET(x2, i + 2);
        GET(x3, i + 3);
    }
    for (; i < n4; i += 4) {
        GET_CHECKED(x0, i);
        GET_CHECKED(x1, i + 1);
        GET_CHECKED(x2, i + 2);
        GET_CHECKED(x3, i + 3);
    }
    switch (n - n4) {
    case 3: GET_CHECKED(x0, n4); GET_CHECKED(x1, n4 + 1); GET_CHECKED(x2, n4 + 2); break;
    case 2: GET_CHECKED(x0, n4); GET_CHECKED(x1, n4 + 1); break;
    case 1: GET_CHECKED(x0, n4); break;
    default: break;
    }
#undef GET
#undef GET_CHECKED
    if (at != nbits || x0 || x1 || x2 || x3) return ALCM_E_CORRUPT;
    return ALCM_OK;
}
