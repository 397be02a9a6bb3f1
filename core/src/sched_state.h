/* sched_state.h - the scheduler's complete state as bytes (inside a stream state,
 * docs/STATE.md), for alcm_stream_export/import (internal). */
#ifndef ALCM_SCHED_STATE_H
#define ALCM_SCHED_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "alcm.h"

/* Bytes alcm_sched_state_write writes for s. */
size_t alcm_sched_state_bytes(const alcm_sched *s);

/* Writes the state (knobs, last step, CAQ window, cooldown) at p. */
void alcm_sched_state_write(const alcm_sched *s, uint8_t *p);

/* Restores a state written for a scheduler of the same window into s, which keeps it only
 * when every field is in range. *used gets the bytes read. ALCM_E_CORRUPT otherwise. */
alcm_status alcm_sched_state_read(alcm_sched *s, const uint8_t *p, size_t len, size_t *used);

#endif
