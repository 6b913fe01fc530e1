/* tests/net/test_reactor.c - the epoll reactor by hand: readiness, wakers, and the tick that
 * keeps a clear from throwing away an edge that arrived after the failed operation looked.
 *
 * A socketpair is registered with a reactor that no runtime drives; the test turns it itself
 * and polls with a counting waker, so every wake is counted and every clone accounted for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <weft/weft.h>

#include "../../runtime/net/reactor.h"

typedef struct counting_waker {
    _Atomic int wakes;
    _Atomic int live; /* clones not consumed */
} counting_waker;

static const weft_waker_vtable counting_vt;

static weft_waker cw_clone(const void *d)
{
    atomic_fetch_add(&((counting_waker *)d)->live, 1);
    return (weft_waker){&counting_vt, d};
}

static void cw_wake(const void *d)
{
    atomic_fetch_add(&((counting_waker *)d)->wakes, 1);
    atomic_fetch_sub(&((counting_waker *)d)->live, 1);
}

static void cw_wake_by_ref(const void *d)
{
    atomic_fetch_add(&((counting_waker *)d)->wakes, 1);
}

static void cw_drop(const void *d)
{
    atomic_fetch_sub(&((counting_waker *)d)->live, 1);
}

static const weft_waker_vtable counting_vt = {cw_clone, cw_wake, cw_wake_by_ref, cw_drop};

static void test_reactor_edge_wakes_once_and_clear_respects_the_tick(void **state)
{
    (void)state;
    weft__reactor *r;
    assert_int_equal(weft__reactor_new(&r), 0);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    weft__io_source *src;
    assert_int_equal(weft__io_register(r, sv[0], 1, &src), 0);
    weft__reactor_turn(r, 0); /* the initial edge: writable */

    counting_waker cw = {0};
    weft_waker w = {&counting_vt, &cw};
    weft_context cx = {&w, NULL};
    uint64_t tick;

    /* Nothing to read: PENDING with the waker stored. */
    assert_int_equal(weft__io_poll_ready(src, WEFT__IO_DIR_READ, &cx, &tick), WEFT_PENDING);
    assert_int_equal(atomic_load(&cw.live), 1);
    /* Writable was reported: the write side is ready without waiting. */
    assert_int_equal(weft__io_poll_ready(src, WEFT__IO_DIR_WRITE, &cx, &tick), WEFT_READY);

    /* Data arrives: one turn wakes the reader exactly once. */
    assert_int_equal(write(sv[1], "abc", 3), 3);
    weft__reactor_turn(r, 1000000000ull);
    assert_int_equal(atomic_load(&cw.wakes), 1);
    assert_int_equal(atomic_load(&cw.live), 0);
    assert_int_equal(weft__io_poll_ready(src, WEFT__IO_DIR_READ, &cx, &tick), WEFT_READY);
    uint64_t seen = tick;

    /* Read it all, then an EAGAIN... but before we clear, more data and its edge arrive. */
    char buf[16];
    assert_int_equal(read(sv[0], buf, sizeof buf), 3);
    assert_int_equal(read(sv[0], buf, sizeof buf), -1);
    assert_int_equal(write(sv[1], "de", 2), 2);
    weft__reactor_turn(r, 1000000000ull);
    /* The stale clear must not hide the new edge. */
    weft__io_clear(src, WEFT__IO_DIR_READ, seen);
    assert_int_equal(weft__io_poll_ready(src, WEFT__IO_DIR_READ, &cx, &tick), WEFT_READY);
    assert_true(tick > seen);
    assert_int_equal(read(sv[0], buf, sizeof buf), 2);
    /* A clear with the current tick does clear: the next poll waits. */
    weft__io_clear(src, WEFT__IO_DIR_READ, tick);
    assert_int_equal(weft__io_poll_ready(src, WEFT__IO_DIR_READ, &cx, &tick), WEFT_PENDING);
    assert_int_equal(atomic_load(&cw.live), 1);

    /* The peer closes: the reader is woken, and end of stream stays ready (sticky). */
    close(sv[1]);
    weft__reactor_turn(r, 1000000000ull);
    assert_int_equal(atomic_load(&cw.wakes), 2);
    assert_int_equal(weft__io_poll_ready(src, WEFT__IO_DIR_READ, &cx, &tick), WEFT_READY);
    weft__io_clear(src, WEFT__IO_DIR_READ, tick);
    assert_int_equal(weft__io_poll_ready(src, WEFT__IO_DIR_READ, &cx, &tick), WEFT_READY);

    /* Deregistering drops a stored waker without waking it. */
    weft__io_source *src2;
    int sv2[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv2), 0);
    assert_int_equal(weft__io_register(r, sv2[0], 2, &src2), 0);
    weft__reactor_turn(r, 0);
    assert_int_equal(weft__io_poll_ready(src2, WEFT__IO_DIR_READ, &cx, &tick), WEFT_PENDING);
    assert_int_equal(atomic_load(&cw.live), 1);
    weft__io_deregister(src2);
    assert_int_equal(atomic_load(&cw.live), 0);
    assert_int_equal(atomic_load(&cw.wakes), 2);

    weft__io_deregister(src);
    close(sv[0]);
    close(sv2[0]);
    close(sv2[1]);
    weft__reactor_free(r); /* frees the deregistered sources (LSan checks) */
}

static void test_reactor_unpark_ends_a_turn(void **state)
{
    (void)state;
    weft__reactor *r;
    assert_int_equal(weft__reactor_new(&r), 0);
    /* An unpark before the turn makes it return at once instead of sleeping forever; the
     * notification is consumed, so a bounded turn afterwards simply times out. */
    weft__reactor_unpark(r);
    weft__reactor_turn(r, UINT64_MAX);
    weft__reactor_turn(r, 1000000ull);
    weft__reactor_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reactor_edge_wakes_once_and_clear_respects_the_tick),
        cmocka_unit_test(test_reactor_unpark_ends_a_turn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
