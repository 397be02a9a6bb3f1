/* format.h - the blob container of docs/FORMAT.md: header, codec sections, stream headers
 * and the CRC32 trailer (internal). */
#ifndef ALCM_FORMAT_H
#define ALCM_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "alcm.h"

#define ALCM_FORMAT_VERSION 2      /* written; version 1 blobs are still read */
#define ALCM_FORMAT_VERSION_V1 1

typedef enum {
    ALCM_CODEC_GRADIENT = 1,
    ALCM_CODEC_LOSSLESS_FLOAT = 2,
    ALCM_CODEC_LOSSLESS_BYTES = 3,
    ALCM_CODEC_BASELINE = 4,
    ALCM_CODEC_SEGMENTED = 5
} alcm_codec;

#define ALCM_HEADER_FIXED 28      /* header bytes before the dims */
#define ALCM_CRC_SIZE 4
#define ALCM_SECTION_GRADIENT 48
#define ALCM_SECTION_LOSSLESS 8   /* lossless-float and lossless-bytes */
#define ALCM_SECTION_SEGMENTED 24
#define ALCM_STREAM_HEADER 9      /* method u8 + size u64 */
#define ALCM_BLOB_MIN (ALCM_HEADER_FIXED + ALCM_CRC_SIZE)          /* version 1 */
#define ALCM_BLOB_MIN_V2 (ALCM_HEADER_FIXED + 2 * ALCM_CRC_SIZE)  /* version 2 */
#define ALCM_UNIT_MAX ((uint32_t)1 << 26)  /* largest segment (elements) / chunk (bytes) */

/* Largest possible header + section + header CRC (rank 8, gradient). */
#define ALCM_PREFIX_MAX \
    (ALCM_HEADER_FIXED + 8 * ALCM_MAX_RANK + ALCM_SECTION_GRADIENT + ALCM_CRC_SIZE)

#define ALCM_STREAM_STORED 0
#define ALCM_STREAM_CODED 1
#define ALCM_STREAM_TANS 2  /* order-0 tANS: lossless-float planes only */
#define ALCM_STREAM_TANS_SIZED 3 /* the same with a stated table size: lossless-float planes */
#define ALCM_STREAM_RUNS 4 /* runs as tokens + order-0 tANS: gradient code streams only */

#define ALCM_GRAD_LAYOUT_CLASSES 1  /* width classes with escapes */
#define ALCM_LF_TRANSFORM_PLANES 0  /* plain byte planes */
#define ALCM_LF_TRANSFORM_ROTATE 1  /* top 16 bits rotated left by one, then byte planes */

/* Gradient codec section. */
typedef struct {
    double budget;
    double achieved;
    uint64_t channel_len;
    uint32_t n_channels;
    uint8_t layout;
    uint64_t escapes;
    uint64_t param_bytes;
} alcm_grad_section;

/* Segmented gradient codec section. */
typedef struct {
    double budget;
    double max_error;         /* largest achieved error of a segment */
    uint32_t count;           /* segments (inner blobs) */
} alcm_seg_section;

/* A blob's header and section, as written or as parsed and validated. */
typedef struct {
    uint8_t version;          /* 1 or 2 (parsed); written blobs are ALCM_FORMAT_VERSION */
    uint8_t codec;            /* alcm_codec */
    uint8_t dtype;            /* alcm_dtype */
    uint8_t backend;          /* alcm_backend (ZLIB or ZSTD) */
    alcm_shape shape;
    uint64_t numel;
    uint64_t raw_size;
    uint64_t blob_size;
    size_t payload_off;       /* first payload byte (header + section [+ header CRC]) */
    size_t payload_end;       /* blob_size - 4: first CRC byte */
    alcm_grad_section grad;   /* codec 1 */
    alcm_seg_section seg;     /* codec 5 */
    uint32_t unit;            /* codec 2: segment elements; codec 3: chunk bytes */
    uint8_t transform;        /* codec 2 */
} alcm_frame;

/* Section bytes of a codec (0 for an unknown codec). */
size_t alcm_frame_section_size(int codec);

/* Bytes before the payload of a blob written now (version 2): header + section + header
 * CRC, for a rank and codec. */
size_t alcm_frame_prefix_size(uint32_t rank, int codec);

/* Writes header + section of f at dst (alcm_frame_prefix_size bytes). The blob-size field
 * is written from f->blob_size; alcm_frame_seal can patch it later. */
void alcm_frame_write(uint8_t *dst, const alcm_frame *f);

/* Sets the blob-size field of blob to blob_size and writes its checksums: for version 2
 * (blob[4]) the header CRC32 after the section and the payload CRC32 into the last 4 bytes;
 * for version 1 the CRC32 of everything into the last 4 bytes. */
void alcm_frame_seal(uint8_t *blob, size_t blob_size);

/* Completes a blob whose payload ends at dst[payload_end]: sets f->blob_size to
 * payload_end + ALCM_CRC_SIZE, writes the prefix of f (alcm_frame_write), seals the blob
 * (alcm_frame_seal) and stores its size in *len. */
void alcm_frame_finish(uint8_t *dst, alcm_frame *f, size_t payload_end, size_t *len);

/* Version 2 only: alcm_frame_finish with the payload CRC32 given (computed from parts by
 * the caller, alcm_crc32_combine) instead of read from the payload. */
void alcm_frame_finish_crc(uint8_t *dst, alcm_frame *f, size_t payload_end,
                           uint32_t payload_crc, size_t *len);

/* CRC32 of bytes A then B, from crc(A), crc(B) and B's length (zlib's crc32_combine). */
uint32_t alcm_crc32_combine(uint32_t a, uint32_t b, size_t len_b);

/* CRC32 of all len bytes of a version 2 blob whose header alcm_frame_parse accepted,
 * computed from its prefix, its stored payload CRC and its last 4 bytes: no pass over the
 * payload. Equal to the CRC of the bytes when the payload CRC is right (checked
 * separately by alcm_frame_check_payload). */
uint32_t alcm_blob_crc_v2(const uint8_t *b, size_t len);

/* Parses and validates header and section (docs/FORMAT.md): version 2 checks the header
 * CRC only (no pass over the payload), version 1 the CRC of the whole blob. */
alcm_status alcm_frame_parse(const void *blob, size_t len, alcm_frame *f);

/* Version 2: checks the payload CRC of a blob alcm_frame_parse accepted (ALCM_E_CHECKSUM);
 * version 1: ALCM_OK (its CRC was checked by the parse). */
alcm_status alcm_frame_check_payload(const void *blob, const alcm_frame *f);

/* The profile a codec belongs to. */
alcm_profile alcm_codec_profile(int codec);

/* A stream of the payload: where its data are and how they are stored. */
typedef struct {
    uint8_t method;           /* ALCM_STREAM_STORED / ALCM_STREAM_CODED */
    const uint8_t *data;
    size_t size;              /* bytes of data */
    uint64_t decoded;         /* decoded bytes expected */
} alcm_stream_ref;

/* Writes a stream header. */
void alcm_stream_header_put(uint8_t *p, uint8_t method, uint64_t size);

/* Takes the stream that starts at blob[*pos] (decoded size `decoded`, payload ending at
 * `end`), checks its header and advances *pos past it. ALCM_E_CORRUPT on a bad method, a
 * size beyond `end`, a stored size != decoded, or an empty coded stream. */
alcm_status alcm_stream_take(const uint8_t *blob, size_t *pos, size_t end, uint64_t decoded,
                             alcm_stream_ref *out);

#endif /* ALCM_FORMAT_H */
