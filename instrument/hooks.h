/* instrument/hooks.h - the one macro through which the runtime reports events.
 *
 * Every place where something observable happens (spawn, poll begin/end, wake, waker clone/drop,
 * abort, complete, park/unpark/steal, timer arm/fire, ...) calls WEFT_HOOK(event, args...). The
 * event names are those of the event table that the instrumentation issue declares; until the
 * sinks exist the macro compiles to nothing, so the hooks cost nothing and document where each
 * event comes from. Arguments are not evaluated.
 *
 * Events used so far (name: arguments):
 *   runtime_start: rt            runtime_stop: rt
 *   task_spawn: task             task_poll_begin: task      task_poll_end: task, ready
 *   task_wake: task, by_value    waker_clone: task          waker_drop: task
 *   task_abort: task             task_complete: task, status
 *   worker_park: worker          worker_unpark: worker      worker_steal: worker, victim, n
 *   timer_arm: entry, deadline   timer_fire: entry
 */
#ifndef WEFT_INSTRUMENT_HOOKS_H
#define WEFT_INSTRUMENT_HOOKS_H

#define WEFT_HOOK(event, ...) ((void)0)

#endif
