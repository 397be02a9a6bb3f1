/* daemon_conn.c - how the `alcm` subcommands reach alcmd: connect with a clear error. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "alcmc.h"
#include "cli.h"

alcmc_conn *cli_connect(const char *cmd, const char *socket_path)
{
    alcmc_conn *conn = NULL;
    alcmc_status st = alcmc_connect(socket_path, NULL, &conn);
    if (st == ALCMC_OK) return conn;
    /* "No daemon accepts connections" covers several mistakes: name the one it is. */
    struct stat sb;
    const char *why = alcmc_strerror(st), *hint = "";
    if (st == ALCMC_E_CONNECT && stat(socket_path, &sb) != 0) {
        why = strerror(errno);
        hint = "; start one with: alcmd --socket PATH";
    } else if (st == ALCMC_E_CONNECT && !S_ISSOCK(sb.st_mode)) {
        why = "not a socket";
    }
    cli_error(cmd, "cannot use alcmd at '%s': %s (%s%s)", socket_path, why,
              alcmc_status_name(st), hint);
    return NULL;
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
