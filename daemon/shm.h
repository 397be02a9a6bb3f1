/* shm.h - a connection's shared-memory region (OP_ATTACH_SHM, docs/PROTOCOL.md): a memfd
 * the client passed, checked and mapped, reference-counted so a request running on the
 * thread pool keeps it mapped after its connection is gone. */
#ifndef ALCMD_SHM_H
#define ALCMD_SHM_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *base;
    uint64_t size;
    unsigned refs;
} alcmd_shm;

/* Maps size bytes of fd (which it always closes): fd must be a memfd sealed against
 * shrinking, at least size bytes long, and size at most max_size. NULL with a reason in
 * msg otherwise. The region starts with one reference. */
alcmd_shm *alcmd_shm_map(int fd, uint64_t size, uint64_t max_size, char *msg, size_t msg_cap);

/* Takes / drops a reference; the last one unmaps and frees. NULL is a no-op. */
alcmd_shm *alcmd_shm_ref(alcmd_shm *shm);
void alcmd_shm_unref(alcmd_shm *shm);

#endif
