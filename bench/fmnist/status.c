/* status.c - status strings and message buffers of the Fashion-MNIST library. */
#include "fmnist.h"

#include <stdarg.h>
#include <stdio.h>

const char *alcm_fmnist_strerror(alcm_fmnist_status status)
{
    switch (status) {
    case ALCM_FMNIST_OK: return "success";
    case ALCM_FMNIST_E_ARG: return "invalid argument";
    case ALCM_FMNIST_E_NOMEM: return "out of memory";
    case ALCM_FMNIST_E_IO: return "cannot read the file";
    case ALCM_FMNIST_E_MAGIC: return "not an unsigned-byte IDX file (bad magic)";
    case ALCM_FMNIST_E_HEADER: return "IDX rank or dimension not as expected";
    case ALCM_FMNIST_E_TRUNCATED: return "IDX file shorter than its header declares";
    case ALCM_FMNIST_E_TRAILING: return "IDX file longer than its header declares";
    case ALCM_FMNIST_E_MISMATCH: return "images and labels do not match";
    case ALCM_FMNIST_E_LIMIT: return "IDX file larger than the reader's limit";
    }
    return "unknown status";
}

void alcm_fmnist_set_message(char *msg, size_t msg_cap, const char *fmt, ...)
{
    if (!msg || msg_cap == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, msg_cap, fmt, ap);
    va_end(ap);
}
