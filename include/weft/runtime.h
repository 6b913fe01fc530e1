/* weft/runtime.h - building, running and shutting down a runtime.
 *
 *     weft_builder b = weft_builder_new_multi_thread();
 *     b.worker_threads = 2;
 *     weft_runtime *rt;
 *     if (weft_runtime_new(&b, &rt) < 0) ...
 *     weft_block_on(rt, &main_future.base);
 *     weft_runtime_shutdown(rt);
 *
 * Tokio's runtime::Builder fields map one to one onto the struct's fields.
 */
#ifndef WEFT_RUNTIME_H
#define WEFT_RUNTIME_H

#include <weft/future.h>

typedef struct weft_runtime weft_runtime;

typedef enum weft_flavor {
    WEFT_CURRENT_THREAD, /* every task runs on the thread inside weft_block_on */
    WEFT_MULTI_THREAD,   /* a pool of worker threads with work stealing */
} weft_flavor;

typedef struct weft_builder {
    weft_flavor flavor;
    unsigned worker_threads;       /* multi-thread: number of workers; 0 = CPUs online */
    const char *thread_name;       /* worker and blocking thread names (<16 chars shown) */
    size_t thread_stack_size;      /* 0 = the system default */
    unsigned max_blocking_threads; /* upper bound of the blocking pool (default 512) */
    uint64_t thread_keep_alive_ms; /* idle blocking threads retire after this (default 10 s) */
    void (*on_thread_start)(void *arg); /* run on each new runtime thread, before any task */
    void (*on_thread_stop)(void *arg);  /* run on each runtime thread just before it exits */
    void *hook_arg;
    bool enable_time; /* timers; sleeping without it fails with WEFT_ENOSYS */
    bool enable_io;   /* the I/O driver: epoll reactor, sockets (weft/net.h), signals */
    unsigned event_interval;       /* polls between checks of timers/global queue (default 61) */
} weft_builder;

weft_builder weft_builder_new_current_thread(void);
weft_builder weft_builder_new_multi_thread(void);

/* Build: 0 or a negative WEFT_E* (WEFT_EINVAL for bad settings, WEFT_ETHREAD, WEFT_ENOMEM). */
int weft_runtime_new(const weft_builder *b, weft_runtime **out);

/* Run `fut` on this thread until it is READY, driving the runtime's tasks meanwhile when the
 * runtime is current-thread. Returns 0, or WEFT_ESHUTDOWN if the runtime is shutting down, or
 * WEFT_EBUSY if called from inside a runtime thread (that would deadlock). The result is read
 * from the future's struct. */
int weft_block_on(weft_runtime *rt, weft_future *fut);

/* Shut down and free the runtime: every unfinished task is cancelled (its future's drop runs),
 * queued blocking work is cancelled, running blocking work is waited for up to `timeout_ms`
 * (UINT64_MAX = forever), every runtime thread is joined and all memory freed. Returns 0, or
 * WEFT_ETIMEDOUT if a blocking function or a stuck worker was still running at the deadline:
 * then those threads and what they use are left behind (they cannot be interrupted). */
int weft_runtime_shutdown_timeout(weft_runtime *rt, uint64_t timeout_ms);

/* Shutdown waiting as long as it takes (Tokio's drop of a Runtime). */
void weft_runtime_shutdown(weft_runtime *rt);

/* The runtime of the calling task or block_on, or NULL. */
weft_runtime *weft_runtime_current(void);

/* The flavour a runtime was built with. */
weft_flavor weft_runtime_flavor(const weft_runtime *rt);

/* Number of worker threads (1 for current-thread). */
unsigned weft_runtime_workers(const weft_runtime *rt);

/* Tasks spawned and not yet completed (a snapshot). */
size_t weft_runtime_alive_tasks(const weft_runtime *rt);

/* ---------------------------------------------------------------- randomness
 *
 * Every random choice weft makes (select's starting branch, steal victims) goes through
 * weft_rand, so that the deterministic scheduler can seed it. Programs should use it too. */
uint64_t weft_rand(void);
/* A uniformly distributed number in [0, n); n > 0. */
uint64_t weft_rand_below(uint64_t n);

/* ---------------------------------------------------------------- version */
#define WEFT_VERSION_STRING "0.1.0"
const char *weft_version(void);

#endif
