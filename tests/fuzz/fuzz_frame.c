/* fuzz_frame.c - fuzz target for the alcmd frame codec (proto/wire.c): the input is a byte
 * stream cut into frames the way alcmd reads a connection (prefix, header, payload); each
 * header is parsed as a request (as the daemon does, then converted to a tensor and
 * stream config) and as a reply (as libalcmc does), and each payload as a Stats report. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

#define FUZZ_MAX_PAYLOAD ((uint64_t)1 << 20)

/* A copy of exactly n bytes, so reading past a field is caught by the sanitizers. */
static uint8_t *dup_exact(const uint8_t *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    if (d && n) memcpy(d, p, n);
    return d;
}

static void parse_request(const uint8_t *hdr, size_t len, uint64_t payload_len)
{
    Alcmwire__Request *req;
    uint64_t id;
    char msg[ALCM_WIRE_MAX_MESSAGE_TEXT];
    if (alcm_wire_request_parse(hdr, len, payload_len, &req, &id, msg, sizeof msg) !=
        ALCMWIRE__ERROR_CODE__ERR_NONE)
        return;
    if (req->op == ALCMWIRE__OP__OP_COMPRESS) {
        alcm_dtype dtype;
        alcm_shape shape;
        uint64_t nbytes;
        alcm_stream_config cfg;
        if (alcm_wire_tensor_read(req->tensor, &dtype, &shape, &nbytes) ==
                ALCMWIRE__ERROR_CODE__ERR_NONE &&
            nbytes == payload_len)
            alcm_wire_config_read(req->config, dtype, 1, &cfg, msg, sizeof msg);
    }
    alcm_wire_request_free(req);
}

static void parse_reply(const uint8_t *hdr, size_t len)
{
    Alcmwire__Reply *r;
    if (alcm_wire_reply_parse(hdr, len, &r) != 0) return;
    (void)alcm_wire_error_name(r->error);
    (void)alcm_wire_op_name(r->op);
    if (r->decompress && r->decompress->tensor) {
        alcm_dtype dtype;
        alcm_shape shape;
        uint64_t nbytes;
        alcm_wire_tensor_read(r->decompress->tensor, &dtype, &shape, &nbytes);
    }
    alcm_wire_reply_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;
    for (int frames = 0; frames < 64 && size - off >= ALCM_WIRE_PREFIX_SIZE; frames++) {
        alcm_wire_prefix p;
        alcm_wire_error e = alcm_wire_prefix_read(data + off, FUZZ_MAX_PAYLOAD, &p);
        off += ALCM_WIRE_PREFIX_SIZE;
        if (e != ALCMWIRE__ERROR_CODE__ERR_NONE) break;
        size_t hlen = p.header_len <= size - off ? p.header_len : size - off;
        uint8_t *hdr = dup_exact(data + off, hlen);
        off += hlen;
        size_t plen = p.payload_len <= size - off ? (size_t)p.payload_len : size - off;
        if (hdr) {
            parse_request(hdr, hlen, p.payload_len);
            parse_reply(hdr, hlen);
            free(hdr);
        }
        uint8_t *payload = dup_exact(data + off, plen);
        if (payload) {
            Alcmwire__Stats *st = alcmwire__stats__unpack(NULL, plen, payload);
            if (st) alcmwire__stats__free_unpacked(st, NULL);
            free(payload);
        }
        off += plen;
    }
    return 0;
}
