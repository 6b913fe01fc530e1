/* console/model_int.h - what model.c and model_resources.c share, and nobody else uses. */
#ifndef WEFT_CONSOLE_MODEL_INT_H
#define WEFT_CONSOLE_MODEL_INT_H

#include "model.h"

/* The resource `id`, created (kind unknown) if it was never seen; NULL for id 0 or no memory. */
model_resource *model__res_at(model *m, uint64_t id, uint64_t ts);

/* One handler per group of resource events (model_resources.c). */
void model__on_res_create(model *m, const weft_event *ev, bool snapshot);
void model__on_lock_acquire(model *m, const weft_event *ev);
void model__on_lock_release(model *m, const weft_event *ev);
void model__on_permit(model *m, const weft_event *ev, bool acquire);
void model__on_channel(model *m, const weft_event *ev);
void model__on_resource_misc(model *m, const weft_event *ev);
void model__on_timer(model *m, const weft_event *ev);
/* Remove timer i (swap with the last). */
void model__timer_remove(model *m, size_t i);

#endif
