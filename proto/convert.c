/* convert.c - libalcm structs <-> alcmwire messages (convert.h). */
#include "convert.h"

#include <string.h>

void alcm_wire_sched_fill(Alcmwire__SchedState *w, const alcm_sched_state *s)
{
    alcmwire__sched_state__init(w);
    w->steps = s->steps;
    w->aggressiveness = s->aggressiveness;
    w->prune_ratio = s->prune_ratio;
    w->last_ratio = s->last_ratio;
    w->last_cpu_seconds = s->last_cpu_seconds;
    w->last_caq = s->last_caq;
    w->last_rel_l2_error = s->last_rel_l2_error;
    w->window_trend = s->window_trend;
    w->last_action = s->last_action;
}

void alcm_wire_sched_read(const Alcmwire__SchedState *w, alcm_sched_state *s)
{
    memset(s, 0, sizeof *s);
    if (!w) return;
    s->steps = w->steps;
    s->aggressiveness = w->aggressiveness;
    s->prune_ratio = w->prune_ratio;
    s->last_ratio = w->last_ratio;
    s->last_cpu_seconds = w->last_cpu_seconds;
    s->last_caq = w->last_caq;
    s->last_rel_l2_error = w->last_rel_l2_error;
    s->window_trend = w->window_trend;
    s->last_action = w->last_action;
}

void alcm_wire_info_fill(Alcmwire__CompressReply *c, const alcm_info *info)
{
    c->raw_bytes = info->raw_bytes;
    c->blob_bytes = info->blob_bytes;
    c->ratio = info->ratio;
    c->rel_l2_error = info->rel_l2_error;
    c->mean_bits = info->mean_bits;
    c->pruned_fraction = info->pruned_fraction;
    c->n_channels = info->n_channels;
    c->backend = (uint32_t)info->backend;
    c->exact = info->exact;
}

void alcm_wire_info_read(const Alcmwire__CompressReply *c, alcm_info *info)
{
    memset(info, 0, sizeof *info);
    info->raw_bytes = c->raw_bytes;
    info->blob_bytes = c->blob_bytes;
    info->ratio = c->ratio;
    info->rel_l2_error = c->rel_l2_error;
    info->mean_bits = c->mean_bits;
    info->pruned_fraction = c->pruned_fraction;
    info->n_channels = c->n_channels;
    info->backend = (alcm_backend)c->backend;
    info->exact = c->exact ? 1 : 0;
}
