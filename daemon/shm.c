/* shm.c - maps and releases the shared-memory regions clients attach. */
#include "shm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

alcmd_shm *alcmd_shm_map(int fd, uint64_t size, uint64_t max_size, char *msg, size_t cap)
{
    alcmd_shm *shm = NULL;
    struct stat st;
    /* Only a shrink-sealed memfd guarantees that no page of the mapping can disappear
     * (which would kill the daemon with SIGBUS on access). */
    int seals = fcntl(fd, F_GET_SEALS);
    if (seals < 0 || !(seals & F_SEAL_SHRINK)) {
        snprintf(msg, cap, "the shared region must be a memfd sealed with F_SEAL_SHRINK");
    } else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size < size) {
        snprintf(msg, cap, "the memfd is smaller than shm_size %llu", (unsigned long long)size);
    } else if (size > max_size || size > SIZE_MAX) {
        snprintf(msg, cap, "shm_size %llu exceeds shm_max_bytes %llu",
                 (unsigned long long)size, (unsigned long long)max_size);
    } else if (!(shm = calloc(1, sizeof *shm))) {
        snprintf(msg, cap, "out of memory");
    } else {
        void *p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
            snprintf(msg, cap, "cannot map the shared region: %s", strerror(errno));
            free(shm);
            shm = NULL;
        } else {
            shm->base = p;
            shm->size = size;
            shm->refs = 1;
        }
    }
    close(fd);
    return shm;
}

alcmd_shm *alcmd_shm_ref(alcmd_shm *shm)
{
    if (shm) shm->refs++;
    return shm;
}

void alcmd_shm_unref(alcmd_shm *shm)
{
    if (!shm || --shm->refs > 0) return;
    munmap(shm->base, (size_t)shm->size);
    free(shm);
}
