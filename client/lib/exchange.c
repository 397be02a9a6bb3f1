/* exchange.c - one request/reply round trip on a daemon connection: frame out, frame in. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "internal.h"

/* Largest payload the client accepts into an allocated buffer (a stats report). */
#define ALCMC_MAX_ALLOC_PAYLOAD ((size_t)256 << 20)

alcmc_status alcmc__fail(alcmc_conn *c, alcmc_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->message, sizeof c->message, fmt, ap);
    va_end(ap);
    return status;
}

alcmc_status alcmc__begin(alcmc_conn *c)
{
    c->codec_status = ALCM_OK;
    if (c->broken != ALCMC_OK)
        return alcmc__fail(c, ALCMC_E_BROKEN, "connection unusable after: %s",
                           alcmc_strerror(c->broken));
    c->message[0] = '\0';
    return ALCMC_OK;
}

/* Marks the connection unusable when status means the byte stream is lost. */
static alcmc_status broke(alcmc_conn *c, alcmc_status status)
{
    if (status != ALCMC_OK && c->broken == ALCMC_OK) c->broken = status;
    return status;
}

/* Reads one reply frame. expect_id/expect_op: what a success must answer; an error reply
 * is accepted with that id or id 0 (frame-level errors). */
static alcmc_status read_reply(alcmc_conn *c, uint64_t expect_id, Alcmwire__Op expect_op,
                               alcmc_sink *sink, Alcmwire__Reply **reply_out)
{
    uint8_t prefix[ALCM_WIRE_PREFIX_SIZE];
    alcmc_status st = alcmc__recv_exact(c, prefix, sizeof prefix, NULL);
    if (st != ALCMC_OK) return broke(c, st);
    alcm_wire_prefix p;
    alcm_wire_error e = alcm_wire_prefix_read(prefix, UINT64_MAX, &p);
    if (e != ALCMWIRE__ERROR_CODE__ERR_NONE)
        return broke(c, alcmc__fail(c, ALCMC_E_PROTOCOL, "reply frame rejected: %s",
                                    alcm_wire_error_name(e)));

    uint8_t *hdr = malloc(p.header_len ? p.header_len : 1);
    if (!hdr) return broke(c, alcmc__fail(c, ALCMC_E_NOMEM, "reply header allocation"));
    st = alcmc__recv_exact(c, hdr, p.header_len, NULL);
    if (st != ALCMC_OK) {
        free(hdr);
        return broke(c, st);
    }
    Alcmwire__Reply *r;
    int bad = alcm_wire_reply_parse(hdr, p.header_len, &r);
    free(hdr);
    if (bad) return broke(c, alcmc__fail(c, ALCMC_E_PROTOCOL, "reply header is not a Reply"));

    if (r->op == ALCMWIRE__OP__OP_ERROR) {
        alcm_wire_error code = r->error;
        c->codec_status = (alcm_status)r->alcm_status;
        snprintf(c->message, sizeof c->message, "%s: %.*s", alcm_wire_error_name(code),
                 (int)ALCM_WIRE_MAX_MESSAGE_TEXT, r->message ? r->message : "");
        int ok_id = r->request_id == expect_id || r->request_id == 0;
        alcm_wire_reply_free(r);
        if (!ok_id)
            return broke(c, alcmc__fail(c, ALCMC_E_PROTOCOL, "error reply for request %llu",
                                        (unsigned long long)expect_id));
        alcmc_status mapped = alcmc__status_from_wire(code);
        if (mapped == ALCMC_OK) mapped = ALCMC_E_PROTOCOL;
        if (alcmc__wire_error_fatal(code)) return broke(c, mapped);
        st = alcmc__drain(c, p.payload_len);
        return st != ALCMC_OK ? broke(c, st) : mapped;
    }
    if (r->request_id != expect_id || r->op != expect_op) {
        alcmc__fail(c, ALCMC_E_PROTOCOL, "reply %s for request %llu, expected %s for %llu",
                    alcm_wire_op_name(r->op), (unsigned long long)r->request_id,
                    alcm_wire_op_name(expect_op), (unsigned long long)expect_id);
        alcm_wire_reply_free(r);
        return broke(c, ALCMC_E_PROTOCOL);
    }

    if (p.payload_len > 0) {
        if (!sink || (sink->alloc && p.payload_len > sink->cap)) {
            alcm_wire_reply_free(r);
            return broke(c, alcmc__fail(c, ALCMC_E_PROTOCOL,
                                        "unexpected reply payload of %llu bytes",
                                        (unsigned long long)p.payload_len));
        }
        if (!sink->alloc && p.payload_len > sink->cap) {
            alcm_wire_reply_free(r);
            st = alcmc__drain(c, p.payload_len);
            if (st != ALCMC_OK) return broke(c, st);
            return alcmc__fail(c, ALCMC_E_DST_TOO_SMALL, "result is %llu bytes, buffer %zu",
                               (unsigned long long)p.payload_len, sink->cap);
        }
        void *dst = sink->dst;
        if (sink->alloc) {
            sink->allocated = malloc((size_t)p.payload_len);
            if (!sink->allocated) {
                alcm_wire_reply_free(r);
                return broke(c, alcmc__fail(c, ALCMC_E_NOMEM, "reply payload allocation"));
            }
            dst = sink->allocated;
        }
        st = alcmc__recv_exact(c, dst, (size_t)p.payload_len, NULL);
        if (st != ALCMC_OK) {
            alcm_wire_reply_free(r);
            if (sink->alloc) {
                free(sink->allocated);
                sink->allocated = NULL;
            }
            return broke(c, st);
        }
    }
    if (sink) sink->len = (size_t)p.payload_len;
    *reply_out = r;
    return ALCMC_OK;
}

alcmc_status alcmc__exchange(alcmc_conn *c, Alcmwire__Request *req, const void *payload,
                             size_t payload_len, int pass_fd, Alcmwire__Op expect,
                             alcmc_sink *sink, Alcmwire__Reply **reply)
{
    *reply = NULL;
    if (sink && sink->alloc && sink->cap == 0) sink->cap = ALCMC_MAX_ALLOC_PAYLOAD;
    req->request_id = ++c->next_id;
    size_t frame_len;
    uint8_t *frame = alcm_wire_frame_pack(&req->base, payload_len, &frame_len);
    if (!frame) return alcmc__fail(c, ALCMC_E_NOMEM, "request header allocation");
    struct iovec iov[2] = {{frame, frame_len}, {(void *)payload, payload_len}};
    alcmc_status st = alcmc__send_all(c, iov, payload_len ? 2 : 1, pass_fd);
    free(frame);
    if (st == ALCMC_E_DAEMON_GONE) {
        /* The daemon may have said why before closing (denied, shutting down ...). */
        Alcmwire__Reply *r = NULL;
        alcmc_status why = read_reply(c, req->request_id, expect, NULL, &r);
        alcm_wire_reply_free(r);
        if (why != ALCMC_E_DAEMON_GONE && why != ALCMC_E_PROTOCOL && why != ALCMC_OK)
            return broke(c, why);
        alcmc__fail(c, ALCMC_E_DAEMON_GONE, "the daemon closed the connection");
    }
    if (st != ALCMC_OK) return broke(c, st);
    return read_reply(c, req->request_id, expect, sink, reply);
}
