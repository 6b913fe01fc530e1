/* tests/io/io_test_util.h - what the io tests share: a runtime per case, and a feeder task
 * that writes bytes to a stream in the pieces the stream accepts, yielding between writes so
 * that the reader sees every partial state. */
#ifndef WEFT_IO_TEST_UTIL_H
#define WEFT_IO_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <weft/io.h>
#include <weft/weft.h>

static inline weft_runtime *io_rt_new(weft_flavor flavor)
{
    weft_builder b = flavor == WEFT_CURRENT_THREAD ? weft_builder_new_current_thread()
                                                   : weft_builder_new_multi_thread();
    b.worker_threads = 2;
    b.enable_time = true;
    weft_runtime *rt = NULL;
    assert_int_equal(weft_runtime_new(&b, &rt), 0);
    return rt;
}

static inline void io_block_on(weft_runtime *rt, void *fut)
{
    assert_int_equal(weft_block_on(rt, (weft_future *)fut), 0);
}

/* Writes data[0, len) to `s`, one write (as big as the stream takes) per poll step, then
 * shuts the stream down if `shut`. Its join value is the bytes written. */
typedef struct feeder {
    weft_async co;
    weft_io_stream *s;
    const unsigned char *data; /* borrowed, outlives the task */
    size_t len, off;
    bool shut;
    weft_io_write w;
    weft_yield_now y;
    weft_io_shutdown sd;
} feeder;

static weft_poll feeder_poll(weft_future *f, weft_context *cx)
{
    feeder *fd = (feeder *)f;
    WEFT_ASYNC_BEGIN(&fd->co);
    while (fd->off < fd->len) {
        weft_io_write_init(&fd->w, fd->s, fd->data + fd->off, fd->len - fd->off);
        WEFT_AWAIT(&fd->co, cx, &fd->w);
        if (fd->w.status < 0)
            break;
        fd->off += fd->w.n;
        weft_yield_now_init(&fd->y);
        WEFT_AWAIT(&fd->co, cx, &fd->y);
    }
    if (fd->shut) {
        weft_io_shutdown_init(&fd->sd, fd->s);
        WEFT_AWAIT(&fd->co, cx, &fd->sd);
    }
    weft_task_return(cx, (intptr_t)fd->off);
    WEFT_ASYNC_END(&fd->co);
}

static const weft_future_vtable feeder_vt = {feeder_poll, weft_async_drop, "feeder"};

static inline weft_join_handle feeder_spawn(weft_runtime *rt, weft_io_stream *s,
                                            const void *data, size_t len, bool shut)
{
    feeder f = {.s = s, .data = data, .len = len, .shut = shut};
    weft_async_init(&f.co, &feeder_vt);
    return weft_runtime_spawn(rt, &f);
}

/* A connected duplex pair with the given capacity and max_chunk. */
static inline void duplex_pair(size_t capacity, size_t chunk, weft_duplex **a, weft_duplex **b)
{
    weft_duplex_options o = weft_duplex_options_default();
    o.capacity = capacity;
    o.max_chunk = chunk;
    assert_int_equal(weft_duplex_new(&o, a, b), 0);
}

/* Await a join handle from the test thread; returns its value. */
static inline intptr_t join_value(weft_runtime *rt, weft_join_handle *h)
{
    io_block_on(rt, h);
    assert_int_equal(h->status, 0);
    return h->value;
}

#endif
