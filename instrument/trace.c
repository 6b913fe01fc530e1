/* instrument/trace.c - the shared-memory ring sink: the segment, the rings, the writers.
 *
 * Who calls it: the hooks (hooks.h) through the emitters of emit.c; runtime.c at the start of
 * weft_runtime_new (trace_setup) and in runtime_start/stop; the runtime's threads as they
 * enter and leave (thread_enter/leave); the tests (trace_int.h).
 *
 * Life cycle. The first runtime built with WEFT_TRACE=1 in the environment creates the
 * segment (ring_format.h) and turns the hooks on; it stays until the process exits (an
 * atexit handler marks it dead and unlinks its name; readers that have it mapped keep
 * reading). Each thread that emits claims a ring on its first record and gives it back when
 * it exits (a pthread key destructor). weft__trace_gen changes at every start and stop, so a
 * thread whose ring belongs to an older segment claims a new one instead of writing into
 * unmapped memory; stopping is only for tests, with no thread emitting.
 *
 * The tracer thread sleeps on the segment's snapshot_req word (a futex shared with the
 * reader's process) and, when a reader asks, writes a snapshot of every live runtime, task
 * and resource into its own ring (snapshot.c). It also refines the TSC calibration once a
 * second. It is the one writer allowed to wait for room, since it is not a runtime thread.
 *
 * Invariants:
 *   - a ring is written only by the thread that set it OWNED (CAS from FREE or RETIRED);
 *   - `head` only grows, and never passes tail + ring_size as the writer read tail;
 *   - the writer's private copies (data, mask, head) are the only ones it uses to address
 *     the ring, so a reader writing garbage into the segment cannot make it write outside.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <weft/error.h>
#include <weft/resource.h>

#include "../runtime/rt_int.h"
#include "trace_int.h"

_Atomic unsigned char weft__trace_on;
_Atomic uint64_t weft__trace_gen;
unsigned weft__trace_clock_kind = WEFT_CLOCK_MONOTONIC;
bool weft__trace_virtual;

/* The latest virtual time seen by a deterministic thread: threads outside the simulation (the
 * tracer's snapshots, teardown after the run) stamp their records with it, so that every
 * ring's timestamps stay on one non-decreasing clock. One second is added so that no record
 * is stamped 0, which readers take for "no timestamp yet". */
static _Atomic uint64_t virtual_latest;
#define VIRTUAL_EPOCH_NS 1000000000ull

uint64_t weft__trace_virtual_now(void)
{
    if (WEFT__DET_ACTIVE()) {
        uint64_t now = weft__clock_now(weft__tls.rt->clock) + VIRTUAL_EPOCH_NS;
        uint64_t seen = atomic_load_explicit(&virtual_latest, memory_order_relaxed);
        while (now > seen && !atomic_compare_exchange_weak_explicit(
                                 &virtual_latest, &seen, now, memory_order_relaxed,
                                 memory_order_relaxed)) {
        }
        return now > seen ? now : seen;
    }
    uint64_t seen = atomic_load_explicit(&virtual_latest, memory_order_relaxed);
    return seen ? seen : VIRTUAL_EPOCH_NS;
}
_Thread_local weft__writer weft__w __attribute__((tls_model("initial-exec")));
_Thread_local weft__trace_ident weft__trace_me = {0, 0, WEFT_THREAD_OTHER};

/* Everything below is guarded by `lock` (start/stop, the runtime list), except what the
 * writers read: `seg`, `rings`, `nrings` and `ring_size` are written before weft__trace_gen
 * is published (release) and stay valid until stop, which requires quiescence. */
static struct {
    pthread_mutex_t lock;
    weft__seg_header *seg;     /* the mapping, NULL when stopped */
    size_t seg_size;
    weft__ring_ctl *rings;     /* seg's ring table */
    uint8_t *base;             /* == seg, as bytes */
    unsigned nrings;
    uint64_t ring_size;
    char name[64];             /* shm name */
    bool started;
    bool atexit_set;
    unsigned wait_ms;          /* WEFT_TRACE_WAIT_MS: wait for a reader at start and exit */
    pthread_t tracer;
    bool tracer_running;
    _Atomic bool tracer_stop;
    /* Runtimes alive, for snapshots. */
    weft_runtime **runtimes;
    size_t nruntimes, cap_runtimes;
} g = {.lock = PTHREAD_MUTEX_INITIALIZER};

static pthread_key_t thread_key;
static pthread_once_t thread_key_once = PTHREAD_ONCE_INIT;

static uint32_t gettid_u32(void)
{
    return (uint32_t)syscall(SYS_gettid);
}

/* ---------------------------------------------------------------- clock */

bool weft__tsc_invariant(void)
{
#if WEFT__HAVE_TSC
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return false;
    char line[4096];
    bool constant = false, nonstop = false;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5) != 0)
            continue;
        constant = strstr(line, " constant_tsc") != NULL;
        nonstop = strstr(line, " nonstop_tsc") != NULL;
        break;
    }
    fclose(f);
    return constant && nonstop;
#else
    return false;
#endif
}

/* One (tsc, ns) pair, the ns taken as the middle of two readings around the TSC read. */
static void clock_pair(uint64_t *tsc, uint64_t *ns)
{
#if WEFT__HAVE_TSC
    uint64_t best_gap = UINT64_MAX;
    for (int i = 0; i < 5; i++) {
        uint64_t a = weft__mono_ns();
        uint64_t t = __rdtsc();
        uint64_t b = weft__mono_ns();
        if (b - a < best_gap) {
            best_gap = b - a;
            *tsc = t;
            *ns = a + (b - a) / 2;
        }
    }
#else
    *tsc = *ns = weft__mono_ns();
#endif
}

static void calib_publish(weft__seg_header *h, uint64_t tsc, uint64_t ns)
{
    uint32_t s = atomic_load_explicit(&h->calib_seq, memory_order_relaxed);
    atomic_store_explicit(&h->calib_seq, s + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    atomic_store_explicit(&h->tsc1, tsc, memory_order_relaxed);
    atomic_store_explicit(&h->ns1, ns, memory_order_relaxed);
    atomic_store_explicit(&h->calib_seq, s + 2, memory_order_release);
}

/* ---------------------------------------------------------------- rings */

static void thread_key_destructor(void *p)
{
    (void)p;
    weft__trace_release_ring();
}

static void make_thread_key(void)
{
    pthread_key_create(&thread_key, thread_key_destructor);
}

/* Raw append for records written by the slow path itself; the caller checked room. */
static void put_raw(weft__writer *w, const void *rec, unsigned bytes)
{
    uint64_t idx = w->head & w->mask;
    if (idx + bytes <= w->mask + 1) {
        memcpy(w->data + idx, rec, bytes);
    } else {
        size_t first = (size_t)(w->mask + 1 - idx);
        memcpy(w->data + idx, rec, first);
        memcpy(w->data, (const uint8_t *)rec + first, bytes - first);
    }
    w->head += bytes;
}

/* Room for `bytes` more? Re-reads the reader's tail. A tail that is ahead of head or more
 * than a ring behind it is garbage: treated as "full" rather than trusted. */
static bool room_for(weft__writer *w, uint64_t bytes)
{
    if (w->head + bytes <= w->limit)
        return true;
    uint64_t tail = atomic_load_explicit(&w->ctl->tail, memory_order_acquire);
    uint64_t size = w->mask + 1;
    if (tail > w->head || w->head - tail > size)
        return false;
    w->limit = tail + size;
    return w->head + bytes <= w->limit;
}

static void put_sync(weft__writer *w, uint64_t ts)
{
    struct {
        uint64_t h;
        weft_ev_clock_sync p;
    } r = {weft__rec_header(WEFT_EV_clock_sync, 2, ts), {ts}};
    put_raw(w, &r, sizeof r);
    w->last_sync = ts;
}

static void put_thread_start(weft__writer *w, uint64_t ts)
{
    struct {
        uint64_t h;
        weft_ev_thread_start p;
    } r;
    memset(&r, 0, sizeof r);
    r.h = weft__rec_header(WEFT_EV_thread_start, sizeof r / 8, ts);
    r.p.runtime = weft__trace_me.runtime;
    r.p.index = weft__trace_me.index;
    r.p.tid = gettid_u32();
    r.p.kind = weft__trace_me.kind;
    put_raw(w, &r, sizeof r);
}

/* Take a ring for the calling thread: a free one, else a retired one the reader has
 * drained, else (nobody reading) a retired one whose backlog nobody will read. */
static bool claim_ring(weft__writer *w, uint64_t gen)
{
    w->data = NULL;
    w->gen = gen;
    w->no_ring = false;
    if (!g.seg)
        return false;
    bool no_reader = atomic_load_explicit(&g.seg->reader_pid, memory_order_acquire) == 0;
    for (int pass = 0; pass < 3; pass++) {
        for (unsigned i = 0; i < g.nrings; i++) {
            weft__ring_ctl *c = &g.rings[i];
            uint32_t st = atomic_load_explicit(&c->state, memory_order_acquire);
            bool ok;
            if (pass == 0)
                ok = st == WEFT_RING_FREE;
            else if (pass == 1)
                ok = st == WEFT_RING_RETIRED &&
                     atomic_load_explicit(&c->tail, memory_order_acquire) ==
                         atomic_load_explicit(&c->head, memory_order_acquire);
            else
                ok = st == WEFT_RING_RETIRED && no_reader;
            if (!ok || !atomic_compare_exchange_strong_explicit(&c->state, &st,
                                                                WEFT_RING_CLAIMING,
                                                                memory_order_acq_rel,
                                                                memory_order_relaxed))
                continue;
            uint64_t head = atomic_load_explicit(&c->head, memory_order_relaxed);
            if (pass == 2)
                atomic_store_explicit(&c->tail, head, memory_order_relaxed);
            atomic_store_explicit(&c->owner_tid, gettid_u32(), memory_order_relaxed);
            atomic_fetch_add_explicit(&c->generation, 1, memory_order_relaxed);
            atomic_store_explicit(&c->state, WEFT_RING_OWNED, memory_order_release);
            atomic_fetch_add_explicit(&g.seg->rings_claimed, 1, memory_order_relaxed);
            w->ctl = c;
            w->data = g.base + c->data_off;
            w->mask = g.ring_size - 1;
            w->head = head;
            w->limit = 0;
            w->last_sync = 0;
            pthread_once(&thread_key_once, make_thread_key);
            pthread_setspecific(thread_key, (void *)1);
            /* The ring opens with the clock and the thread's identity. */
            uint64_t ts = weft__trace_now();
            if (room_for(w, 16 + 24)) {
                put_sync(w, ts);
                put_thread_start(w, ts);
                atomic_store_explicit(&c->head, w->head, memory_order_release);
            }
            return true;
        }
    }
    w->no_ring = true;
    return false;
}

static void count_drops(weft__writer *w, uint64_t n)
{
    if (w->data)
        atomic_store_explicit(&w->ctl->dropped,
                              atomic_load_explicit(&w->ctl->dropped, memory_order_relaxed) + n,
                              memory_order_relaxed);
    w->lost += n;
    w->limit = 0; /* the next record takes the slow path, which reports the loss */
}

/* The records that stand for the pending poll's begin: task_poll_begin and the self-wakes
 * folded into it, all stamped with the poll's begin. */
#define POLL_BEGIN_BYTES 24u
#define SELF_WAKE_BYTES 32u

static void put_pending_begin(weft__writer *w)
{
    struct {
        uint64_t h;
        weft_ev_task_poll_begin p;
    } b;
    memset(&b, 0, sizeof b);
    b.h = weft__rec_header(WEFT_EV_task_poll_begin, sizeof b / 8, w->poll_begin);
    b.p.task = w->poll_task;
    b.p.worker = weft__trace_me.index;
    put_raw(w, &b, sizeof b);
    for (uint32_t i = 0; i < w->poll_wakes; i++) {
        struct {
            uint64_t h;
            weft_ev_task_wake p;
        } k;
        memset(&k, 0, sizeof k);
        k.h = weft__rec_header(WEFT_EV_task_wake, sizeof k / 8, w->poll_begin);
        k.p.task = k.p.waker = w->poll_task;
        put_raw(w, &k, sizeof k);
    }
}

bool weft__ring_put_slow(weft__writer *w, const void *rec, unsigned bytes, uint64_t ts,
                         bool may_wait)
{
    uint64_t gen = atomic_load_explicit(&weft__trace_gen, memory_order_acquire);
    if (w->gen != gen || (!w->data && !w->no_ring)) {
        w->lost = 0;
        w->poll_pending = false; /* a poll of the previous segment */
        claim_ring(w, gen);
    }
    if (!w->data) {
        w->poll_pending = false;
        if (g.seg && bytes)
            atomic_fetch_add_explicit(&g.seg->dropped_noring, 1, memory_order_relaxed);
        return false;
    }
    /* What must precede the record: a clock_sync if the clock moved too far, the count of
     * records lost since the last one written, and the begin of a pending poll. */
    bool sync = ts - w->last_sync + WEFT_TS_SYNC_SPAN > 2 * WEFT_TS_SYNC_SPAN;
    uint64_t begin = w->poll_pending ? POLL_BEGIN_BYTES + SELF_WAKE_BYTES * w->poll_wakes : 0;
    uint64_t need = bytes + (sync ? 16u : 0u) + (w->lost ? 16u : 0u) + begin;
    for (int tries = 0; !room_for(w, need); tries++) {
        if (!may_wait || tries >= 2000) {
            count_drops(w, (bytes ? 1u : 0u) + (w->poll_pending ? 1u + w->poll_wakes : 0u));
            w->poll_pending = false;
            return false;
        }
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    if (sync)
        put_sync(w, ts);
    if (w->lost) {
        struct {
            uint64_t h;
            weft_ev_events_lost p;
        } r = {weft__rec_header(WEFT_EV_events_lost, 2, ts), {w->lost}};
        put_raw(w, &r, sizeof r);
        w->lost = 0;
    }
    if (w->poll_pending) {
        put_pending_begin(w);
        w->poll_pending = false;
    }
    if (bytes)
        put_raw(w, rec, bytes);
    atomic_store_explicit(&w->ctl->head, w->head, memory_order_release);
    return true;
}

/* ---------------------------------------------------------------- polls */

void weft__ring_poll_end_slow(weft__writer *w, uint64_t task, uint8_t ready, uint64_t ts)
{
    if (weft__ring_current(w))
        atomic_store_explicit(&w->ctl->cur_task, 0, memory_order_relaxed);
    /* The begin (if still pending) is written by the slow path, which limit == 0 forces. */
    struct {
        uint64_t h;
        weft_ev_task_poll_end p;
    } r;
    memset(&r, 0, sizeof r);
    r.p.task = task;
    r.p.worker = weft__trace_me.index;
    r.p.ready = ready;
    weft__ring_put_ts(WEFT_EV_task_poll_end, &r, sizeof r, ts);
}

void weft__trace_clock_stale(void)
{
    weft__w.ts_cache_valid = false;
}

bool weft__ring_put_wait(unsigned type, void *rec, unsigned bytes, bool may_wait)
{
    if (!may_wait)
        return weft__ring_put(type, rec, bytes);
    uint64_t ts = weft__trace_now();
    *(uint64_t *)rec = weft__rec_header(type, bytes / WEFT_REC_ALIGN, ts);
    return weft__ring_put_slow(&weft__w, rec, bytes, ts, true);
}

void weft__trace_release_ring(void)
{
    weft__writer *w = &weft__w;
    uint64_t gen = atomic_load_explicit(&weft__trace_gen, memory_order_acquire);
    if (!w->data || w->gen != gen) {
        w->data = NULL;
        w->poll_pending = false;
        return;
    }
    atomic_store_explicit(&w->ctl->cur_task, 0, memory_order_relaxed);
    struct {
        uint64_t h;
        weft_ev_thread_stop p;
    } r;
    memset(&r, 0, sizeof r);
    r.p.tid = gettid_u32();
    weft__ring_put_wait(WEFT_EV_thread_stop, &r, sizeof r, false);
    atomic_store_explicit(&w->ctl->owner_tid, 0, memory_order_relaxed);
    atomic_store_explicit(&w->ctl->state, WEFT_RING_RETIRED, memory_order_release);
    w->data = NULL;
    w->ctl = NULL;
    w->limit = 0;
}

/* ---------------------------------------------------------------- thread identity */

void weft__trace_thread_enter(uint32_t runtime, unsigned kind, uint32_t index)
{
    weft__w.ts_cache_valid = false;
    weft__trace_me.runtime = runtime;
    weft__trace_me.kind = (uint8_t)kind;
    weft__trace_me.index = index;
    if (WEFT__TRACING() && weft__w.data) {
        /* A thread with a ring already: say who it is now. */
        weft_evarg_thread_start a = {runtime, index, gettid_u32(), (uint8_t)kind};
        weft__ev_thread_start(&a);
    }
}

void weft__trace_thread_leave(void)
{
    weft__trace_thread_enter(0, WEFT_THREAD_OTHER, 0);
}

/* ---------------------------------------------------------------- the segment */

static unsigned env_unsigned(const char *name, unsigned dflt, unsigned lo, unsigned hi)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return dflt;
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*end || v < lo || v > hi)
        return dflt;
    return (unsigned)v;
}

static size_t round_page(size_t n)
{
    return (n + 4095) & ~(size_t)4095;
}

static int create_segment(const weft__trace_config *cfg)
{
    if (cfg->name)
        snprintf(g.name, sizeof g.name, "%s", cfg->name);
    else
        snprintf(g.name, sizeof g.name, WEFT_SEG_NAME_FMT, (int)getpid());
    size_t hdr = round_page(sizeof(weft__seg_header));
    size_t table = round_page((size_t)cfg->nrings * sizeof(weft__ring_ctl));
    size_t size = hdr + table + (size_t)cfg->nrings * cfg->ring_size;

    int fd = shm_open(g.name, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0 && errno == EEXIST) {
        /* Left behind by an earlier process with our pid (we have not made one yet). */
        shm_unlink(g.name);
        fd = shm_open(g.name, O_RDWR | O_CREAT | O_EXCL, 0600);
    }
    if (fd < 0)
        return WEFT_EIO;
    if (fchmod(fd, 0600) != 0 || ftruncate(fd, (off_t)size) != 0) {
        close(fd);
        shm_unlink(g.name);
        return WEFT_EIO;
    }
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) {
        shm_unlink(g.name);
        return WEFT_ENOMEM;
    }
    weft__seg_header *h = p;
    h->version = WEFT_SEG_VERSION;
    h->header_size = sizeof *h;
    h->segment_size = size;
    h->nrings = cfg->nrings;
    h->ring_ctl_size = sizeof(weft__ring_ctl);
    h->ring_table_off = hdr;
    h->ring_size = cfg->ring_size;
    h->clock_kind = weft__trace_clock_kind;
    h->pid = (int32_t)getpid();
    h->start_ns = weft__mono_ns();
    ssize_t n = readlink("/proc/self/exe", h->program, sizeof h->program - 1);
    h->program[n > 0 ? n : 0] = '\0';
    uint64_t tsc, ns;
    clock_pair(&tsc, &ns);
    atomic_store(&h->tsc0, tsc);
    atomic_store(&h->ns0, ns);
    if (weft__trace_clock_kind == WEFT_CLOCK_TSC) {
        /* A first calibration over 2 ms; the tracer thread refines it every second. */
        uint64_t t1, n1;
        do
            clock_pair(&t1, &n1);
        while (n1 - ns < 2000000);
        calib_publish(h, t1, n1);
    } else {
        calib_publish(h, tsc, ns);
    }
    weft__ring_ctl *rings = (weft__ring_ctl *)((uint8_t *)p + hdr);
    for (unsigned i = 0; i < cfg->nrings; i++) {
        rings[i].data_off = hdr + table + (uint64_t)i * cfg->ring_size;
        rings[i].data_size = cfg->ring_size;
    }
    atomic_store(&h->alive, 1);
    /* The magic last: a reader that maps the segment this early sees "not a segment". */
    atomic_thread_fence(memory_order_release);
    memcpy(h->magic, WEFT_SEG_MAGIC, 8);

    g.seg = h;
    g.base = p;
    g.seg_size = size;
    g.rings = rings;
    g.nrings = cfg->nrings;
    g.ring_size = cfg->ring_size;
    return 0;
}

/* Every ring drained by the attached reader (or nobody attached)? */
static bool drained(void)
{
    if (atomic_load_explicit(&g.seg->reader_pid, memory_order_acquire) == 0)
        return true;
    for (unsigned i = 0; i < g.nrings; i++)
        if (atomic_load_explicit(&g.rings[i].tail, memory_order_acquire) !=
            atomic_load_explicit(&g.rings[i].head, memory_order_acquire))
            return false;
    return true;
}

static void sleep_ms(unsigned ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&t, NULL);
}

static void at_exit(void)
{
    pthread_mutex_lock(&g.lock);
    if (g.started) {
        weft__trace_release_ring();
        /* Under `weft record`/`weft console -- prog` give the reader time to drain. */
        for (unsigned waited = 0; waited < g.wait_ms && !drained(); waited += 5)
            sleep_ms(5);
        atomic_store_explicit(&g.seg->alive, 0, memory_order_release);
        shm_unlink(g.name);
    }
    pthread_mutex_unlock(&g.lock);
}

/* ---------------------------------------------------------------- the tracer thread */

static long futex_wait(_Atomic uint64_t *addr, uint64_t expected, unsigned timeout_ms)
{
    /* The futex word is the low half of the 64-bit counter (little-endian). */
    struct timespec t = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000};
    return syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT, (uint32_t)expected, &t, NULL, 0);
}

static void *tracer_main(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "weft-tracer");
    weft__trace_thread_enter(0, WEFT_THREAD_TRACER, 0);
    weft__seg_header *h = g.seg;
    unsigned since_calib = 0;
    while (!atomic_load_explicit(&g.tracer_stop, memory_order_acquire)) {
        uint64_t req = atomic_load_explicit(&h->snapshot_req, memory_order_acquire);
        if (req == atomic_load_explicit(&h->snapshot_done, memory_order_acquire))
            futex_wait(&h->snapshot_req, req, 100);
        if (atomic_load_explicit(&g.tracer_stop, memory_order_acquire))
            break;
        weft__trace_snapshot_poll();
        if (++since_calib >= 10 && weft__trace_clock_kind == WEFT_CLOCK_TSC) {
            since_calib = 0;
            uint64_t tsc, ns;
            clock_pair(&tsc, &ns);
            calib_publish(h, tsc, ns);
        }
    }
    weft__trace_release_ring();
    return NULL;
}

bool weft__trace_snapshot_poll(void)
{
    weft__seg_header *h = g.seg;
    if (!h)
        return false;
    uint64_t req = atomic_load_explicit(&h->snapshot_req, memory_order_acquire);
    if (req == atomic_load_explicit(&h->snapshot_done, memory_order_acquire))
        return false;
    weft__snapshot_emit(req);
    atomic_store_explicit(&h->snapshot_done, req, memory_order_release);
    return true;
}

/* ---------------------------------------------------------------- start and stop */

int weft__trace_start(const weft__trace_config *cfg_in)
{
    weft__trace_config cfg = {
        .nrings = env_unsigned("WEFT_TRACE_RINGS", WEFT__TRACE_DEFAULT_RINGS, 1,
                               WEFT_SEG_MAX_RINGS),
        .ring_size = (uint64_t)env_unsigned("WEFT_TRACE_RING_KB",
                                            (unsigned)(WEFT__TRACE_DEFAULT_RING_SIZE >> 10), 1,
                                            1u << 20)
                     << 10,
        .clock_kind = -1,
        .name = NULL,
        .tracer_thread = true,
    };
    if (cfg_in)
        cfg = *cfg_in;
    if (cfg.nrings == 0 || cfg.nrings > WEFT_SEG_MAX_RINGS ||
        cfg.ring_size < WEFT_SEG_MIN_RING_SIZE || cfg.ring_size > WEFT_SEG_MAX_RING_SIZE ||
        (cfg.ring_size & (cfg.ring_size - 1)) != 0)
        return WEFT_EINVAL;

    pthread_mutex_lock(&g.lock);
    if (g.started) {
        pthread_mutex_unlock(&g.lock);
        return 0;
    }
    const char *sched = getenv("WEFT_SCHED");
    weft__trace_virtual = cfg.clock_kind < 0 && sched && sched[0];
    if (weft__trace_virtual)
        weft__trace_clock_kind = WEFT_CLOCK_MONOTONIC; /* virtual nanoseconds, see above */
    else if (cfg.clock_kind < 0)
        weft__trace_clock_kind = weft__tsc_invariant() ? WEFT_CLOCK_TSC : WEFT_CLOCK_MONOTONIC;
    else if (cfg.clock_kind == WEFT_CLOCK_TSC && !WEFT__HAVE_TSC)
        weft__trace_clock_kind = WEFT_CLOCK_MONOTONIC;
    else
        weft__trace_clock_kind = (unsigned)cfg.clock_kind;
    int err = create_segment(&cfg);
    if (err) {
        pthread_mutex_unlock(&g.lock);
        return err;
    }
    g.wait_ms = env_unsigned("WEFT_TRACE_WAIT_MS", 0, 0, 600000);
    g.started = true;
    atomic_fetch_add_explicit(&weft__trace_gen, 1, memory_order_release);
    atomic_store_explicit(&g.tracer_stop, false, memory_order_relaxed);
    if (cfg.tracer_thread) {
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        g.tracer_running = pthread_create(&g.tracer, &attr, tracer_main, NULL) == 0;
        pthread_attr_destroy(&attr);
    }
    if (!g.atexit_set)
        g.atexit_set = atexit(at_exit) == 0;
    atomic_fetch_or_explicit(&weft__trace_on, WEFT__SINK_RING, memory_order_release);
    unsigned wait_ms = g.wait_ms;
    weft__seg_header *seg = g.seg;
    pthread_mutex_unlock(&g.lock);

    /* Under a launcher that attaches a reader, wait for it so that nothing is missed. */
    for (unsigned waited = 0;
         waited < wait_ms && atomic_load_explicit(&seg->reader_pid, memory_order_acquire) == 0;
         waited += 5)
        sleep_ms(5);
    return 0;
}

void weft__trace_stop(void)
{
    pthread_mutex_lock(&g.lock);
    if (!g.started) {
        pthread_mutex_unlock(&g.lock);
        return;
    }
    atomic_fetch_and_explicit(&weft__trace_on, (unsigned char)~WEFT__SINK_RING, memory_order_release);
    bool join = g.tracer_running;
    g.tracer_running = false;
    atomic_store_explicit(&g.tracer_stop, true, memory_order_release);
    pthread_mutex_unlock(&g.lock);
    if (join) {
        atomic_fetch_add_explicit(&g.seg->snapshot_req, 0, memory_order_relaxed);
        syscall(SYS_futex, (uint32_t *)&g.seg->snapshot_req, FUTEX_WAKE, 1, NULL, NULL, 0);
        pthread_join(g.tracer, NULL);
    }
    pthread_mutex_lock(&g.lock);
    weft__trace_release_ring();
    atomic_store_explicit(&g.seg->alive, 0, memory_order_release);
    munmap(g.seg, g.seg_size);
    shm_unlink(g.name);
    g.seg = NULL;
    g.rings = NULL;
    g.base = NULL;
    g.started = false;
    atomic_fetch_add_explicit(&weft__trace_gen, 1, memory_order_release);
    pthread_mutex_unlock(&g.lock);
}

void weft__trace_ring_pause(bool paused)
{
    pthread_mutex_lock(&g.lock);
    if (g.started) {
        if (paused)
            atomic_fetch_and_explicit(&weft__trace_on, (unsigned char)~WEFT__SINK_RING,
                                      memory_order_release);
        else
            atomic_fetch_or_explicit(&weft__trace_on, WEFT__SINK_RING, memory_order_release);
    }
    pthread_mutex_unlock(&g.lock);
}

weft__seg_header *weft__trace_segment(void)
{
    return g.seg;
}

/* ---------------------------------------------------------------- runtimes */

void weft__trace_setup(weft_runtime *rt)
{
    (void)rt;
    if (atomic_load_explicit(&weft__trace_on, memory_order_acquire) & WEFT__SINK_RING)
        return;
    const char *s = getenv("WEFT_TRACE");
    if (s && s[0] == '1' && s[1] == '\0')
        (void)weft__trace_start(NULL);
}

void weft__trace_runtime_start(weft_runtime *rt)
{
    pthread_mutex_lock(&g.lock);
    if (g.nruntimes == g.cap_runtimes) {
        size_t cap = g.cap_runtimes ? 2 * g.cap_runtimes : 8;
        weft_runtime **p = realloc(g.runtimes, cap * sizeof *p);
        if (p) {
            g.runtimes = p;
            g.cap_runtimes = cap;
        }
    }
    if (g.nruntimes < g.cap_runtimes)
        g.runtimes[g.nruntimes++] = rt;
    pthread_mutex_unlock(&g.lock);
    WEFT__EMIT(runtime_start, (uint32_t)rt->id, rt->cfg.worker_threads,
               (uint8_t)rt->cfg.flavor);
}

void weft__trace_runtime_stop(weft_runtime *rt)
{
    WEFT__EMIT(runtime_stop, (uint32_t)rt->id);
    pthread_mutex_lock(&g.lock);
    for (size_t i = 0; i < g.nruntimes; i++) {
        if (g.runtimes[i] == rt) {
            g.runtimes[i] = g.runtimes[--g.nruntimes];
            break;
        }
    }
    if (g.nruntimes == 0) {
        free(g.runtimes);
        g.runtimes = NULL;
        g.cap_runtimes = 0;
    }
    pthread_mutex_unlock(&g.lock);
}

void weft__trace_for_each_runtime(void (*fn)(weft_runtime *rt, void *arg), void *arg)
{
    pthread_mutex_lock(&g.lock);
    for (size_t i = 0; i < g.nruntimes; i++)
        fn(g.runtimes[i], arg);
    pthread_mutex_unlock(&g.lock);
}

/* ---------------------------------------------------------------- waits */

void weft__trace_task_wait(uint64_t task, const weft_resource *r, unsigned op,
                           weft_location where)
{
    weft_evarg_task_wait a = {task, r ? r->id : 0, where, (uint8_t)op};
    weft__ev_task_wait(&a);
    weft_task *t = weft__tls.task;
    if (t && t->id == task) {
        atomic_store_explicit(&t->trace_wait_res, (uint32_t)a.resource, memory_order_relaxed);
        atomic_store_explicit(&t->trace_wait_loc, weft__intern_loc(where), memory_order_relaxed);
        atomic_store_explicit(&t->trace_wait_op, (uint8_t)(op + 1), memory_order_relaxed);
    }
}

void weft__trace_task_wait_done(uint64_t task, const weft_resource *r, unsigned op)
{
    weft_evarg_task_wait_done a = {task, r ? r->id : 0, (uint8_t)op};
    weft__ev_task_wait_done(&a);
    weft_task *t = weft__tls.task;
    if (t && t->id == task)
        atomic_store_explicit(&t->trace_wait_op, 0, memory_order_relaxed);
}
