/* state.h - stream state kept across restarts (--state-dir): one file per stream, written
 * atomically on SIGTERM and periodically, restored at start (docs/STATE.md). Runs on the
 * event loop thread. */
#ifndef ALCMD_STATE_H
#define ALCMD_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "server.h"

/* Loads every state file of cfg.state_dir into the stream table. A damaged or foreign
 * file is logged, renamed to NAME.rejected and skipped. Returns the streams restored. */
int alcmd_state_restore(alcmd_server *srv);

/* Writes the state of every idle stream holding state (busy ones are skipped, they are
 * saved next time) and removes the files of streams that hold none. Returns the count
 * written, or -1 when state_dir is not set. */
int alcmd_state_save_all(alcmd_server *srv);

/* Starts (or restarts after a reload) the periodic save; nothing without state_dir. */
void alcmd_state_start(alcmd_server *srv);

/* The file bytes of one stream (exposed for tests and the fuzz target): *out malloc'ed.
 * 0, or -1 when out of memory. */
int alcmd_state_encode(const alcmd_stream *s, uint8_t **out, size_t *len);

/* Parses file bytes: on success *uid, name (cap bytes, NUL-terminated), *counters and
 * *stream (a new alcm_stream) are filled and 0 is returned; otherwise -1 with a reason in
 * why. Never trusts a length or count of the file. */
int alcmd_state_decode(const uint8_t *buf, size_t len, uint32_t *uid, char *name,
                       size_t name_cap, alcmd_counters *counters, alcm_stream **stream,
                       char *why, size_t why_cap);

#endif
