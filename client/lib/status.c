/* status.c - libalcmc status codes: messages, names, and the mapping from daemon errors. */
#include "internal.h"

typedef struct {
    alcmc_status status;
    const char *name;
    const char *message;
} status_entry;

static const status_entry k_status[] = {
    {ALCMC_OK, "ALCMC_OK", "success"},
    {ALCMC_E_ARG, "ALCMC_E_ARG", "invalid argument"},
    {ALCMC_E_NOMEM, "ALCMC_E_NOMEM", "out of memory in the client"},
    {ALCMC_E_CONNECT, "ALCMC_E_CONNECT", "no alcmd is accepting connections on that socket"},
    {ALCMC_E_DAEMON_GONE, "ALCMC_E_DAEMON_GONE",
     "the daemon closed the connection or went away mid-exchange"},
    {ALCMC_E_TIMEOUT, "ALCMC_E_TIMEOUT", "timed out waiting for the daemon"},
    {ALCMC_E_PROTOCOL, "ALCMC_E_PROTOCOL", "malformed frame on the daemon connection"},
    {ALCMC_E_VERSION, "ALCMC_E_VERSION", "the daemon speaks another protocol version"},
    {ALCMC_E_TOO_LARGE, "ALCMC_E_TOO_LARGE", "message exceeds the daemon's size limit"},
    {ALCMC_E_DENIED, "ALCMC_E_DENIED", "the daemon refused this user"},
    {ALCMC_E_REQUEST, "ALCMC_E_REQUEST", "the daemon rejected the request's fields"},
    {ALCMC_E_CODEC, "ALCMC_E_CODEC", "the compression library refused the data"},
    {ALCMC_E_OVERLOADED, "ALCMC_E_OVERLOADED", "the daemon has no free stream slot"},
    {ALCMC_E_SHUTTING_DOWN, "ALCMC_E_SHUTTING_DOWN", "the daemon is shutting down"},
    {ALCMC_E_DST_TOO_SMALL, "ALCMC_E_DST_TOO_SMALL", "the result does not fit the buffer"},
    {ALCMC_E_DAEMON, "ALCMC_E_DAEMON", "the daemon failed to serve the request"},
    {ALCMC_E_IO, "ALCMC_E_IO", "socket error"},
    {ALCMC_E_BROKEN, "ALCMC_E_BROKEN", "the connection failed earlier; reconnect"},
    {ALCMC_E_PERMISSION, "ALCMC_E_PERMISSION",
     "permission denied on the socket path (file or directory permissions; the daemon never "
     "saw the connection)"},
    {ALCMC_E_FILE, "ALCMC_E_FILE", "reading the input file failed or it ended early"},
};

static const status_entry *find(alcmc_status s)
{
    for (size_t i = 0; i < sizeof k_status / sizeof k_status[0]; i++)
        if (k_status[i].status == s) return &k_status[i];
    return NULL;
}

const char *alcmc_strerror(alcmc_status status)
{
    const status_entry *e = find(status);
    return e ? e->message : "unknown alcmc status";
}

const char *alcmc_status_name(alcmc_status status)
{
    const status_entry *e = find(status);
    return e ? e->name : "ALCMC_E_UNKNOWN";
}

alcmc_status alcmc__status_from_wire(alcm_wire_error code)
{
    switch (code) {
    case ALCMWIRE__ERROR_CODE__ERR_NONE: return ALCMC_OK;
    case ALCMWIRE__ERROR_CODE__ERR_BAD_VERSION: return ALCMC_E_VERSION;
    case ALCMWIRE__ERROR_CODE__ERR_TOO_LARGE: return ALCMC_E_TOO_LARGE;
    case ALCMWIRE__ERROR_CODE__ERR_BAD_REQUEST: return ALCMC_E_REQUEST;
    case ALCMWIRE__ERROR_CODE__ERR_CODEC: return ALCMC_E_CODEC;
    case ALCMWIRE__ERROR_CODE__ERR_OVERLOADED: return ALCMC_E_OVERLOADED;
    case ALCMWIRE__ERROR_CODE__ERR_SHUTTING_DOWN: return ALCMC_E_SHUTTING_DOWN;
    case ALCMWIRE__ERROR_CODE__ERR_TIMEOUT: return ALCMC_E_TIMEOUT;
    case ALCMWIRE__ERROR_CODE__ERR_DENIED: return ALCMC_E_DENIED;
    case ALCMWIRE__ERROR_CODE__ERR_NO_MEMORY:
    case ALCMWIRE__ERROR_CODE__ERR_INTERNAL: return ALCMC_E_DAEMON;
    default: return ALCMC_E_PROTOCOL;   /* bad magic, frame, header, unknown op */
    }
}

int alcmc__wire_error_fatal(alcm_wire_error code)
{
    switch (code) {
    case ALCMWIRE__ERROR_CODE__ERR_BAD_MAGIC:
    case ALCMWIRE__ERROR_CODE__ERR_BAD_VERSION:
    case ALCMWIRE__ERROR_CODE__ERR_BAD_FRAME:
    case ALCMWIRE__ERROR_CODE__ERR_SHUTTING_DOWN:
    case ALCMWIRE__ERROR_CODE__ERR_TIMEOUT:
    case ALCMWIRE__ERROR_CODE__ERR_DENIED:
        return 1;
    default:
        return 0;
    }
}
