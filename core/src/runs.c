/* runs.c - stream method 4 (docs/FORMAT.md): every maximal run of one byte value v becomes
 * a single v among the other bytes (the symbols) plus a run token (its length's bucket
 * floor(log2 L), and L's bits below the top one raw). The symbols go through zstd with its
 * match finder skipped (Huffman literals), the buckets through the static order-0 tANS of
 * tans.c (a skewed alphabet of a few values, where Huffman codes lose most). On
 * quantisation codes, whose zero code comes in runs, zstd's match finder only ever finds
 * those runs: cut out beforehand, they cost one pass, and zstd codes the rest as literals at
 * the same ratio in far fewer instructions (docs/DESIGN.md, "Entropy stage"). */
#include "runs.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <string.h>

#include "tans.h"

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull
#define HEAD_MAX (2 + 3 * 10) /* v, the bucket table log, three varints */
#define BUCKET_MAX 31
/* Method 4 is written when the run value is at least RUNS_SHARE_NUM / RUNS_SHARE_DEN of the
 * bytes (docs/FORMAT.md, docs/DESIGN.md "Entropy stage of the code streams"). */
#define RUNS_SHARE_NUM 13
#define RUNS_SHARE_DEN 20

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

static inline void store64(uint8_t *p, uint64_t w) { memcpy(p, &w, 8); }

/* Bytes of w (little-endian word of 8 input bytes, already xored with the run value in every
 * byte) that are zero flagged by their top bit; the lowest flag is exact. */
static inline uint64_t zero_bytes(uint64_t w) { return (w - ONES) & ~w & HIGHS; }

static inline int little_endian(void)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return 1;
#else
    return 0;
#endif
}

/* Table log of the bucket stream of `count` tokens: a table's set-up costs about as much as
 * coding as many bytes as it has slots. */
static unsigned table_log(size_t count) { return count <= ((size_t)1 << 13) ? 9 : 10; }

size_t alcm_runs_scratch(size_t n)
{
    /* symbols (n + 8 for word stores), buckets ((n + 1) / 2), raw bits (n bits + a word) */
    if (n > (SIZE_MAX - 64) / 2) return 0;
    return n + 8 + (n + 1) / 2 + 8 + n / 8 + 16;
}

static size_t put_varint(uint8_t *p, uint64_t x)
{
    size_t k = 0;
    while (x >= 0x80) {
        p[k++] = (uint8_t)(x | 0x80);
        x >>= 7;
    }
    p[k++] = (uint8_t)x;
    return k;
}

/* Canonical LEB128 of at most 10 bytes that fits in 64 bits: bytes used, 0 if invalid. */
static size_t get_varint(const uint8_t *p, size_t len, uint64_t *out)
{
    uint64_t x = 0;
    for (size_t k = 0; k < len && k < 10; k++) {
        uint64_t b = p[k];
        if (k == 9 && b > 1) return 0;
        x |= (b & 0x7F) << (7 * k);
        if (!(b & 0x80)) {
            if (k > 0 && b == 0) return 0; /* not the shortest form */
            *out = x;
            return k + 1;
        }
    }
    return 0;
}

/* Run tokens being written: buckets and raw bits. */
typedef struct {
    uint8_t *bk, *raw;
    size_t K, rb;
    uint64_t acc;
    unsigned cnt;
} tokens;

/* The token of a run of L (1 .. ALCM_RUNS_RUN_MAX) bytes: its bucket and raw bits. */
static inline void put_token(tokens *t, uint32_t L)
{
    unsigned b = 31u - (unsigned)__builtin_clz(L);
    t->bk[t->K++] = (uint8_t)b;
    t->acc |= (uint64_t)(L ^ ((uint32_t)1 << b)) << t->cnt;
    t->cnt += b;
    if (t->cnt >= 32) {
        uint32_t w = (uint32_t)t->acc;
        memcpy(t->raw + t->rb, &w, 4);
        t->rb += 4;
        t->acc >>= 32;
        t->cnt -= 32;
    }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(ALCM_NO_CLONES)
#include <immintrin.h>
#define RUNS_BLOCKS 1
/* 64 bytes at a time with SSSE3 (any x86-64 CPU since 2006, checked at run time): the
 * bytes equal to v as a 64-bit mask M, the run continuations C = M & (M << 1 | carry)
 * dropped from the symbols by a byte shuffle per 8 bytes (no branch), and the runs read
 * off the mask's starts and ends: the same symbols and tokens as the word loop, without
 * its mispredicted branch per run. Returns the position reached (not inside a run); n <=
 * ALCM_RUNS_RUN_MAX, so no run needs cutting. */
__attribute__((target("ssse3,popcnt"))) static size_t runs_blocks(const uint8_t *src,
                                                                   size_t n, uint8_t v,
                                                                   uint8_t *sym, size_t *pm,
                                                                   tokens *t,
                                                                   const uint8_t (*lut)[8])
{
    const __m128i vv = _mm_set1_epi8((char)v);
    size_t i = 0, m = *pm, rs = 0;
    uint64_t carry = 0; /* the byte before the block is v: a run is open, started at rs */
    for (; n - i >= 64; i += 64) {
        uint64_t M = 0;
        for (int q = 0; q < 4; q++) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(src + i + 16 * q));
            M |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, vv)) << (16 * q);
        }
        const uint64_t P = M << 1 | carry, keep = ~(M & P);
        for (int q = 0; q < 8; q++) {
            unsigned k8 = (unsigned)(keep >> (8 * q)) & 0xFF;
            __m128i x = _mm_loadl_epi64((const __m128i *)(const void *)(src + i + 8 * q));
            __m128i c = _mm_loadl_epi64((const __m128i *)(const void *)lut[k8]);
            _mm_storel_epi64((__m128i *)(void *)(sym + m), _mm_shuffle_epi8(x, c));
            m += (size_t)__builtin_popcount(k8);
        }
        uint64_t S = M & ~P, E = ~M & P; /* run starts; first bytes after a run */
        while (E) {
            if (!carry) {
                rs = i + (size_t)__builtin_ctzll(S);
                S &= S - 1;
            }
            put_token(t, (uint32_t)(i + (size_t)__builtin_ctzll(E) - rs));
            E &= E - 1;
            carry = 0;
        }
        if (S) rs = i + (size_t)__builtin_ctzll(S);
        carry = M >> 63;
    }
    if (carry) { /* the open run ends in the tail */
        while (i < n && src[i] == v) i++;
        put_token(t, (uint32_t)(i - rs));
    }
    *pm = m;
    return i;
}

/* lut[k]: the positions of k's set bits in increasing order, then 0x80 (a zero byte). */
static void make_lut(uint8_t lut[256][8])
{
    for (unsigned k = 0; k < 256; k++) {
        unsigned j = 0;
        for (unsigned b = 0; b < 8; b++)
            if (k >> b & 1) lut[k][j++] = (uint8_t)b;
        for (; j < 8; j++) lut[k][j] = 0x80;
    }
}
#endif

/* zstd for the symbols: level 1 with the match finder skipped (order0 = 3 in backend.c) */
static const alcm_coder SYMBOLS = {ALCM_BACKEND_ZSTD, 1, 0, 3};

/* Cuts src[0..n) into symbols (sym, n + 8 bytes of room) and run tokens (t); returns the
 * symbol count. lut: make_lut's table when the CPU has SSSE3 and POPCNT, else NULL. */
static size_t tokenise(const uint8_t *src, size_t n, uint8_t v, uint8_t *sym, tokens *t,
                       const uint8_t (*lut)[8])
{
    const uint64_t vv = ONES * v;
    size_t i = 0, m = 0;
#ifdef RUNS_BLOCKS
    if (lut && n <= ALCM_RUNS_RUN_MAX) i = runs_blocks(src, n, v, sym, &m, t, lut);
#else
    (void)lut;
#endif
    /* eight bytes at a time while eight remain (m <= i: the stores stay within n + 8) */
    while (n - i >= 8) {
        uint64_t w = load64(src + i), z = zero_bytes(w ^ vv);
        store64(sym + m, w);
        if (!z) {
            m += 8;
            i += 8;
            continue;
        }
        size_t k = (size_t)__builtin_ctzll(z) >> 3, j;
        if (k < 7 && !(z >> (8 * k + 8) & 0x80)) {
            /* a single v inside the word (half the runs of gradient codes): it is already
             * among the stored symbols, and its token is bucket 0 with no raw bits. A zero
             * byte is always flagged, but a flag above the lowest may be false, so a flagged
             * next byte takes the general path, which compares the bytes themselves. */
            m += k + 1;
            i += k + 1;
            t->bk[t->K++] = 0;
            continue;
        }
        m += k;
        i += k; /* src[i] == v: find the run's end j */
        for (j = i + 1;; j += 8) {
            if (n - j < 8) {
                while (j < n && src[j] == v) j++;
                break;
            }
            uint64_t x = load64(src + j) ^ vv;
            if (x) {
                j += (size_t)__builtin_ctzll(x) >> 3;
                break;
            }
        }
        size_t L = j - i;
        i = j;
        for (; L > ALCM_RUNS_RUN_MAX; L -= ALCM_RUNS_RUN_MAX) {
            sym[m++] = v;
            put_token(t, ALCM_RUNS_RUN_MAX);
        }
        sym[m++] = v;
        put_token(t, (uint32_t)L);
    }
    while (i < n) { /* the last bytes one at a time */
        if (src[i] != v) {
            sym[m++] = src[i++];
            continue;
        }
        size_t j = i + 1;
        while (j < n && src[j] == v) j++;
        sym[m++] = v;
        put_token(t, (uint32_t)(j - i));
        i = j;
    }
    return m;
}

/* Whether cutting the runs pays: where v is 65 % of the bytes or more, zstd's Huffman
 * literals cannot code it in under a bit, and cutting the runs wins (-0.1 to -12 % on
 * grad_fmnist's code streams at 1 % and 5 % budgets). Below that, no rule from the run
 * counts separated the streams that win from those that lose: sparse streams of 10-100 KiB
 * with a quarter to a half of zero bytes and runs of 3-8 win by up to 0.8 % at a 1 % budget
 * and lose up to 6 % at 5 % (zstd's matches and Huffman table fit them better than the
 * tokens' raw bits), so they keep zstd with its match finder. */
static int runs_pay(const uint8_t *src, size_t n, uint8_t v)
{
    size_t h = 0, i = 0;
#if defined(__SSE2__)
    /* sixteen bytes at a time: per-lane counts for at most 255 steps, then summed */
    const __m128i vv = _mm_set1_epi8((char)v), zero = _mm_setzero_si128();
    while (n - i >= 16) {
        size_t steps = (n - i) / 16;
        if (steps > 255) steps = 255;
        __m128i acc = zero;
        for (size_t k = 0; k < steps; k++, i += 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(src + i));
            acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(x, vv));
        }
        __m128i sums = _mm_sad_epu8(acc, zero);
        h += (size_t)_mm_extract_epi16(sums, 0) + (size_t)_mm_extract_epi16(sums, 4);
    }
#endif
    for (; i < n; i++) h += src[i] == v;
    return (uint64_t)h * RUNS_SHARE_DEN >= (uint64_t)n * RUNS_SHARE_NUM;
}

alcm_status alcm_runs_encode(alcm_backend_enc *e, const uint8_t *src, size_t n, uint8_t v,
                             int judge, uint8_t *scratch, uint8_t *dst, size_t cap, size_t *out)
{
    *out = 0;
    if (n == 0 || !little_endian()) return ALCM_E_ARG;
    uint8_t *sym = scratch;
    tokens t = {scratch + n + 8, scratch + n + 8 + (n + 1) / 2 + 8, 0, 0, 0, 0};
    const uint8_t(*lut)[8] = NULL;
#ifdef RUNS_BLOCKS
    uint8_t table[256][8];
    if (__builtin_cpu_supports("ssse3") && __builtin_cpu_supports("popcnt")) {
        make_lut(table);
        lut = (const uint8_t(*)[8])table;
    }
#endif
    if (judge && !runs_pay(src, n, v)) return ALCM_OK;
    size_t m = tokenise(src, n, v, sym, &t, lut);
    while (t.cnt > 0) {
        t.raw[t.rb++] = (uint8_t)t.acc;
        t.acc >>= 8;
        t.cnt = t.cnt > 8 ? t.cnt - 8 : 0;
    }
    const size_t K = t.K, rb = t.rb;
    const uint8_t *bk = t.bk, *raw = t.raw;
    /* header, raw bits, the symbols' zstd frame, the buckets' tANS data */
    const unsigned rk = K ? table_log(K) : 0;
    uint8_t head[HEAD_MAX];
    size_t h = 0;
    head[h++] = v;
    head[h++] = (uint8_t)rk;
    h += put_varint(head + h, m);
    h += put_varint(head + h, K);
    h += put_varint(head + h, rb);
    if (cap < h || rb > cap - h) return ALCM_E_DST_TOO_SMALL;
    memcpy(dst, head, h);
    memcpy(dst + h, raw, rb);
    size_t at = h + rb, a = 0, b = 0;
    alcm_status st = alcm_backend_compress(e, &SYMBOLS, sym, m, dst + at, cap - at, &a);
    if (st != ALCM_OK) return st;
    at += a;
    if (K) {
        uint32_t hist[256];
        alcm_tans_histogram(bk, K, hist);
        st = alcm_tans_encode(bk, K, hist, rk, dst + at, cap - at, &b);
        if (st != ALCM_OK) return st;
        at += b;
    }
    *out = at;
    return ALCM_OK;
}

/* The expansion found the marker symbol v at c places past j. A run of one (bucket 0 and
 * no raw bits) needs nothing more: v is already stored at w + c, so both cursors step past
 * it and the bucket is used up; 1 then. Otherwise the cursors stop on it for the run's
 * length to be read; 0. */
static inline __attribute__((always_inline)) int to_marker(size_t c, const uint8_t *bk,
                                                           uint64_t K, size_t *r, size_t *w,
                                                           size_t *j)
{
    if (*r < K && bk[*r] == 0) {
        ++*r;
        *w += c + 1;
        *j += c + 1;
        return 1;
    }
    *w += c;
    *j += c;
    return 0;
}

alcm_status alcm_runs_decode(alcm_backend_dec *d, const uint8_t *src, size_t len, uint8_t *dst,
                             size_t n, alcm_buf *scratch)
{
    if (n == 0 || len < 5 || !little_endian()) return ALCM_E_CORRUPT;
    const uint8_t v = src[0];
    const unsigned rk = src[1];
    size_t pos = 2, k;
    uint64_t m, K, X;
    if (!(k = get_varint(src + pos, len - pos, &m))) return ALCM_E_CORRUPT;
    pos += k;
    if (!(k = get_varint(src + pos, len - pos, &K))) return ALCM_E_CORRUPT;
    pos += k;
    if (!(k = get_varint(src + pos, len - pos, &X))) return ALCM_E_CORRUPT;
    pos += k;
    if (m == 0 || m > n || K > m || X > len - pos || (K == 0) != (rk == 0))
        return ALCM_E_CORRUPT;
    const uint8_t *xp = src + pos, *const xend = xp + X;
    pos += (size_t)X;
    /* the frame's end is found from its block headers; it must leave room for the buckets
     * exactly when there are runs */
    size_t a = ZSTD_findFrameCompressedSize(src + pos, len - pos);
    if (ZSTD_isError(a) || a > len - pos || (K == 0) != (a == len - pos)) return ALCM_E_CORRUPT;
    if (alcm_buf_reserve(scratch, (size_t)m + 8 + (size_t)K + 8)) return ALCM_E_NOMEM;
    uint8_t *sym = scratch->p, *bk = sym + m + 8;
    alcm_stream_ref ref = {ALCM_STREAM_CODED, src + pos, a, m};
    alcm_status st = alcm_stream_decode(d, ALCM_BACKEND_ZSTD, &ref, sym);
    if (st != ALCM_OK) return st == ALCM_E_NOMEM ? st : ALCM_E_CORRUPT;
    pos += a;
    uint64_t E = 0;
    if (K) {
        st = alcm_tans_decode(src + pos, len - pos, bk, (size_t)K, rk);
        if (st != ALCM_OK) return st;
        unsigned worst = 0;
        for (size_t j = 0; j < K; j++) {
            worst |= bk[j];
            E += bk[j];
        }
        if (worst > BUCKET_MAX) return ALCM_E_CORRUPT; /* 31 | anything <= 31 stays <= 31 */
    }
    if (X != (E + 7) / 8) return ALCM_E_CORRUPT;
    /* expansion: symbols other than v eight at a time while eight fit in the output */
    const uint64_t vv = ONES * v;
    uint64_t acc = 0;
    unsigned nb = 0;
    size_t j = 0, w = 0, r = 0;
#if defined(__SSE2__)
    const __m128i v16 = _mm_set1_epi8((char)v);
#endif
    while (j < m) {
#if defined(__SSE2__)
        while (m - j >= 16 && n - w >= 16) { /* sixteen at a time (SSE2: every x86-64) */
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(sym + j));
            unsigned z = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, v16));
            _mm_storeu_si128((__m128i *)(void *)(dst + w), x);
            if (z) {
                if (to_marker((size_t)__builtin_ctz(z), bk, K, &r, &w, &j)) continue;
                goto run;
            }
            w += 16;
            j += 16;
        }
#endif
        while (m - j >= 8 && n - w >= 8) {
            uint64_t x = load64(sym + j), z = zero_bytes(x ^ vv);
            store64(dst + w, x);
            if (z) {
                if (to_marker((size_t)__builtin_ctzll(z) >> 3, bk, K, &r, &w, &j)) continue;
                goto run;
            }
            w += 8;
            j += 8;
        }
        if (j == m) break;
        if (sym[j] != v) {
            if (w >= n) return ALCM_E_CORRUPT;
            dst[w++] = sym[j++];
            continue;
        }
    run:;
        if (r == K) return ALCM_E_CORRUPT; /* more runs than stated */
        unsigned bb = bk[r++];
        while (nb < bb) { /* E bits exist in total (checked), so these bytes exist */
            acc |= (uint64_t)*xp++ << nb;
            nb += 8;
        }
        uint64_t L = ((uint64_t)1 << bb) + (acc & (((uint64_t)1 << bb) - 1));
        acc >>= bb;
        nb -= bb;
        if (L > n - w) return ALCM_E_CORRUPT;
        if (L <= 16 && n - w >= 16) { /* most runs are short: two stores, no call */
            store64(dst + w, vv);
            store64(dst + w + 8, vv);
        } else {
            memset(dst + w, v, (size_t)L);
        }
        w += (size_t)L;
        j++;
    }
    if (w != n || r != K || xp != xend || acc != 0) return ALCM_E_CORRUPT; /* padding: 0 */
    return ALCM_OK;
}
