/* notify.h - systemd readiness and status notification over $NOTIFY_SOCKET, without
 * libsystemd (the sd_notify datagram protocol). */
#ifndef ALCMD_NOTIFY_H
#define ALCMD_NOTIFY_H

/* Sends state ("READY=1", "STOPPING=1", "STATUS=...", newline-separated) to the socket
 * named by $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace). Returns 1 when
 * sent, 0 when $NOTIFY_SOCKET is unset, -errno on failure. */
int alcmd_notify(const char *state);

#endif
