/* shm.c - a connection's shared-memory region: a sealed memfd attached to the daemon
 * (OP_ATTACH_SHM, docs/PROTOCOL.md) through which large tensors and blobs pass without
 * being copied through the socket. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "internal.h"

/* Regions grow in steps of this many bytes (and by half at least), so a stream of mixed
 * sizes settles on one region quickly. */
#define SHM_STEP ((size_t)2 << 20)

void alcmc__shm_release(alcmc_conn *c)
{
    if (c->shm_base) munmap(c->shm_base, c->shm_size);
    if (c->shm_fd >= 0) close(c->shm_fd);
    c->shm_base = NULL;
    c->shm_size = 0;
    c->shm_fd = -1;
}

int alcmc__shm_ready(alcmc_conn *c, size_t need, alcmc_status *status)
{
    *status = ALCMC_OK;
    if (!c->shm_wanted || need > c->server.shm_max_bytes) return 0;
    if (c->shm_base && c->shm_size >= need) return 1;
    size_t size = (need + SHM_STEP - 1) / SHM_STEP * SHM_STEP;
    size_t grown = (c->shm_size + c->shm_size / 2 + SHM_STEP - 1) / SHM_STEP * SHM_STEP;
    if (grown > size && grown <= c->server.shm_max_bytes) size = grown;
    if (size > c->server.shm_max_bytes) size = need;
    int fd = memfd_create("alcmc", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    void *p = MAP_FAILED;
    if (fd >= 0 && ftruncate(fd, (off_t)size) == 0 &&
        fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == 0)
        p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {   /* no memfd here: stay with the socket */
        if (fd >= 0) close(fd);
        c->shm_wanted = 0;
        return 0;
    }
    Alcmwire__Request req = ALCMWIRE__REQUEST__INIT;
    req.op = ALCMWIRE__OP__OP_ATTACH_SHM;
    req.shm_size = size;
    Alcmwire__Reply *r;
    alcmc_status st = alcmc__exchange(c, &req, NULL, 0, fd, ALCMWIRE__OP__OP_ATTACH_SHM, NULL,
                                      &r);
    if (st == ALCMC_OK) {
        alcm_wire_reply_free(r);
        alcmc__shm_release(c);
        c->shm_fd = fd;
        c->shm_base = p;
        c->shm_size = size;
        return 1;
    }
    munmap(p, size);
    close(fd);
    if (st == ALCMC_E_REQUEST || st == ALCMC_E_PROTOCOL) {
        /* The daemon refused the region (or predates it): the socket path still works,
         * unless the refusal broke the connection. */
        if (c->broken != ALCMC_OK) *status = st;
        c->shm_wanted = 0;
        if (*status == ALCMC_OK) c->message[0] = '\0';
        return 0;
    }
    *status = st;
    return 0;
}

alcmc_status alcmc__shm_fill(alcmc_conn *c, int fd, size_t n)
{
    size_t done = 0;
    int kernel_copy = lseek(c->shm_fd, 0, SEEK_SET) == 0;
    while (done < n) {
        ssize_t got;
        if (kernel_copy) {
            got = sendfile(c->shm_fd, fd, NULL, n - done);
            if (got < 0 && done == 0 && (errno == EINVAL || errno == ENOSYS)) {
                kernel_copy = 0; /* a file sendfile cannot read from: read(2) it is */
                continue;
            }
        } else {
            got = read(fd, (char *)c->shm_base + done, n - done);
        }
        if (got > 0) {
            done += (size_t)got;
        } else if (got == 0) {
            return alcmc__fail(c, ALCMC_E_FILE, "the file ended after %zu of %zu bytes", done, n);
        } else if (errno != EINTR) {
            return alcmc__fail(c, ALCMC_E_FILE, "reading the file: %s", strerror(errno));
        }
    }
    return ALCMC_OK;
}
