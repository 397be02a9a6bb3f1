/* access.c - peer credentials of Unix socket connections and the uid/gid allow-list. */
#include "access.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

int alcmd_peer_read(int fd, alcmd_peer *peer)
{
    memset(peer, 0, sizeof *peer);
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -errno;
    peer->uid = (uint32_t)cred.uid;
    peer->gid = (uint32_t)cred.gid;
    peer->pid = (int32_t)cred.pid;
#ifdef SO_PEERGROUPS
    gid_t groups[ALCMD_MAX_PEER_GROUPS];
    socklen_t glen = sizeof groups;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) == 0) {
        peer->n_groups = (uint32_t)(glen / sizeof(gid_t));
        for (uint32_t i = 0; i < peer->n_groups; i++) peer->groups[i] = (uint32_t)groups[i];
    }
    /* ERANGE (more groups than we hold) or an old kernel: primary gid and uid only. */
#endif
    return 0;
}

static int in_list(const uint32_t *ids, uint32_t n, uint32_t id)
{
    for (uint32_t i = 0; i < n; i++)
        if (ids[i] == id) return 1;
    return 0;
}

int alcmd_peer_allowed(const alcmd_config *cfg, uint32_t self_uid, const alcmd_peer *peer)
{
    if (cfg->n_uids == 0 && cfg->n_gids == 0) return peer->uid == self_uid;
    if (in_list(cfg->uids, cfg->n_uids, peer->uid)) return 1;
    if (in_list(cfg->gids, cfg->n_gids, peer->gid)) return 1;
    for (uint32_t i = 0; i < peer->n_groups; i++)
        if (in_list(cfg->gids, cfg->n_gids, peer->groups[i])) return 1;
    return 0;
}
