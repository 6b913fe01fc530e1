/* console/lints.h - the warnings the console raises about tasks and resources.
 *
 * Each lint is a rule over the model at a time `now`; thresholds are in model_limits (console
 * flags). lints_compute evaluates them all at once (one pass over tasks, one over resources)
 * into masks parallel to the model's arrays, so that views can show a task's warnings and the
 * warnings view can list the tasks concerned. The result is valid until the model changes.
 */
#ifndef WEFT_CONSOLE_LINTS_H
#define WEFT_CONSOLE_LINTS_H

#include "model.h"

/* X(enum, short name, about, severity: 1 warning, 0 informational) */
#define CONSOLE_LINTS(X)                                                                       \
    X(SELF_WAKES, "self-wakes", "woke itself for more than half of its wakes", 1)             \
    X(LOST_WAKER, "lost-waker", "pending with no waker left: nothing can wake it", 1)         \
    X(NEVER_YIELDED, "never-yielded", "its first poll has been busy for long", 1)             \
    X(LONG_POLL, "long-poll", "a poll blocked its worker for long", 1)                        \
    X(BLOCKING_ACROSS_AWAIT, "blocking-lock-across-await",                                    \
      "returned PENDING while holding a blocking mutex", 1)                                   \
    X(LOCK_ACROSS_AWAIT, "lock-across-await", "idle for long while holding an async lock", 0) \
    X(PERMIT_LEAK, "permit-leak", "permits missing with no live task holding them", 1)        \
    X(OUTLIVES_PARENT, "outlives-parent", "still running after the task that spawned it ended", \
      0)                                                                                      \
    X(CHANNEL_GROWS, "channel-grows", "a channel whose length only grows", 1)                 \
    X(STARVED, "starved", "scheduled but not polled for long", 1)

typedef enum lint_kind {
#define LINT_ENUM_(e, name, about, sev) LINT_##e,
    CONSOLE_LINTS(LINT_ENUM_)
#undef LINT_ENUM_
    LINT_COUNT
} lint_kind;

const char *lint_name(lint_kind k);
const char *lint_about(lint_kind k);
bool lint_is_warning(lint_kind k);
/* true for lints about resources (permit leak, channel grows), false for task lints */
bool lint_on_resource(lint_kind k);

typedef struct lint_result {
    uint32_t *task_mask;  /* [m->ntasks] bit k: lint k holds for m->tasks[i] */
    uint32_t *res_mask;   /* [m->nres] */
    size_t ntasks, nres, cap_tasks, cap_res;
    uint64_t count[LINT_COUNT]; /* tasks or resources concerned, per lint */
    uint64_t total;
    uint64_t now;
} lint_result;

void lints_compute(const model *m, uint64_t now, lint_result *out);
void lints_free(lint_result *r);

/* The mask of task t / resource r (from the last compute), 0 if not found. */
uint32_t lints_of_task(const model *m, const lint_result *r, uint64_t task);

#endif
