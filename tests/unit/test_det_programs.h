/* tests/unit/test_det_programs.h - small programs with classic concurrency bugs, for the
 * deterministic scheduler's tests (test_det_explore.c) and its benchmark
 * (bench/explore_bench.c).
 *
 * Each program is a function for weft_explore: it builds a runtime, runs its main future,
 * shuts down and returns 0 (a failure is what the scheduler records). `arg` points to an int:
 * 0 runs the program with its bug, 1 the fixed version.
 */
#ifndef WEFT_TEST_DET_PROGRAMS_H
#define WEFT_TEST_DET_PROGRAMS_H

/* Two tasks increment a counter: read, yield, write. weft_assert(counter == 2) at the end.
 * Fixed: a mutex around the read-modify-write. */
int det_prog_race(void *arg);

/* Two tasks lock mutexes a and b in opposite orders, awaiting in between: a deadlock.
 * Fixed: both lock a first. */
int det_prog_two_lock(void *arg);

/* A hand-written future that registers its waker on its first poll only, and a producer that
 * sets two flags with a wake after each: the second wake finds no waker. Fixed: register on
 * every pending poll. */
int det_prog_lost_wakeup(void *arg);

/* A one-slot buffer between a producer and a consumer, signalled with notify_waiters, where
 * each side checks the buffer, awaits something else, and only then creates its notified
 * future: a notification sent in between reaches nobody and both end up waiting.
 * Fixed: create the notified future before checking (as weft/notify.h prescribes). */
int det_prog_bounded_buffer(void *arg);

/* A reader takes a read lock and then, re-entrantly, a second one; a writer queues in between
 * and the second read queues behind it: a wait-for cycle. Fixed: one read lock. */
int det_prog_reentrant_read(void *arg);

/* A reader assembles two-chunk frames inside a select whose other branch is a control
 * channel; when the control message wins after the header chunk was read, the dropped branch
 * takes the header with it and the next frame is garbled (weft_assert). Fixed: the partial
 * frame lives in the reader, and the select branch only receives one chunk (cancel-safe). */
int det_prog_select_frame(void *arg);

/* Two tasks that each yield a few times and finish: no bug. For "schedules per second". */
int det_prog_two_tasks(void *arg);

#endif
