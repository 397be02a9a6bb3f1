/* access.h - who is on the other end of a connection (SO_PEERCRED, SO_PEERGROUPS) and
 * whether the allow-list admits them. */
#ifndef ALCMD_ACCESS_H
#define ALCMD_ACCESS_H

#include <stdint.h>

#include "config.h"

#define ALCMD_MAX_PEER_GROUPS 256

typedef struct {
    uint32_t uid, gid;
    int32_t pid;
    uint32_t n_groups;                      /* supplementary groups (0 if unavailable) */
    uint32_t groups[ALCMD_MAX_PEER_GROUPS];
} alcmd_peer;

/* Reads the credentials of the peer of a connected AF_UNIX socket. 0, or -errno. */
int alcmd_peer_read(int fd, alcmd_peer *peer);

/* 1 when the peer may use the daemon: its uid is in cfg->uids, or its primary or a
 * supplementary gid is in cfg->gids. With both lists empty, only self_uid is admitted. */
int alcmd_peer_allowed(const alcmd_config *cfg, uint32_t self_uid, const alcmd_peer *peer);

#endif
