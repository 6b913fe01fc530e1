/* runtime/thread.c - starting the runtime's threads (workers and blocking-pool threads).
 *
 * Every thread a runtime starts goes through weft__thread_spawn so that the builder's
 * thread_name, thread_stack_size and on_thread_start / on_thread_stop hooks apply to all of
 * them alike, as Tokio's Builder promises.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_int.h"

typedef struct thread_start {
    weft_runtime *rt;
    void *(*fn)(void *);
    void *arg;
    char name[16]; /* Linux limits thread names to 15 characters */
} thread_start;

static void *thread_main(void *p)
{
    thread_start st = *(thread_start *)p;
    free(p);
    pthread_setname_np(pthread_self(), st.name);
    if (st.rt->cfg.on_thread_start)
        st.rt->cfg.on_thread_start(st.rt->cfg.hook_arg);
    void *ret = st.fn(st.arg);
    if (st.rt->cfg.on_thread_stop)
        st.rt->cfg.on_thread_stop(st.rt->cfg.hook_arg);
    return ret;
}

int weft__thread_spawn(weft_runtime *rt, pthread_t *th, void *(*fn)(void *), void *arg,
                       const char *suffix)
{
    thread_start *st = malloc(sizeof *st);
    if (!st)
        return WEFT_ENOMEM;
    st->rt = rt;
    st->fn = fn;
    st->arg = arg;
    snprintf(st->name, sizeof st->name, "%s%s", rt->cfg.thread_name, suffix ? suffix : "");

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    if (rt->cfg.thread_stack_size)
        pthread_attr_setstacksize(&attr, rt->cfg.thread_stack_size);
    int rc = pthread_create(th, &attr, thread_main, st);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        free(st);
        return WEFT_ETHREAD;
    }
    return 0;
}
