/* signals.c - maps SIGTERM/SIGINT to a drain and SIGHUP to a reload. */
#include "signals.h"

#include <signal.h>

#include "log.h"

static void on_signal(uv_signal_t *h, int signum)
{
    alcmd_server *srv = h->data;
    if (signum == SIGHUP) {
        alcmd_log(ALCMD_LOG_NOTICE, "SIGHUP: reloading the configuration");
        alcmd_server_reload(srv);
        return;
    }
    alcmd_log(ALCMD_LOG_NOTICE, "%s: stopping", signum == SIGINT ? "SIGINT" : "SIGTERM");
    alcmd_server_drain(srv);
}

void alcmd_signals_init(alcmd_server *srv)
{
    uv_signal_t *handles[] = {&srv->sig_term, &srv->sig_int, &srv->sig_hup};
    for (int i = 0; i < 3; i++) {
        uv_signal_init(srv->loop, handles[i]);
        handles[i]->data = srv;
    }
}

int alcmd_signals_start(alcmd_server *srv)
{
    uv_signal_t *handles[] = {&srv->sig_term, &srv->sig_int, &srv->sig_hup};
    const int signums[] = {SIGTERM, SIGINT, SIGHUP};
    for (int i = 0; i < 3; i++) {
        int rc = uv_signal_start(handles[i], on_signal, signums[i]);
        if (rc != 0) return rc;
    }
    return 0;
}

void alcmd_signals_close(alcmd_server *srv)
{
    uv_signal_t *handles[] = {&srv->sig_term, &srv->sig_int, &srv->sig_hup};
    for (int i = 0; i < 3; i++)
        if (!uv_is_closing((uv_handle_t *)handles[i])) uv_close((uv_handle_t *)handles[i], NULL);
}
