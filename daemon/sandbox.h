/* sandbox.h - what alcmd gives up once its listening socket is set up: no new privileges
 * (PR_SET_NO_NEW_PRIVS) and a seccomp filter that allows the system calls the daemon needs
 * and nothing else; sockets of any family but AF_UNIX fail with EAFNOSUPPORT. */
#ifndef ALCMD_SANDBOX_H
#define ALCMD_SANDBOX_H

#include <stddef.h>

/* Installs the filter for every thread of the process. 0, or -1 with a reason in err. */
int alcmd_sandbox_enter(char *err, size_t err_cap);

/* Tries to create sockets of other families (AF_INET, AF_INET6, AF_NETLINK) and one
 * AF_UNIX socket and logs each outcome as "sandbox probe: socket(FAMILY): RESULT", from
 * the calling thread. Returns how many non-AF_UNIX sockets could be created (0 when the
 * sandbox holds). Used by the hidden --sandbox-probe option the tests start alcmd with. */
int alcmd_sandbox_probe(const char *where);

#endif
