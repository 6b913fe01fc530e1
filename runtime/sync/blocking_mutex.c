/* runtime/sync/blocking_mutex.c - the instrumented blocking mutex (see weft/blocking_mutex.h).
 *
 * Who calls it: programs (and the labs that plant the "blocking lock held across an await"
 * bug); the runtime and the tools read weft__blocking_mutex_held_by_current_thread() and the
 * holder recorded in each mutex.
 *
 * The mutex is a `locked` flag guarded by a pthread mutex that is only held for a few
 * instructions, plus a condition variable for the threads that wait. Every transition of
 * `locked` happens under that inner lock, so the unlocker's writes to the protected data
 * happen-before the next locker's reads (the inner lock orders them), whichever threads they
 * run on.
 *
 * Per-thread hold counts. Each thread that locks a blocking mutex gets a slot in a static
 * table of counters; the mutex remembers which slot it charged, and unlock() pays that slot
 * back, from whatever thread it runs on. A slot's word is
 *
 *     held count | ORPHAN (bit 30: the owning thread has exited)
 *
 * Slots live in static storage, so a mutex can always pay back the slot it charged, even after
 * the locking thread exited. A thread that exits with a zero count frees its slot at once (a
 * pthread key destructor); one that exits holding mutexes marks its slot ORPHAN, and the
 * unlock that brings an orphaned slot to zero frees it. Exactly one party sees the word go to
 * 0 (exit with 0, or ORPHAN|1 -> ORPHAN|0 in the unlock), so a slot is freed once. When all
 * slots are taken, threads share one overflow slot that is never freed; its count is then the
 * sum over those threads (the lint may over-report there, never miss a hold).
 */
#include <stdint.h>

#include <weft/blocking_mutex.h>

#include "../util/list.h"
#include "resource.h"

#define HELD_SLOTS 256
#define OVERFLOW_SLOT HELD_SLOTS
#define ORPHAN (1 << 30)

static _Atomic int held[HELD_SLOTS + 1];   /* per-slot word: count | ORPHAN */
static _Atomic bool slot_taken[HELD_SLOTS]; /* claimed by a live thread (or orphaned) */
static _Thread_local int my_slot = -1;      /* the calling thread's slot, -1 before its first
                                               lock */
static pthread_key_t slot_key;              /* its destructor frees or orphans the slot */
static pthread_once_t slot_key_once = PTHREAD_ONCE_INIT;
static bool slot_key_ok;                    /* written once under slot_key_once */

static void free_slot(int slot)
{
    atomic_store_explicit(&held[slot], 0, memory_order_relaxed);
    atomic_store_explicit(&slot_taken[slot], false, memory_order_release);
}

static void slot_thread_exit(void *v)
{
    int slot = (int)(intptr_t)v - 1;
    if (slot < 0 || slot >= HELD_SLOTS)
        return;
    int before = atomic_fetch_or_explicit(&held[slot], ORPHAN, memory_order_acq_rel);
    if (before == 0)
        free_slot(slot);
}

static void slot_key_create(void)
{
    slot_key_ok = pthread_key_create(&slot_key, slot_thread_exit) == 0;
}

static int current_slot(void)
{
    if (my_slot >= 0)
        return my_slot;
    pthread_once(&slot_key_once, slot_key_create);
    for (int i = 0; i < HELD_SLOTS; i++) {
        bool expect = false;
        if (atomic_compare_exchange_strong_explicit(&slot_taken[i], &expect, true,
                                                    memory_order_acquire,
                                                    memory_order_relaxed)) {
            atomic_store_explicit(&held[i], 0, memory_order_relaxed);
            /* Without the key the slot is simply never given back: still correct. */
            if (slot_key_ok)
                (void)pthread_setspecific(slot_key, (void *)(intptr_t)(i + 1));
            my_slot = i;
            return i;
        }
    }
    my_slot = OVERFLOW_SLOT;
    return my_slot;
}

/* Pay back a hold charged to `slot` (inner lock held). */
static void uncharge(int slot)
{
    if (slot < 0)
        return;
    int before = atomic_fetch_sub_explicit(&held[slot], 1, memory_order_acq_rel);
    if (slot != OVERFLOW_SLOT && before == (ORPHAN | 1))
        free_slot(slot);
}

int weft__blocking_mutex_held_by_current_thread(void)
{
    if (my_slot < 0)
        return 0;
    return atomic_load_explicit(&held[my_slot], memory_order_relaxed) & ~ORPHAN;
}

/* ---------------------------------------------------------------- the mutex */

/* For a reader that attaches late: who holds it, as the lock_acquire it missed. */
static void blocking_mutex_snapshot(const weft_resource *r)
{
    weft_blocking_mutex *m = weft__container_of(r, weft_blocking_mutex, res);
    if (weft_blocking_mutex_is_locked(m))
        weft__resource_event(lock_acquire, &m->res, weft_blocking_mutex_holder(m),
                             WEFT_OP_LOCK);
}

void weft__blocking_mutex_init(weft_blocking_mutex *m, const char *name, weft_location where)
{
    if (!m)
        return;
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->released, NULL);
    m->locked = false;
    m->waiting = 0;
    m->holder_slot = -1;
    atomic_init(&m->holder, 0);
    weft__resource_init_cap(&m->res, WEFT_RESOURCE_BLOCKING_MUTEX, name, where, 1);
    m->res.snapshot = blocking_mutex_snapshot;
}

int weft_blocking_mutex_destroy(weft_blocking_mutex *m)
{
    if (!m)
        return WEFT_EINVAL;
    pthread_mutex_lock(&m->lock);
    bool busy = m->locked || m->waiting;
    pthread_mutex_unlock(&m->lock);
    if (busy)
        return WEFT_EBUSY;
    weft__resource_drop(&m->res);
    pthread_cond_destroy(&m->released);
    pthread_mutex_destroy(&m->lock);
    return 0;
}

/* Take the free mutex (inner lock held). */
static void take(weft_blocking_mutex *m, int slot)
{
    m->locked = true;
    m->holder_slot = slot;
    atomic_fetch_add_explicit(&held[slot], 1, memory_order_acq_rel);
    atomic_store_explicit(&m->holder, weft__resource_current_task(), memory_order_relaxed);
}

int weft__blocking_mutex_lock(weft_blocking_mutex *m, weft_location where)
{
    if (!m)
        return WEFT_EINVAL;
    int slot = current_slot();
    bool waited = false;
    pthread_mutex_lock(&m->lock);
    if (m->locked && m->holder_slot == slot) {
        /* Locked on this very thread: it would never return. The deterministic scheduler,
         * which runs every task on this thread, records that as the run's deadlock and wants
         * the call back so that the run can stop; elsewhere, block as documented. */
        weft_task_id holder = atomic_load_explicit(&m->holder, memory_order_relaxed);
        pthread_mutex_unlock(&m->lock);
        if (WEFT__DET_ACTIVE() && weft__det_on_blocking_self_deadlock(&m->res, holder, where))
            return WEFT_EBUSY;
        pthread_mutex_lock(&m->lock);
    }
    if (m->locked) {
        /* Report the wait before blocking, and outside the inner lock, so that whatever the
         * hook does (a tracer, the deterministic scheduler) it cannot stall other lockers. */
        m->waiting++;
        pthread_mutex_unlock(&m->lock);
        weft__resource_wait(&m->res, WEFT_OP_LOCK, where);
        waited = true;
        pthread_mutex_lock(&m->lock);
        while (m->locked)
            pthread_cond_wait(&m->released, &m->lock);
        m->waiting--;
    }
    take(m, slot);
    pthread_mutex_unlock(&m->lock);
    if (waited)
        weft__resource_wait_done(&m->res, WEFT_OP_LOCK);
    weft__resource_event(lock_acquire, &m->res, weft__resource_current_task(), WEFT_OP_LOCK);
    return 0;
}

int weft_blocking_mutex_try_lock(weft_blocking_mutex *m)
{
    if (!m)
        return WEFT_EINVAL;
    int slot = current_slot();
    pthread_mutex_lock(&m->lock);
    if (m->locked) {
        pthread_mutex_unlock(&m->lock);
        return WEFT_EBUSY;
    }
    take(m, slot);
    pthread_mutex_unlock(&m->lock);
    weft__resource_event(lock_acquire, &m->res, weft__resource_current_task(), WEFT_OP_LOCK);
    return 0;
}

int weft_blocking_mutex_unlock(weft_blocking_mutex *m)
{
    if (!m)
        return WEFT_EINVAL;
    pthread_mutex_lock(&m->lock);
    if (!m->locked) {
        pthread_mutex_unlock(&m->lock);
        return WEFT_EINVAL;
    }
    m->locked = false;
    uncharge(m->holder_slot);
    m->holder_slot = -1;
    weft_task_id was = atomic_exchange_explicit(&m->holder, 0, memory_order_relaxed);
    if (m->waiting)
        pthread_cond_signal(&m->released);
    pthread_mutex_unlock(&m->lock);
    weft__resource_event(lock_release, &m->res, was, WEFT_OP_LOCK);
    (void)was;
    return 0;
}

bool weft_blocking_mutex_is_locked(const weft_blocking_mutex *m)
{
    if (!m)
        return false;
    weft_blocking_mutex *mm = (weft_blocking_mutex *)m;
    pthread_mutex_lock(&mm->lock);
    bool locked = mm->locked;
    pthread_mutex_unlock(&mm->lock);
    return locked;
}

weft_task_id weft_blocking_mutex_holder(const weft_blocking_mutex *m)
{
    return m ? atomic_load_explicit(&((weft_blocking_mutex *)m)->holder, memory_order_relaxed)
             : 0;
}
