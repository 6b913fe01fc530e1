/* tests/unit/test_det_programs.c - the classic-bug programs of test_det_programs.h.
 *
 * Written as a learner would write them: async functions with WEFT_AWAIT, the real weft
 * primitives, weft_assert for invariants. Each body cleans up whatever happened (a failed run
 * stops block_on half-way, so the main future is dropped to cancel what it still holds) and
 * shuts its runtime down, so that exploring thousands of schedules in one process leaks
 * nothing.
 */
#include <string.h>

#include <weft/sched.h>
#include <weft/weft.h>

#include "test_det_programs.h"

static weft_runtime *new_rt(void)
{
    weft_builder b = weft_builder_new_multi_thread(); /* deterministic all the same */
    weft_runtime *rt = NULL;
    if (weft_runtime_new(&b, &rt) != 0)
        return NULL;
    return rt;
}

/* block_on main; on a failure cancel what main still holds; shut down. */
static int run_main(weft_runtime *rt, weft_future *main_fut)
{
    int rc = weft_block_on(rt, main_fut);
    if (rc != 0)
        weft_future_drop(main_fut);
    weft_runtime_shutdown(rt);
    return 0;
}

static int variant(void *arg)
{
    return arg ? *(int *)arg : 0;
}

/* ---------------------------------------------------------------- joining two tasks */

typedef struct pair_main {
    weft_async co;
    weft_join_handle h[2];
    void (*check)(void);
} pair_main;

static weft_poll pair_main_poll(weft_future *f, weft_context *cx)
{
    pair_main *m = (pair_main *)f;
    WEFT_ASYNC_BEGIN(&m->co);
    WEFT_AWAIT(&m->co, cx, &m->h[0]);
    WEFT_AWAIT(&m->co, cx, &m->h[1]);
    if (m->check)
        m->check();
    WEFT_ASYNC_END(&m->co);
}

static void pair_main_drop(weft_future *f)
{
    pair_main *m = (pair_main *)f;
    weft_async_drop(f);
    weft_join_handle_detach(&m->h[0]);
    weft_join_handle_detach(&m->h[1]);
}

static const weft_future_vtable pair_main_vt = {pair_main_poll, pair_main_drop, "main"};

static int run_pair(weft_runtime *rt, const char *name, weft_future *a, size_t asz,
                    weft_future *b, size_t bsz, void (*check)(void))
{
    pair_main m = {.check = check};
    weft_async_init(&m.co, &pair_main_vt);
    m.h[0] = weft__spawn(rt, a, asz, name, WEFT_HERE);
    m.h[1] = weft__spawn(rt, b, bsz, name, WEFT_HERE);
    return run_main(rt, &m.co.base);
}

/* ---------------------------------------------------------------- race */

static int race_counter;
static weft_mutex race_lock;

typedef struct incr {
    weft_async co;
    bool locked;
    int work;        /* yields before the increment ("other work") */
    int i, seen;
    weft_yield_now y;
    weft_mutex_lock lk;
} incr;

static weft_poll incr_poll(weft_future *f, weft_context *cx)
{
    incr *t = (incr *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    for (t->i = 0; t->i < t->work; t->i++) {
        weft_yield_now_init(&t->y);
        WEFT_AWAIT(&t->co, cx, &t->y);
    }
    if (t->locked) {
        weft_mutex_lock_init(&t->lk, &race_lock);
        WEFT_AWAIT(&t->co, cx, &t->lk);
    }
    t->seen = race_counter;
    weft_yield_now_init(&t->y);
    WEFT_AWAIT(&t->co, cx, &t->y);
    race_counter = t->seen + 1;
    if (t->locked)
        weft_mutex_guard_release(&t->lk.guard);
    WEFT_ASYNC_END(&t->co);
}

static void incr_drop(weft_future *f)
{
    incr *t = (incr *)f;
    weft_async_drop(f);
    if (t->locked)
        weft_mutex_guard_release(&t->lk.guard);
}

static const weft_future_vtable incr_vt = {incr_poll, incr_drop, "increment"};

static void race_check(void)
{
    weft_assert(race_counter == 2);
}

int det_prog_race(void *arg)
{
    weft_runtime *rt = new_rt();
    if (!rt)
        return 1;
    race_counter = 0;
    weft_mutex_init(&race_lock, "counter_lock");
    incr a = {.locked = variant(arg) == 1}, b = a;
    b.work = 2; /* under FIFO the first increment is over before the second starts */
    weft_async_init(&a.co, &incr_vt);
    weft_async_init(&b.co, &incr_vt);
    int rc = run_pair(rt, "increment", &a.co.base, sizeof a, &b.co.base, sizeof b, race_check);
    weft_mutex_destroy(&race_lock);
    return rc;
}

/* ---------------------------------------------------------------- two locks */

typedef struct locker {
    weft_async co;
    weft_mutex *first, *second;
    int work, i;
    weft_mutex_lock l1, l2;
    weft_yield_now y;
    bool holds1;
} locker;

static weft_poll locker_poll(weft_future *f, weft_context *cx)
{
    locker *t = (locker *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    for (t->i = 0; t->i < t->work; t->i++) {
        weft_yield_now_init(&t->y);
        WEFT_AWAIT(&t->co, cx, &t->y);
    }
    weft_mutex_lock_init(&t->l1, t->first);
    WEFT_AWAIT(&t->co, cx, &t->l1);
    t->holds1 = true;
    weft_yield_now_init(&t->y); /* some work that awaits, with the first lock held */
    WEFT_AWAIT(&t->co, cx, &t->y);
    weft_mutex_lock_init(&t->l2, t->second);
    WEFT_AWAIT(&t->co, cx, &t->l2);
    weft_mutex_guard_release(&t->l2.guard);
    weft_mutex_guard_release(&t->l1.guard);
    t->holds1 = false;
    WEFT_ASYNC_END(&t->co);
}

static void locker_drop(weft_future *f)
{
    locker *t = (locker *)f;
    weft_async_drop(f);
    if (t->holds1)
        weft_mutex_guard_release(&t->l1.guard);
}

static const weft_future_vtable locker_vt = {locker_poll, locker_drop, "transfer"};

int det_prog_two_lock(void *arg)
{
    weft_runtime *rt = new_rt();
    if (!rt)
        return 1;
    weft_mutex a, b;
    weft_mutex_init(&a, "account_a");
    weft_mutex_init(&b, "account_b");
    locker t1 = {.first = &a, .second = &b};
    locker t2 = {.first = &b, .second = &a, .work = 1};
    if (variant(arg) == 1)
        t2.first = &a, t2.second = &b;
    weft_async_init(&t1.co, &locker_vt);
    weft_async_init(&t2.co, &locker_vt);
    int rc = run_pair(rt, "transfer", &t1.co.base, sizeof t1, &t2.co.base, sizeof t2, NULL);
    weft_mutex_destroy(&a);
    weft_mutex_destroy(&b);
    return rc;
}

/* ---------------------------------------------------------------- lost wakeup */

typedef struct two_flags {
    bool a, b;
    weft_waker waker;
} two_flags;

static two_flags flags;

/* The hand-written leaf future: READY once both flags are set. */
typedef struct both_set {
    weft_future base;
    bool fixed;
    bool registered;
} both_set;

static weft_poll both_set_poll(weft_future *f, weft_context *cx)
{
    both_set *w = (both_set *)f;
    if (flags.a && flags.b)
        return WEFT_READY;
    if (w->fixed || !w->registered) {
        /* The bug: only the first pending poll registers. A wake consumes the stored waker,
         * so after the first wake nothing would wake us again. */
        weft_waker_register(&flags.waker, cx);
        w->registered = true;
    }
    return WEFT_PENDING;
}

static const weft_future_vtable both_set_vt = {both_set_poll, NULL, "both_set"};

typedef struct waiter_task {
    weft_async co;
    both_set w;
} waiter_task;

static weft_poll waiter_poll(weft_future *f, weft_context *cx)
{
    waiter_task *t = (waiter_task *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    WEFT_AWAIT(&t->co, cx, &t->w);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable waiter_vt = {waiter_poll, weft_async_drop, "waiter"};

/* Sets one flag and wakes the waiter. */
typedef struct setter_task {
    weft_future base;
    bool *flag;
} setter_task;

static weft_poll setter_poll(weft_future *f, weft_context *cx)
{
    (void)cx;
    setter_task *t = (setter_task *)f;
    *t->flag = true;
    weft_waker_wake(&flags.waker);
    return WEFT_READY;
}

static const weft_future_vtable setter_vt = {setter_poll, NULL, "setter"};

typedef struct lw_main {
    weft_async co;
    weft_join_handle h[3];
} lw_main;

static weft_poll lw_main_poll(weft_future *f, weft_context *cx)
{
    lw_main *m = (lw_main *)f;
    WEFT_ASYNC_BEGIN(&m->co);
    WEFT_AWAIT(&m->co, cx, &m->h[0]);
    WEFT_AWAIT(&m->co, cx, &m->h[1]);
    WEFT_AWAIT(&m->co, cx, &m->h[2]);
    WEFT_ASYNC_END(&m->co);
}

static void lw_main_drop(weft_future *f)
{
    lw_main *m = (lw_main *)f;
    weft_async_drop(f);
    for (int i = 0; i < 3; i++)
        weft_join_handle_detach(&m->h[i]);
}

static const weft_future_vtable lw_main_vt = {lw_main_poll, lw_main_drop, "main"};

int det_prog_lost_wakeup(void *arg)
{
    weft_runtime *rt = new_rt();
    if (!rt)
        return 1;
    memset(&flags, 0, sizeof flags);
    waiter_task w = {.w = {.base = {&both_set_vt}, .fixed = variant(arg) == 1}};
    weft_async_init(&w.co, &waiter_vt);
    setter_task sa = {.base = {&setter_vt}, .flag = &flags.a};
    setter_task sb = {.base = {&setter_vt}, .flag = &flags.b};
    lw_main m = {0};
    weft_async_init(&m.co, &lw_main_vt);
    m.h[0] = weft_runtime_spawn_named(rt, "waiter", &w);
    m.h[1] = weft_runtime_spawn_named(rt, "set_a", &sa);
    m.h[2] = weft_runtime_spawn_named(rt, "set_b", &sb);
    int rc = run_main(rt, &m.co.base);
    weft_waker_drop(&flags.waker);
    return rc;
}

/* ---------------------------------------------------------------- bounded buffer */

#define BB_ITEMS 3

typedef struct bounded {
    int slot;
    bool full;
    int received;
    weft_notify not_empty, not_full;
    bool fixed;
} bounded;

static bounded bb;

typedef struct bb_side {
    weft_async co;
    bool producer;
    int work;               /* yields of "processing" before each item */
    int i, j;
    bool have;              /* the notified future is initialised (fixed variant) */
    weft_notified n;
    weft_mpsc_send log;     /* "something else to await" between the check and the wait */
    weft_yield_now y;
} bb_side;

/* Wait until the buffer is in the state this side needs. */
static bool bb_ready(const bb_side *s)
{
    return s->producer ? !bb.full : bb.full;
}

static weft_poll bb_side_poll(weft_future *f, weft_context *cx)
{
    bb_side *s = (bb_side *)f;
    weft_notify *mine = s->producer ? &bb.not_full : &bb.not_empty;
    weft_notify *theirs = s->producer ? &bb.not_empty : &bb.not_full;
    WEFT_ASYNC_BEGIN(&s->co);
    for (s->i = 0; s->i < BB_ITEMS; s->i++) {
        for (s->j = 0; s->j < s->work; s->j++) {
            weft_yield_now_init(&s->y);
            WEFT_AWAIT(&s->co, cx, &s->y);
        }
        for (;;) {
            if (bb.fixed) {
                /* Create the future first: notify_waiters reaches every future created before
                 * the call, so nothing sent after this line can be missed. */
                weft_notify_notified_init(&s->n, mine);
                s->have = true;
            }
            if (bb_ready(s))
                break;
            weft_yield_now_init(&s->y); /* e.g. logging "buffer full, waiting" */
            WEFT_AWAIT(&s->co, cx, &s->y);
            if (!bb.fixed) {
                weft_notify_notified_init(&s->n, mine);
                s->have = true;
            }
            WEFT_AWAIT(&s->co, cx, &s->n);
            s->have = false;
        }
        if (s->have) {
            weft_future_drop(&s->n.base);
            s->have = false;
        }
        if (s->producer) {
            bb.slot = s->i;
            bb.full = true;
        } else {
            weft_assert(bb.slot == s->i);
            bb.full = false;
            bb.received++;
        }
        weft_notify_notify_waiters(theirs);
    }
    WEFT_ASYNC_END(&s->co);
}

static void bb_side_drop(weft_future *f)
{
    bb_side *s = (bb_side *)f;
    weft_future *awaiting = s->co.awaiting;
    weft_async_drop(f);
    if (s->have && awaiting != &s->n.base)
        weft_future_drop(&s->n.base);
    s->have = false;
}

static const weft_future_vtable bb_side_vt = {bb_side_poll, bb_side_drop, "bb"};

static void bb_check(void)
{
    weft_assert(bb.received == BB_ITEMS);
}

int det_prog_bounded_buffer(void *arg)
{
    weft_runtime *rt = new_rt();
    if (!rt)
        return 1;
    memset(&bb, 0, sizeof bb);
    bb.fixed = variant(arg) == 1;
    weft_notify_init(&bb.not_empty, "not_empty");
    weft_notify_init(&bb.not_full, "not_full");
    bb_side p = {.producer = true}, c = {.producer = false, .work = 2};
    weft_async_init(&p.co, &bb_side_vt);
    weft_async_init(&c.co, &bb_side_vt);
    pair_main m = {.check = bb_check};
    weft_async_init(&m.co, &pair_main_vt);
    m.h[0] = weft_runtime_spawn_named(rt, "producer", &p);
    m.h[1] = weft_runtime_spawn_named(rt, "consumer", &c);
    int rc = run_main(rt, &m.co.base);
    weft_notify_destroy(&bb.not_empty);
    weft_notify_destroy(&bb.not_full);
    return rc;
}

/* ---------------------------------------------------------------- re-entrant read */

static weft_rwlock rr_lock;

typedef struct rr_reader {
    weft_async co;
    bool fixed;
    weft_rwlock_read r1, r2;
    bool holds1, holds2;
    weft_yield_now y;
} rr_reader;

static weft_poll rr_reader_poll(weft_future *f, weft_context *cx)
{
    rr_reader *t = (rr_reader *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    weft_rwlock_read_init(&t->r1, &rr_lock);
    WEFT_AWAIT(&t->co, cx, &t->r1);
    t->holds1 = true;
    weft_yield_now_init(&t->y);
    WEFT_AWAIT(&t->co, cx, &t->y);
    if (!t->fixed) {
        /* A helper that takes the read lock again, while we still hold it. */
        weft_rwlock_read_init(&t->r2, &rr_lock);
        WEFT_AWAIT(&t->co, cx, &t->r2);
        t->holds2 = true;
        weft_rwlock_read_guard_release(&t->r2.guard);
        t->holds2 = false;
    }
    weft_rwlock_read_guard_release(&t->r1.guard);
    t->holds1 = false;
    WEFT_ASYNC_END(&t->co);
}

static void rr_reader_drop(weft_future *f)
{
    rr_reader *t = (rr_reader *)f;
    weft_async_drop(f);
    if (t->holds2)
        weft_rwlock_read_guard_release(&t->r2.guard);
    if (t->holds1)
        weft_rwlock_read_guard_release(&t->r1.guard);
}

static const weft_future_vtable rr_reader_vt = {rr_reader_poll, rr_reader_drop, "reader"};

typedef struct rr_writer {
    weft_async co;
    int i;
    weft_yield_now y;
    weft_rwlock_write w;
} rr_writer;

static weft_poll rr_writer_poll(weft_future *f, weft_context *cx)
{
    rr_writer *t = (rr_writer *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    for (t->i = 0; t->i < 1; t->i++) { /* other work first */
        weft_yield_now_init(&t->y);
        WEFT_AWAIT(&t->co, cx, &t->y);
    }
    weft_rwlock_write_init(&t->w, &rr_lock);
    WEFT_AWAIT(&t->co, cx, &t->w);
    weft_rwlock_write_guard_release(&t->w.guard);
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable rr_writer_vt = {rr_writer_poll, weft_async_drop, "writer"};

int det_prog_reentrant_read(void *arg)
{
    weft_runtime *rt = new_rt();
    if (!rt)
        return 1;
    weft_rwlock_init(&rr_lock, "config");
    rr_reader r = {.fixed = variant(arg) == 1};
    weft_async_init(&r.co, &rr_reader_vt);
    rr_writer w;
    weft_async_init(&w.co, &rr_writer_vt);
    pair_main m = {0};
    weft_async_init(&m.co, &pair_main_vt);
    m.h[0] = weft_runtime_spawn_named(rt, "reader", &r);
    m.h[1] = weft_runtime_spawn_named(rt, "writer", &w);
    int rc = run_main(rt, &m.co.base);
    weft_rwlock_destroy(&rr_lock);
    return rc;
}

/* ---------------------------------------------------------------- select and frames */

#define SF_FRAMES 3

static weft_mpsc_sender sf_tx, sf_ctl_tx;
static weft_mpsc_receiver sf_rx, sf_ctl_rx;

/* A frame is two chunks: its number n, then n + 1000. */
typedef struct frame_read {
    weft_async co;
    weft_mpsc_recv r;
    int header, body;
} frame_read;

static weft_poll frame_read_poll(weft_future *f, weft_context *cx)
{
    frame_read *fr = (frame_read *)f;
    WEFT_ASYNC_BEGIN(&fr->co);
    weft_mpsc_recv_init(&fr->r, &sf_rx, &fr->header);
    WEFT_AWAIT(&fr->co, cx, &fr->r);
    weft_mpsc_recv_init(&fr->r, &sf_rx, &fr->body);
    WEFT_AWAIT(&fr->co, cx, &fr->r);
    WEFT_ASYNC_END(&fr->co);
}

static const weft_future_vtable frame_read_vt = {frame_read_poll, weft_async_drop, "frame_read"};

typedef struct sf_reader {
    weft_async co;
    bool fixed;
    int frames, ctl, chunk;
    bool ctl_done;             /* the control channel is closed */
    int pending_header;        /* fixed: the header read so far, or -1 */
    frame_read fr;             /* buggy: the whole frame as one branch */
    weft_mpsc_recv chunk_rx;   /* fixed: one chunk as the branch */
    weft_mpsc_recv ctl_rx;
    weft_future *branches[2];
    weft_select sel;
} sf_reader;

static weft_poll sf_reader_poll(weft_future *f, weft_context *cx)
{
    sf_reader *s = (sf_reader *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    s->pending_header = -1;
    while (s->frames < SF_FRAMES) {
        if (s->fixed) {
            weft_mpsc_recv_init(&s->chunk_rx, &sf_rx, &s->chunk);
            s->branches[0] = &s->chunk_rx.base;
        } else {
            weft_async_init(&s->fr.co, &frame_read_vt);
            s->branches[0] = &s->fr.co.base;
        }
        weft_mpsc_recv_init(&s->ctl_rx, &sf_ctl_rx, &s->ctl);
        s->branches[1] = s->ctl_done ? NULL : &s->ctl_rx.base;
        weft_select_init(&s->sel, s->branches, 2);
        WEFT_AWAIT(&s->co, cx, &s->sel);
        if (s->sel.winner == 1) {
            if (s->ctl_rx.status != 0)
                s->ctl_done = true; /* the pinger is done */
            continue; /* handled the control message; read on */
        }
        if (s->fixed) {
            if (s->chunk_rx.status != 0)
                break;
            if (s->pending_header < 0) {
                s->pending_header = s->chunk;
                continue;
            }
            weft_assert(s->chunk == s->pending_header + 1000);
            s->pending_header = -1;
        } else {
            if (s->fr.r.status != 0)
                break;
            weft_assert(s->fr.body == s->fr.header + 1000);
        }
        s->frames++;
    }
    WEFT_ASYNC_END(&s->co);
}

static const weft_future_vtable sf_reader_vt = {sf_reader_poll, weft_async_drop, "reader"};

typedef struct sf_writer {
    weft_async co;
    int i, v;
    weft_mpsc_send s;
    weft_yield_now y;
} sf_writer;

static weft_poll sf_writer_poll(weft_future *f, weft_context *cx)
{
    sf_writer *w = (sf_writer *)f;
    WEFT_ASYNC_BEGIN(&w->co);
    for (w->i = 0; w->i < SF_FRAMES; w->i++) {
        w->v = w->i;
        weft_mpsc_send_init(&w->s, &sf_tx, &w->v);
        WEFT_AWAIT(&w->co, cx, &w->s);
        weft_yield_now_init(&w->y);
        WEFT_AWAIT(&w->co, cx, &w->y);
        w->v = w->i + 1000;
        weft_mpsc_send_init(&w->s, &sf_tx, &w->v);
        WEFT_AWAIT(&w->co, cx, &w->s);
    }
    weft_mpsc_sender_drop(&sf_tx);
    WEFT_ASYNC_END(&w->co);
}

static const weft_future_vtable sf_writer_vt = {sf_writer_poll, weft_async_drop, "writer"};

typedef struct sf_pinger {
    weft_async co;
    int v;
    weft_yield_now y;
    weft_mpsc_send s;
} sf_pinger;

static weft_poll sf_pinger_poll(weft_future *f, weft_context *cx)
{
    sf_pinger *p = (sf_pinger *)f;
    WEFT_ASYNC_BEGIN(&p->co);
    p->v = 1;
    weft_mpsc_send_init(&p->s, &sf_ctl_tx, &p->v);
    WEFT_AWAIT(&p->co, cx, &p->s);
    weft_mpsc_sender_drop(&sf_ctl_tx);
    WEFT_ASYNC_END(&p->co);
}

static const weft_future_vtable sf_pinger_vt = {sf_pinger_poll, weft_async_drop, "pinger"};

typedef struct sf_main {
    weft_async co;
    weft_join_handle h[3];
} sf_main;

static weft_poll sf_main_poll(weft_future *f, weft_context *cx)
{
    sf_main *m = (sf_main *)f;
    WEFT_ASYNC_BEGIN(&m->co);
    WEFT_AWAIT(&m->co, cx, &m->h[0]);
    WEFT_AWAIT(&m->co, cx, &m->h[1]);
    WEFT_AWAIT(&m->co, cx, &m->h[2]);
    WEFT_ASYNC_END(&m->co);
}

static void sf_main_drop(weft_future *f)
{
    sf_main *m = (sf_main *)f;
    weft_async_drop(f);
    for (int i = 0; i < 3; i++)
        weft_join_handle_detach(&m->h[i]);
}

static const weft_future_vtable sf_main_vt = {sf_main_poll, sf_main_drop, "main"};

int det_prog_select_frame(void *arg)
{
    weft_runtime *rt = new_rt();
    if (!rt)
        return 1;
    if (weft_mpsc_channel(&sf_tx, &sf_rx, 4, sizeof(int), "frames") ||
        weft_mpsc_unbounded_channel(&sf_ctl_tx, &sf_ctl_rx, sizeof(int), "control")) {
        weft_runtime_shutdown(rt);
        return 1;
    }
    sf_reader r = {.fixed = variant(arg) == 1};
    weft_async_init(&r.co, &sf_reader_vt);
    sf_writer w;
    weft_async_init(&w.co, &sf_writer_vt);
    sf_pinger p;
    weft_async_init(&p.co, &sf_pinger_vt);
    sf_main m = {0};
    weft_async_init(&m.co, &sf_main_vt);
    /* The pinger first: under FIFO its message is handled before any frame starts. */
    m.h[0] = weft_runtime_spawn_named(rt, "pinger", &p);
    m.h[1] = weft_runtime_spawn_named(rt, "reader", &r);
    m.h[2] = weft_runtime_spawn_named(rt, "writer", &w);
    int rc = run_main(rt, &m.co.base);
    weft_mpsc_sender_drop(&sf_tx);
    weft_mpsc_sender_drop(&sf_ctl_tx);
    weft_mpsc_receiver_drop(&sf_rx);
    weft_mpsc_receiver_drop(&sf_ctl_rx);
    return rc;
}

/* ---------------------------------------------------------------- two plain tasks */

typedef struct plain {
    weft_async co;
    int i;
    weft_yield_now y;
} plain;

static weft_poll plain_poll(weft_future *f, weft_context *cx)
{
    plain *t = (plain *)f;
    WEFT_ASYNC_BEGIN(&t->co);
    for (t->i = 0; t->i < 3; t->i++) {
        weft_yield_now_init(&t->y);
        WEFT_AWAIT(&t->co, cx, &t->y);
    }
    WEFT_ASYNC_END(&t->co);
}

static const weft_future_vtable plain_vt = {plain_poll, weft_async_drop, "worker"};

int det_prog_two_tasks(void *arg)
{
    (void)arg;
    weft_runtime *rt = new_rt();
    if (!rt)
        return 1;
    plain a, b;
    weft_async_init(&a.co, &plain_vt);
    weft_async_init(&b.co, &plain_vt);
    return run_pair(rt, "worker", &a.co.base, sizeof a, &b.co.base, sizeof b, NULL);
}
