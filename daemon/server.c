/* server.c - the daemon's shared state: setup, drain and reload. */
#include "server.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listener.h"
#include "log.h"
#include "notify.h"
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
                      const alcmd_options *opts, void (*dispatch)(alcmd_request *req))
{
    memset(srv, 0, sizeof *srv);
    srv->loop = loop;
    srv->cfg = *cfg;
    srv->opts = opts;
    srv->dispatch = dispatch;
    alcmd_requests_init(srv);
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
    alcmd_requests_free(srv);
    alcmd_listener_release(srv);
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
    alcmd_log_set_format(fresh.log_format);
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
