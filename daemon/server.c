/* server.c - the daemon's shared state: setup, in-flight memory, drain and reload. */
#include "server.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"
#include "notify.h"
#include "ops.h"
#include "prom.h"
#include "report.h"
#include "session.h"
#include "signals.h"
#include "state.h"

uint64_t alcmd_now_ns(void)
{
    return uv_hrtime();
}

static void on_mem_sample(uv_timer_t *t)
{
    alcmd_server *srv = t->data;
    alcmd_memory m;
    alcmd_memory_usage(&m);
    if (m.anon > srv->peak_anon) srv->peak_anon = m.anon;
}

int alcmd_server_init(alcmd_server *srv, uv_loop_t *loop, const alcmd_config *cfg,
                      const alcmd_options *opts)
{
    memset(srv, 0, sizeof *srv);
    srv->loop = loop;
    srv->cfg = *cfg;
    srv->opts = opts;
    srv->listener.lock_fd = -1;
    srv->self_uid = (uint32_t)geteuid();
    srv->start_ns = alcmd_now_ns();
    if (alcmd_streams_init(&srv->streams) != 0) return -1;
    uv_timer_init(loop, &srv->prom_timer);
    uv_timer_init(loop, &srv->drain_timer);
    srv->prom_timer.data = srv;
    srv->drain_timer.data = srv;
    alcmd_signals_init(srv);
    uv_timer_init(loop, &srv->state_timer);
    srv->state_timer.data = srv;
    /* Samples the daemon's own memory (RssAnon) for its peak; does not keep the loop up. */
    uv_timer_init(loop, &srv->mem_timer);
    srv->mem_timer.data = srv;
    uv_timer_start(&srv->mem_timer, on_mem_sample, 100, 100);
    uv_unref((uv_handle_t *)&srv->mem_timer);
    return 0;
}

void alcmd_server_free(alcmd_server *srv)
{
    alcmd_streams_free(&srv->streams);
    alcmd_bufpool_free(&srv->pool);
    alcmd_listener_release(srv);
}

/* Frees idle buffers so that in-flight bytes plus pooled bytes stay within the cap. */
static void make_pool_room(alcmd_server *srv)
{
    uint64_t cap = srv->cfg.inflight_cap;
    alcmd_bufpool_shrink(&srv->pool, srv->inflight < cap ? cap - srv->inflight : 0);
}

uint64_t alcmd_request_need(const alcmd_request *req)
{
    return req->payload_len +
           (req->op == ALCMWIRE__OP__OP_COMPRESS ? alcm_compress_bound(req->payload_len) : 0);
}

#define SMALL_REQUEST ((uint64_t)1 << 20)

/* What a reservation of `bytes` may bring the in-flight total to. */
static uint64_t reserve_limit(const alcmd_server *srv, uint64_t bytes)
{
    uint64_t cap = srv->cfg.inflight_cap;
    return bytes <= SMALL_REQUEST ? cap : cap - cap / 16;
}

int alcmd_server_reserve(alcmd_server *srv, uint64_t bytes)
{
    return alcmd_server_reserve_more(srv, bytes, 0);
}

int alcmd_server_reserve_more(alcmd_server *srv, uint64_t bytes, uint64_t own)
{
    if (srv->inflight > own && srv->inflight + bytes > reserve_limit(srv, bytes)) return -1;
    srv->inflight += bytes;
    make_pool_room(srv);
    return 0;
}

void alcmd_server_wait_output(alcmd_server *srv, alcmd_request *req)
{
    alcmd_log(ALCMD_LOG_DEBUG, "request %llu waits for %llu bytes of output memory",
              (unsigned long long)req->id, (unsigned long long)req->out_need);
    req->q_next = NULL;
    if (srv->dec_wait_tail) srv->dec_wait_tail->q_next = req;
    else srv->dec_wait_head = req;
    srv->dec_wait_tail = req;
}

uint8_t *alcmd_server_take_buffer(alcmd_server *srv, size_t size, size_t *cap)
{
    return alcmd_bufpool_take(&srv->pool, size, cap);
}

void alcmd_server_give_buffer(alcmd_server *srv, uint8_t *ptr, size_t cap)
{
    uint64_t limit = srv->cfg.inflight_cap;
    alcmd_bufpool_give(&srv->pool, ptr, cap, srv->inflight < limit ? limit - srv->inflight : 0);
}

void alcmd_server_release(alcmd_server *srv, uint64_t bytes)
{
    srv->inflight -= bytes < srv->inflight ? bytes : srv->inflight;
    /* First come, first served: a large request at the head is not overtaken. */
    while (srv->mem_wait_head) {
        alcmd_session *s = srv->mem_wait_head;
        uint64_t need = alcmd_request_need(s->cur);
        if (alcmd_server_reserve(srv, need) != 0) break;
        srv->mem_wait_head = s->mem_next;
        if (!srv->mem_wait_head) srv->mem_wait_tail = NULL;
        s->mem_next = NULL;
        alcmd_session_memory_ready(s);
    }
    while (srv->dec_wait_head) {
        alcmd_request *req = srv->dec_wait_head;
        if (alcmd_server_reserve_more(srv, req->out_need, req->reserved) != 0) break;
        srv->dec_wait_head = req->q_next;
        if (!srv->dec_wait_head) srv->dec_wait_tail = NULL;
        req->q_next = NULL;
        req->reserved += req->out_need;
        alcmd_ops_start_decompress(req);
    }
}

void alcmd_server_wait_memory(alcmd_server *srv, alcmd_session *s)
{
    alcmd_log(ALCMD_LOG_DEBUG, "connection %llu waits for %llu bytes of in-flight memory",
              (unsigned long long)s->serial, (unsigned long long)alcmd_request_need(s->cur));
    s->mem_next = NULL;
    if (srv->mem_wait_tail) srv->mem_wait_tail->mem_next = s;
    else srv->mem_wait_head = s;
    srv->mem_wait_tail = s;
}

void alcmd_server_unwait_memory(alcmd_server *srv, alcmd_session *s)
{
    alcmd_session **pp = &srv->mem_wait_head, *prev = NULL;
    while (*pp && *pp != s) {
        prev = *pp;
        pp = &(*pp)->mem_next;
    }
    if (!*pp) return;
    *pp = s->mem_next;
    if (srv->mem_wait_tail == s) srv->mem_wait_tail = prev;
    s->mem_next = NULL;
}

static void on_drain_timeout(uv_timer_t *t)
{
    alcmd_server *srv = t->data;
    alcmd_log(ALCMD_LOG_WARNING, "drain did not finish within %u ms: closing %u connection(s)",
              srv->cfg.shutdown_timeout_ms, srv->n_sessions);
    while (srv->sessions) alcmd_session_close(srv->sessions);
    alcmd_server_check_drained(srv);
}

void alcmd_server_drain(alcmd_server *srv)
{
    if (srv->draining) return;
    srv->draining = 1;
    alcmd_listener_close(srv);   /* first: no new connection from here on */
    alcmd_notify("STOPPING=1");
    alcmd_log(ALCMD_LOG_NOTICE, "draining: %u connection(s), %u request(s) in flight",
              srv->n_sessions, srv->requests_in_flight);
    uv_timer_start(&srv->drain_timer, on_drain_timeout, srv->cfg.shutdown_timeout_ms, 0);
    alcmd_session *s = srv->sessions;
    while (s) {
        alcmd_session *next = s->next;
        alcmd_session_update(s);   /* may close s */
        s = next;
    }
    alcmd_server_check_drained(srv);
}

void alcmd_server_shutdown(alcmd_server *srv)
{
    if (srv->stopped) return;
    srv->stopped = 1;
    alcmd_listener_close(srv);
    alcmd_prom_stop(srv);
    alcmd_signals_close(srv);
    uv_close((uv_handle_t *)&srv->prom_timer, NULL);
    uv_close((uv_handle_t *)&srv->drain_timer, NULL);
    uv_close((uv_handle_t *)&srv->mem_timer, NULL);
    uv_close((uv_handle_t *)&srv->state_timer, NULL);
}

void alcmd_server_check_drained(alcmd_server *srv)
{
    if (!srv->draining || srv->stopped) return;
    if (srv->n_sessions > 0 || srv->requests_in_flight > 0) return;
    alcmd_log(ALCMD_LOG_NOTICE, "drained: every request answered; exiting");
    int saved = alcmd_state_save_all(srv);
    if (saved >= 0)
        alcmd_log(ALCMD_LOG_NOTICE, "saved the state of %d stream(s) in %s", saved,
                  srv->cfg.state_dir);
    alcmd_server_shutdown(srv);
}

void alcmd_server_reload(alcmd_server *srv)
{
    if (srv->draining) return;
    alcmd_notify("RELOADING=1");
    alcmd_config fresh;
    char err[512];
    if (alcmd_options_build_config(srv->opts, &fresh, err, sizeof err) != 0) {
        alcmd_log(ALCMD_LOG_ERR, "reload rejected, keeping the running settings: %s", err);
        alcmd_notify("READY=1\nSTATUS=reload rejected; running settings kept");
        return;
    }
    if (strcmp(fresh.socket_path, srv->cfg.socket_path) != 0)
        alcmd_log(ALCMD_LOG_WARNING, "the socket path cannot change on reload; restart alcmd "
                  "to move it");
    if (fresh.threads != srv->cfg.threads)
        alcmd_log(ALCMD_LOG_WARNING, "the thread count cannot change on reload; restart "
                  "alcmd to apply it");
    memcpy(fresh.socket_path, srv->cfg.socket_path, sizeof fresh.socket_path);
    fresh.threads = srv->cfg.threads;
    srv->cfg = fresh;
    alcmd_log_set_level(fresh.log_level);
    alcmd_prom_start(srv);
    alcmd_state_start(srv);
    /* Connections whose peer the new allow-list refuses are closed. */
    alcmd_session *s = srv->sessions;
    while (s) {
        alcmd_session *next = s->next;
        if (!s->fatal && !alcmd_peer_allowed(&srv->cfg, srv->self_uid, &s->peer)) {
            alcmd_log(ALCMD_LOG_NOTICE, "connection %llu (uid %u) no longer allowed; closing",
                      (unsigned long long)s->serial, s->peer.uid);
            alcmd_session_error(s, 0, ALCMWIRE__ERROR_CODE__ERR_DENIED, ALCM_OK,
                                "no longer allowed after a configuration reload", 1);
        } else {
            alcmd_session_update(s);
        }
        s = next;
    }
    int evicted = alcmd_streams_enforce_cap(&srv->streams, srv->cfg.memory_cap);
    int more = alcmd_streams_make_room(&srv->streams, (size_t)srv->cfg.max_streams + 1);
    if (more > 0) evicted += more;
    alcmd_log(ALCMD_LOG_NOTICE, "configuration reloaded (max_message_bytes %llu, memory_cap "
              "%llu, max_streams %u, log level %d)%s",
              (unsigned long long)srv->cfg.max_message_bytes,
              (unsigned long long)srv->cfg.memory_cap, srv->cfg.max_streams,
              srv->cfg.log_level, evicted ? "; streams evicted to meet the new limits" : "");
    alcmd_notify("READY=1\nSTATUS=serving");
}
