/* convert.h - libalcm structs <-> alcmwire messages, each conversion once: the scheduler
 * state (SchedState) and a compress step's figures (alcm_info <-> CompressReply). Pure
 * field copies; no allocation. The stream config's are in wire.h (alcm_wire_config_read,
 * alcm_wire_config_fill), with the request checks. */
#ifndef ALCM_WIRE_CONVERT_H
#define ALCM_WIRE_CONVERT_H

#include "alcm.h"
#include "alcm.pb-c.h"

/* Initialises *w and copies every field of *s into it. */
void alcm_wire_sched_fill(Alcmwire__SchedState *w, const alcm_sched_state *s);

/* Copies every field of *w into *s; w NULL gives an all-zero state. */
void alcm_wire_sched_read(const Alcmwire__SchedState *w, alcm_sched_state *s);

/* Sets the alcm_info fields of *c (initialised with ALCMWIRE__COMPRESS_REPLY__INIT); the
 * reply's other fields (cpu_seconds, sched, stream_event, blob_in_shm) are the caller's. */
void alcm_wire_info_fill(Alcmwire__CompressReply *c, const alcm_info *info);

/* The alcm_info a CompressReply carries (fields it does not carry are 0). */
void alcm_wire_info_read(const Alcmwire__CompressReply *c, alcm_info *info);

#endif
