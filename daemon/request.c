/* request.c - a request's life in alcmd and every in-flight reservation (request.h). */
#include "request.h"

#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "server.h"
#include "session.h"

void alcmd_requests_init(alcmd_server *srv)
{
    alcmd_inflight_init(&srv->mem, &srv->cfg.inflight_cap);
}

void alcmd_requests_free(alcmd_server *srv)
{
    alcmd_inflight_free(&srv->mem);
}

uint64_t alcmd_requests_inflight_bytes(const alcmd_server *srv, const alcmd_request *except)
{
    uint64_t held = except ? except->reserved : 0;
    return srv->mem.bytes - (held <= srv->mem.bytes ? held : 0);
}

alcmd_request *alcmd_request_create(alcmd_server *srv, alcmd_session *s, Alcmwire__Request *hdr,
                                    uint64_t id, uint32_t uid, size_t payload_len)
{
    alcmd_request *req = calloc(1, sizeof *req);
    if (!req) return NULL;
    req->srv = srv;
    req->session = s;
    req->fd = -1;
    req->hdr = hdr;
    req->id = id;
    req->op = hdr->op;
    req->uid = uid;
    req->payload_len = payload_len;
    return req;
}

uint64_t alcmd_request_need(const alcmd_request *req)
{
    return req->payload_len +
           (req->op == ALCMWIRE__OP__OP_COMPRESS ? alcm_compress_bound(req->payload_len) : 0);
}

static void memory_ready(alcmd_inflight_waiter *w)
{
    alcmd_request *req = (alcmd_request *)((char *)w - offsetof(alcmd_request, mem_wait));
    req->reserved = w->need;
    alcmd_session_memory_ready(req->session);
}

int alcmd_request_admit(alcmd_request *req)
{
    uint64_t need = alcmd_request_need(req);
    if (alcmd_inflight_reserve(&req->srv->mem, need, 0) == 0) {
        req->reserved = need;
        return 0;
    }
    alcmd_log(ALCMD_LOG_DEBUG, "connection %llu waits for %llu bytes of in-flight memory",
              (unsigned long long)alcmd_request_conn_serial(req), (unsigned long long)need);
    req->mem_wait.need = need;
    req->mem_wait.held = 0;
    req->mem_wait.ready = memory_ready;
    alcmd_inflight_wait(&req->srv->mem, &req->mem_wait);
    return -1;
}

void alcmd_request_unadmit(alcmd_request *req)
{
    alcmd_inflight_unwait(&req->srv->mem, &req->mem_wait);
}

int alcmd_request_take_payload(alcmd_request *req)
{
    req->payload = alcmd_inflight_take_buffer(&req->srv->mem, req->payload_len,
                                              &req->payload_cap);
    return req->payload ? 0 : -1;
}

int alcmd_request_take_output(alcmd_request *req, size_t size)
{
    req->out = alcmd_inflight_take_buffer(&req->srv->mem, size, &req->out_cap);
    return req->out ? 0 : -1;
}

void alcmd_request_input_done(alcmd_request *req)
{
    if (req->shm) return;
    uint64_t in = req->payload_len < req->reserved ? req->payload_len : req->reserved;
    req->reserved -= in;
    alcmd_inflight_release(&req->srv->mem, in);
    alcmd_inflight_give_buffer(&req->srv->mem, req->payload, req->payload_cap);
    req->payload = NULL;
}

static void reply_memory_ready(alcmd_inflight_waiter *w)
{
    alcmd_request *req = (alcmd_request *)((char *)w - offsetof(alcmd_request, mem_wait));
    req->reserved += w->need;
    req->reply_ready(req);
}

int alcmd_request_reserve_reply(alcmd_request *req, uint64_t bytes,
                                void (*ready)(alcmd_request *req))
{
    if (alcmd_inflight_reserve(&req->srv->mem, bytes, req->reserved) == 0) {
        req->reserved += bytes;
        return 0;
    }
    if (!ready) return -1;
    alcmd_log(ALCMD_LOG_DEBUG, "request %llu waits for %llu bytes of reply memory",
              (unsigned long long)req->id, (unsigned long long)bytes);
    req->reply_ready = ready;
    req->mem_wait.need = bytes;
    req->mem_wait.held = req->reserved;
    req->mem_wait.ready = reply_memory_ready;
    alcmd_inflight_wait(&req->srv->mem, &req->mem_wait);
    return -1;
}

void alcmd_request_start(alcmd_request *req)
{
    req->t0 = alcmd_now_ns();
    req->srv->requests_in_flight++;
    req->srv->dispatch(req);
}

static void request_free(alcmd_request *req)
{
    alcm_wire_request_free(req->hdr);
    if (req->shm) {
        alcmd_shm_unref(req->shm);   /* payload and out pointed into it */
    } else {
        alcmd_inflight_give_buffer(&req->srv->mem, req->payload, req->payload_cap);
        alcmd_inflight_give_buffer(&req->srv->mem, req->out, req->out_cap);
    }
    if (req->fd >= 0) close(req->fd);
    free(req);
}

void alcmd_request_discard(alcmd_request *req)
{
    alcmd_inflight_release(&req->srv->mem, req->reserved);
    request_free(req);
}

void alcmd_reply_done(alcmd_server *srv, uint8_t *payload, size_t cap, uint64_t hold)
{
    alcmd_inflight_release(&srv->mem, hold);
    alcmd_inflight_give_buffer(&srv->mem, payload, cap);
}

void alcmd_request_reply(alcmd_request *req, const ProtobufCMessage *header, uint8_t *payload,
                         size_t len, size_t cap)
{
    alcmd_server *srv = req->srv;
    uint64_t latency = alcmd_now_ns() - req->t0;
    /* Bytes out: the reply payload, or the blob left in the shared region. */
    uint64_t out = len ? len : req->shm ? req->out_len : 0;
    alcmd_counters_request(&srv->total, req->payload_len, out, latency);
    if (req->stream)
        alcmd_counters_request(&req->stream->counters, req->payload_len, out, latency);
    srv->requests_in_flight--;
    /* The reply's bytes stay reserved until written; the rest is returned now. */
    uint64_t hold = len < req->reserved ? len : req->reserved;
    alcmd_inflight_release(&srv->mem, req->reserved - hold);
    req->reserved = 0;
    alcmd_session *s = req->session;
    if (s) {
        alcmd_session_request_done(s, req);
        alcmd_session_send(s, header, payload, len, cap, hold);
        alcmd_session_update(s);
    } else {
        alcmd_reply_done(srv, payload, cap, hold);
    }
    request_free(req);
    alcmd_server_check_drained(srv);
}

alcmd_shm *alcmd_request_conn_shm(const alcmd_request *req)
{
    return req->session ? req->session->shm : NULL;
}

void alcmd_request_set_conn_shm(alcmd_request *req, alcmd_shm *shm)
{
    if (!req->session) {
        alcmd_shm_unref(shm);
        return;
    }
    alcmd_shm_unref(req->session->shm);
    req->session->shm = shm;
}

uint64_t alcmd_request_conn_serial(const alcmd_request *req)
{
    return req->session ? req->session->serial : 0;
}
