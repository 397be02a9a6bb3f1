/* sched_state.h - the scheduler's part of an exported stream state (internal;
 * docs/FORMAT.md, "Stream state", offsets 8 to 96 + 8W). */
#ifndef ALCM_SCHED_STATE_H
#define ALCM_SCHED_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "alcm.h"

/* Bytes of the scheduler part: 88 + 8 x window. */
size_t alcm_sched_state_bytes(const alcm_sched *sched);

/* Writes the scheduler part (alcm_sched_state_bytes bytes) to p. */
void alcm_sched_state_write(const alcm_sched *sched, uint8_t *p);

/* Window W declared by a scheduler part (needs 4 readable bytes). */
uint32_t alcm_sched_state_window(const uint8_t *p);

/* Checks a scheduler part of avail bytes and, only if it is valid, loads it into sched.
 * ALCM_E_ARG when its window differs from sched's, ALCM_E_CORRUPT for a bad field,
 * ALCM_E_TRUNCATED when avail is short. */
alcm_status alcm_sched_state_read(alcm_sched *sched, const uint8_t *p, size_t avail);

#endif
