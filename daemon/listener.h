/* listener.h - the listening AF_UNIX socket: taken from systemd (LISTEN_FDS, fd 3) or
 * created at the configured path (0660, a lock against a second daemon, a stale socket
 * from a dead daemon replaced). */
#ifndef ALCMD_LISTENER_H
#define ALCMD_LISTENER_H

#include <stddef.h>

#include "server.h"

/* Opens the listener and starts accepting into sessions. 0, or -1 with a reason in err
 * (another daemon is serving the path, the path is not a socket, bind failed ...). */
int alcmd_listener_open(alcmd_server *srv, char *err, size_t err_cap);

/* Stops accepting and removes the socket file if this daemon created it. The lock is
 * kept until alcmd_listener_release, so no second daemon binds while this one drains. */
void alcmd_listener_close(alcmd_server *srv);

/* Releases the lock file (at exit). */
void alcmd_listener_release(alcmd_server *srv);

/* The socket fd systemd passed (LISTEN_PID is this process, LISTEN_FDS = 1), or -1 when
 * not socket-activated; -2 with a reason in err when the environment is inconsistent or
 * the fd is not a listening AF_UNIX stream socket. Clears the LISTEN_* variables. */
int alcmd_listener_activation_fd(char *err, size_t err_cap);

#endif
