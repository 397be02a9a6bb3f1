/* encode.c - encodes one segment of a rank's buffer through alcmd or in-process libalcm. */
#include <stdlib.h>
#include <string.h>

#include "mpi_internal.h"

void mpi_daemon_close(mpi_comm_ctx *ctx)
{
#ifdef ALCM_MPI_HAVE_ALCMC
    alcmc_close(ctx->conn);
    ctx->conn = NULL;
#else
    (void)ctx;
#endif
}

/* 1 when ctx has a daemon connection, connecting on first use. */
static int daemon_ready(mpi_comm_ctx *ctx)
{
    if (ctx->daemon_state != 0) return ctx->daemon_state == 1;
    ctx->daemon_state = -1;
    const char *sock = mpi_env_socket();
    if (!sock) {
        mpi_debug("in-process encoding (ALCM_SOCKET unset)");
        return 0;
    }
#ifdef ALCM_MPI_HAVE_ALCMC
    alcmc_options o;
    alcmc_options_default(&o);
    o.timeout_ms = mpi_env_daemon_timeout_ms();
    o.client_name = "alcm_mpi";
    alcmc_status st = alcmc_connect(sock, &o, &ctx->conn);
    if (st != ALCMC_OK) {
        mpi_debug("in-process encoding (alcmd at %s unreachable: %s)", sock,
                  alcmc_strerror(st));
        ctx->conn = NULL;
        return 0;
    }
    ctx->daemon_state = 1;
    mpi_debug("encoding through alcmd at %s (pid %u)", sock, alcmc_server(ctx->conn)->pid);
    return 1;
#else
    mpi_debug("in-process encoding (built without libalcmc; ALCM_SOCKET=%s ignored)", sock);
    return 0;
#endif
}

#ifdef ALCM_MPI_HAVE_ALCMC
/* Errors after which the connection is unusable: the daemon is gone for this rank. */
static int connection_lost(alcmc_status st)
{
    return st == ALCMC_E_DAEMON_GONE || st == ALCMC_E_TIMEOUT || st == ALCMC_E_PROTOCOL ||
           st == ALCMC_E_IO || st == ALCMC_E_BROKEN || st == ALCMC_E_DENIED || st == ALCMC_E_PERMISSION ||
           st == ALCMC_E_SHUTTING_DOWN || st == ALCMC_E_CONNECT || st == ALCMC_E_VERSION;
}

/* Switches every stream of ctx to the in-process path after the daemon failed. */
static void drop_daemon(mpi_comm_ctx *ctx, const char *why)
{
    mpi_debug("alcmd failed (%s): in-process encoding from now on, stream state restarts",
              why);
    mpi_daemon_close(ctx);
    ctx->daemon_state = -1;
    for (size_t i = 0; i < ctx->n_slots; i++)
        if (ctx->slots[i].via_daemon == 1) ctx->slots[i].via_daemon = 0;
}
#endif

alcm_status mpi_encode(mpi_comm_ctx *ctx, mpi_slot *slot, const float *src, size_t n,
                       void *dst, size_t cap, size_t *len, alcm_info *info)
{
    size_t bytes = n * sizeof(float);
    alcm_shape shape;
    alcm_shape_1d(&shape, n);

    if (slot->via_daemon == -1) {
        slot->via_daemon = slot->use_daemon && daemon_ready(ctx);
        mpi_debug("stream %s: %s", slot->name, slot->via_daemon ? "alcmd" : "in-process");
    }
#ifdef ALCM_MPI_HAVE_ALCMC
    if (slot->via_daemon == 1) {
        alcmc_compress_result res;
        alcmc_status st = alcmc_compress(ctx->conn, slot->name, &slot->cfg, &shape, src, bytes,
                                         dst, cap, len, &res);
        if (st == ALCMC_OK) {
            *info = res.info;
            return ALCM_OK;
        }
        if (st == ALCMC_E_CODEC) return alcmc_last_alcm_status(ctx->conn);
        if (connection_lost(st)) {
            drop_daemon(ctx, alcmc_strerror(st));
        } else {
            mpi_debug("stream %s: alcmd refused it (%s: %s): in-process from now on",
                      slot->name, alcmc_strerror(st), alcmc_last_message(ctx->conn));
            slot->via_daemon = 0;
        }
    }
#endif
    slot->via_daemon = 0;
    if (!slot->local) {
        alcm_status st = alcm_stream_create(&slot->cfg, &slot->local);
        if (st != ALCM_OK) return st;
    }
    return alcm_stream_compress(slot->local, &shape, src, bytes, dst, cap, len, info, NULL);
}

void mpi_slot_reset(mpi_comm_ctx *ctx, mpi_slot *slot)
{
#ifdef ALCM_MPI_HAVE_ALCMC
    if (slot->via_daemon == 1 && ctx->conn) {
        alcmc_status st = alcmc_reset_stream(ctx->conn, slot->name, NULL);
        if (st != ALCMC_OK && connection_lost(st)) drop_daemon(ctx, alcmc_strerror(st));
    }
#else
    (void)ctx;
#endif
    if (slot->local) alcm_stream_reset(slot->local);
}
