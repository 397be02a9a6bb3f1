/* daemon_conn.c - how the `alcm` subcommands reach alcmd: connect with a clear error. */
#include "alcmc.h"
#include "cli.h"

alcmc_conn *cli_connect(const char *cmd, const char *socket_path)
{
    alcmc_conn *conn = NULL;
    alcmc_status st = alcmc_connect(socket_path, NULL, &conn);
    if (st != ALCMC_OK) {
        cli_error(cmd, "cannot use alcmd at '%s': %s (%s)", socket_path, alcmc_strerror(st),
                  alcmc_status_name(st));
        return NULL;
    }
    return conn;
}

void cli_daemon_error(const char *cmd, alcmc_conn *conn, int status)
{
    alcmc_status st = (alcmc_status)status;
    const char *msg = conn ? alcmc_last_message(conn) : "";
    if (st == ALCMC_E_CODEC && conn) {
        alcm_status cs = alcmc_last_alcm_status(conn);
        cli_error(cmd, "alcmd: %s (%s)%s%s", alcm_strerror(cs), alcm_status_name(cs),
                  *msg ? ": " : "", msg);
        return;
    }
    cli_error(cmd, "alcmd: %s (%s)%s%s", alcmc_strerror(st), alcmc_status_name(st),
              *msg ? ": " : "", msg);
}
