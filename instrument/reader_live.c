/* instrument/reader_live.c - reading the rings of a running program (see reader.h).
 *
 * Attaching: the segment "/weft-<pid>" is opened read-write (the reader writes its tail and
 * its pid), checked (owner, mode, size), mapped, and its header and ring table are copied and
 * validated before anything else is used: magic, version, sizes, and every ring's data range
 * within the mapping. Only the copies are used afterwards, so a program that rewrites its
 * header later cannot move the reader's accesses out of bounds.
 *
 * Reading: a drain visits every ring, copies the bytes between the reader's position and the
 * ring's head (at most DRAIN_MAX per ring and drain) into a private buffer, decodes whole
 * records from the copy and publishes the new position as the ring's tail, which frees the
 * space for the writer. Decoded events wait in a per-ring queue; weft_reader_next hands out
 * the one with the smallest timestamp among the queue heads, and drains again when every
 * queue is empty. A malformed record ends what the reader takes from that ring in this drain:
 * it skips to the head (counting the skip in bad_records), since record boundaries after a
 * bad length cannot be trusted.
 *
 * Timestamps are converted to CLOCK_MONOTONIC nanoseconds with the segment's calibration.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <weft/error.h>

#include "decode.h"
#include "reader_int.h"
#include "ring_format.h"

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HAVE_TSC 1
#else
#define HAVE_TSC 0
#endif

#define DRAIN_MAX (256u * 1024u)          /* bytes taken from one ring per drain */
#define SEG_MAX_SIZE (UINT64_C(1) << 40)  /* larger objects are refused */

typedef struct live_ring {
    weft__ring_ctl *ctl;   /* in the mapping: only the atomic words are read/written */
    uint64_t data_off;     /* validated copies */
    uint64_t size;
    uint64_t pos;          /* bytes consumed (mirrored to ctl->tail) */
    uint64_t ts_ref;       /* full timestamp of the last record decoded */
    uint64_t seq;          /* records decoded from this ring */
    uint32_t runtime, worker, tid; /* identity from the last thread_start */
    uint8_t kind;
    /* A poll in progress that the reader announced (a synthesized task_poll_begin) before
     * its records arrived: its begin is not handed out again. Raw timestamps. */
    uint64_t announced_task, announced_begin;
    weft_event *q;         /* decoded, not yet handed out: q[qhead..qlen) */
    size_t qhead, qlen, qcap;
} live_ring;

typedef struct live_reader {
    weft_reader base;
    char name[64];
    uint8_t *map;          /* the whole segment */
    size_t map_size;
    weft__seg_header *hdr; /* == map; only atomic live words are read from it */
    weft__seg_header copy; /* the validated header */
    live_ring *rings;
    unsigned nrings;
    uint8_t *scratch;      /* DRAIN_MAX bytes: one ring's copied records */
    char text[WEFT_EV_MAX_TEXT + 1];
    int pid;
    bool image;            /* a caller's memory image (fuzzing, tests): no shm, no liveness */
    bool attached;         /* reader_pid is ours */
    bool dead;             /* the program exited (seen at a drain) */
    /* Calibration (TSC): ns = ns0 + (ts - tsc0) * mult / 2^32, mult = 2^32 * ns per tick
     * from the segment's two (tsc, ns) pairs; 0 until a valid pair was read. */
    uint64_t tsc0, ns0, mult;
    unsigned drains_since_check; /* liveness is checked every few drains, not each */
} live_reader;

/* ---------------------------------------------------------------- clock */

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void refresh_calibration(live_reader *lr)
{
    weft__seg_header *h = lr->hdr;
    for (int tries = 0; tries < 100; tries++) {
        uint32_t s0 = atomic_load_explicit(&h->calib_seq, memory_order_acquire);
        if (s0 & 1)
            continue;
        uint64_t t0 = atomic_load_explicit(&h->tsc0, memory_order_relaxed);
        uint64_t n0 = atomic_load_explicit(&h->ns0, memory_order_relaxed);
        uint64_t t1 = atomic_load_explicit(&h->tsc1, memory_order_relaxed);
        uint64_t n1 = atomic_load_explicit(&h->ns1, memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&h->calib_seq, memory_order_relaxed) != s0)
            continue;
        if (t1 > t0 && n1 > n0 && (n1 - n0) / (t1 - t0) < (UINT64_C(1) << 31)) {
            lr->tsc0 = t0;
            lr->ns0 = n0;
            lr->mult = (uint64_t)(((unsigned __int128)(n1 - n0) << 32) / (t1 - t0));
        }
        return;
    }
}

static uint64_t to_ns(const live_reader *lr, uint64_t ts)
{
    if (lr->copy.clock_kind != WEFT_CLOCK_TSC || lr->mult == 0)
        return ts;
    if (ts >= lr->tsc0)
        return lr->ns0 + (uint64_t)(((unsigned __int128)(ts - lr->tsc0) * lr->mult) >> 32);
    uint64_t back = (uint64_t)(((unsigned __int128)(lr->tsc0 - ts) * lr->mult) >> 32);
    return back > lr->ns0 ? 0 : lr->ns0 - back;
}

/* The segment's clock now, in its own units (for a ring whose start we never saw). */
static uint64_t seg_now(const live_reader *lr)
{
#if HAVE_TSC
    if (lr->copy.clock_kind == WEFT_CLOCK_TSC)
        return __rdtsc();
#endif
    return mono_ns();
}

/* ---------------------------------------------------------------- draining */

static bool queue_push(live_ring *r, const weft_event *ev)
{
    if (r->qhead == r->qlen)
        r->qhead = r->qlen = 0;
    if (r->qlen == r->qcap) {
        if (r->qhead > 0) {
            memmove(r->q, r->q + r->qhead, (r->qlen - r->qhead) * sizeof *r->q);
            r->qlen -= r->qhead;
            r->qhead = 0;
        } else {
            size_t cap = r->qcap ? 2 * r->qcap : 1024;
            weft_event *p = realloc(r->q, cap * sizeof *p);
            if (!p)
                return false;
            r->q = p;
            r->qcap = cap;
        }
    }
    r->q[r->qlen++] = *ev;
    return true;
}

/* Complete a decoded event with the ring's identity and queue it. */
static bool queue_event(live_reader *lr, live_ring *r, unsigned i, weft_event *ev, uint64_t raw)
{
    ev->ts = to_ns(lr, raw);
    ev->seq = ++r->seq;
    ev->thread = (uint16_t)i;
    ev->thread_kind = r->kind;
    ev->runtime = r->runtime;
    ev->worker = r->worker;
    ev->tid = r->tid;
    return queue_push(r, ev);
}

/* task_poll stands for task_poll_begin, the self-wakes, task_poll_end (ring_format.h). */
static size_t expand_poll(live_reader *lr, live_ring *r, unsigned i, const weft_event *p)
{
    const weft_ev_task_poll *tp = &p->u.task_poll;
    uint64_t end = p->ts, begin = p->ts - tp->begin_delta;
    size_t n = 0;
    weft_event ev;
    if (!(r->announced_task == tp->task && r->announced_begin == begin)) {
        memset(&ev, 0, sizeof ev);
        ev.type = WEFT_EV_task_poll_begin;
        ev.u.task_poll_begin.task = tp->task;
        ev.u.task_poll_begin.worker = r->worker;
        n += queue_event(lr, r, i, &ev, begin);
    }
    r->announced_task = 0;
    for (unsigned k = 0; k < tp->self_wakes; k++) {
        memset(&ev, 0, sizeof ev);
        ev.type = WEFT_EV_task_wake;
        ev.u.task_wake.task = ev.u.task_wake.waker = tp->task;
        n += queue_event(lr, r, i, &ev, begin);
    }
    memset(&ev, 0, sizeof ev);
    ev.type = WEFT_EV_task_poll_end;
    ev.u.task_poll_end.task = tp->task;
    ev.u.task_poll_end.worker = r->worker;
    ev.u.task_poll_end.ready = tp->ready;
    n += queue_event(lr, r, i, &ev, end);
    return n;
}

/* A ring with nothing new whose thread is in a poll that began more than LONG_POLL ago: hand
 * out its task_poll_begin now, so that a long (or stuck) poll shows while it lasts. */
#define LONG_POLL_NS 10000000u

static size_t announce_long_poll(live_reader *lr, live_ring *r, unsigned i)
{
    uint64_t task = atomic_load_explicit(&r->ctl->cur_task, memory_order_acquire);
    if (!task)
        return 0;
    uint64_t begin = atomic_load_explicit(&r->ctl->cur_begin, memory_order_relaxed);
    if (atomic_load_explicit(&r->ctl->cur_task, memory_order_acquire) != task ||
        (r->announced_task == task && r->announced_begin == begin))
        return 0;
    uint64_t now = to_ns(lr, seg_now(lr)), b = to_ns(lr, begin);
    if (b > now || now - b < LONG_POLL_NS)
        return 0;
    r->announced_task = task;
    r->announced_begin = begin;
    weft_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = WEFT_EV_task_poll_begin;
    ev.u.task_poll_begin.task = task;
    ev.u.task_poll_begin.worker = r->worker;
    return queue_event(lr, r, i, &ev, begin);
}

static void publish_pos(live_ring *r)
{
    atomic_store_explicit(&r->ctl->tail_ts, r->ts_ref, memory_order_relaxed);
    atomic_store_explicit(&r->ctl->tail, r->pos, memory_order_release);
}

/* Take what ring `i` holds; returns the number of events queued. */
static size_t drain_ring(live_reader *lr, unsigned i)
{
    live_ring *r = &lr->rings[i];
    uint64_t head = atomic_load_explicit(&r->ctl->head, memory_order_acquire);
    if (head == r->pos)
        return lr->image ? 0 : announce_long_poll(lr, r, i);
    if (head < r->pos || head - r->pos > r->size) {
        /* Not what a writer does: resynchronise at its head. */
        lr->base.info.bad_records++;
        r->pos = head;
        r->ts_ref = seg_now(lr);
        publish_pos(r);
        return 0;
    }
    uint64_t avail = head - r->pos;
    size_t n = avail > DRAIN_MAX ? DRAIN_MAX : (size_t)avail;
    /* Copy first: the segment is shared with a program we do not trust. */
    const uint8_t *data = lr->map + r->data_off;
    uint64_t idx = r->pos & (r->size - 1);
    if (idx + n <= r->size) {
        memcpy(lr->scratch, data + idx, n);
    } else {
        size_t first = (size_t)(r->size - idx);
        memcpy(lr->scratch, data + idx, first);
        memcpy(lr->scratch + first, data, n - first);
    }
    size_t off = 0, queued = 0;
    while (off < n) {
        weft_event ev;
        int got = weft__decode_record(lr->scratch + off, n - off, &r->ts_ref, &ev, lr->text);
        if (got == 0 && n < avail)
            break; /* cut by DRAIN_MAX: the rest comes at the next drain */
        if (got <= 0) {
            lr->base.info.bad_records++;
            off = (size_t)avail; /* skip to the head */
            r->ts_ref = seg_now(lr);
            break;
        }
        off += (size_t)got;
        if (ev.type == WEFT_EV_task_poll) {
            queued += expand_poll(lr, r, i, &ev);
            continue;
        }
        if (ev.type == WEFT_EV_task_poll_begin && r->announced_task == ev.u.task_poll_begin.task &&
            r->announced_begin == ev.ts)
            continue; /* announced already, while the poll was long */
        if (ev.type == WEFT_EV_thread_start) {
            r->runtime = ev.u.thread_start.runtime;
            r->worker = ev.u.thread_start.index;
            r->tid = ev.u.thread_start.tid;
            r->kind = ev.u.thread_start.kind;
        }
        if (ev.type == WEFT_EV_clock_sync)
            continue; /* the reader's business only */
        if (ev.type == WEFT_EV_string_def) {
            /* Keep the text in the symbol table now: the event waits in a queue. */
            weft__reader_learn(&lr->base, &ev);
            ev.text = weft_reader_string(&lr->base, ev.u.string_def.id);
        }
        queued += queue_event(lr, r, i, &ev, ev.ts);
    }
    r->pos += off;
    publish_pos(r);
    return queued;
}

static bool process_alive(int pid)
{
    return pid > 0 && (kill(pid, 0) == 0 || errno != ESRCH);
}

static bool program_alive(const live_reader *lr)
{
    return !lr->image && process_alive(lr->pid);
}

static size_t drain_all(live_reader *lr)
{
    /* Liveness (a system call) and calibration every 64 drains, or when a drain found
     * nothing; read before the heads, so that what a program wrote before dying is seen. */
    bool check = ++lr->drains_since_check >= 64;
    bool dead = false;
    if (check) {
        lr->drains_since_check = 0;
        if (lr->copy.clock_kind == WEFT_CLOCK_TSC)
            refresh_calibration(lr);
        dead = !atomic_load_explicit(&lr->hdr->alive, memory_order_acquire) ||
               !program_alive(lr);
    }
    size_t total = 0;
    for (unsigned i = 0; i < lr->nrings; i++)
        total += drain_ring(lr, i);
    if (total == 0 && !check) {
        lr->drains_since_check = 64; /* idle: check at once */
        return drain_all(lr);
    }
    if (dead && total == 0)
        lr->dead = true;
    return total;
}

static int live_next(weft_reader *base, weft_event *ev)
{
    live_reader *lr = (live_reader *)base;
    for (int round = 0; round < 2; round++) {
        live_ring *best = NULL;
        for (unsigned i = 0; i < lr->nrings; i++) {
            live_ring *r = &lr->rings[i];
            if (r->qhead < r->qlen && (!best || r->q[r->qhead].ts < best->q[best->qhead].ts))
                best = r;
        }
        if (best) {
            *ev = best->q[best->qhead++];
            return 1;
        }
        if (round == 0 && drain_all(lr) == 0)
            break;
    }
    return lr->dead ? 0 : WEFT_EAGAIN;
}

static int live_wait(weft_reader *base, int timeout_ms)
{
    live_reader *lr = (live_reader *)base;
    for (unsigned i = 0; i < lr->nrings; i++)
        if (lr->rings[i].qhead < lr->rings[i].qlen)
            return 0;
    /* Poll the heads every millisecond: writers never make a system call to wake us. */
    uint64_t deadline = mono_ns() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms) * 1000000u;
    for (;;) {
        for (unsigned i = 0; i < lr->nrings; i++)
            if (atomic_load_explicit(&lr->rings[i].ctl->head, memory_order_acquire) !=
                lr->rings[i].pos)
                return 0;
        if (!program_alive(lr) || mono_ns() >= deadline)
            return 0;
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
}

static int live_request_snapshot(weft_reader *base, uint64_t *seq_out)
{
    live_reader *lr = (live_reader *)base;
    uint64_t seq = atomic_fetch_add_explicit(&lr->hdr->snapshot_req, 1, memory_order_acq_rel) + 1;
    syscall(SYS_futex, (uint32_t *)&lr->hdr->snapshot_req, FUTEX_WAKE, 1, NULL, NULL, 0);
    if (seq_out)
        *seq_out = seq;
    return 0;
}

static void live_refresh_info(weft_reader *base)
{
    live_reader *lr = (live_reader *)base;
    weft_reader_info *in = &base->info;
    in->alive = !lr->dead && program_alive(lr) &&
                atomic_load_explicit(&lr->hdr->alive, memory_order_acquire);
    uint64_t dropped = atomic_load_explicit(&lr->hdr->dropped_noring, memory_order_relaxed);
    uint32_t used = 0;
    for (unsigned i = 0; i < lr->nrings; i++) {
        dropped += atomic_load_explicit(&lr->rings[i].ctl->dropped, memory_order_relaxed);
        if (atomic_load_explicit(&lr->rings[i].ctl->state, memory_order_relaxed) ==
            WEFT_RING_OWNED)
            used++;
    }
    in->dropped = dropped;
    in->rings_in_use = used;
    in->snapshot_seq = atomic_load_explicit(&lr->hdr->snapshot_done, memory_order_acquire);
}

static void live_close(weft_reader *base)
{
    live_reader *lr = (live_reader *)base;
    if (lr->map) {
        if (lr->attached) {
            int32_t me = (int32_t)getpid();
            atomic_compare_exchange_strong_explicit(&lr->hdr->reader_pid, &me, 0,
                                                    memory_order_acq_rel,
                                                    memory_order_relaxed);
        }
        /* A program that died without cleaning up leaves its segment: remove it once read. */
        if (!lr->image && !process_alive(lr->pid))
            shm_unlink(lr->name);
        if (!lr->image)
            munmap(lr->map, lr->map_size);
    }
    for (unsigned i = 0; lr->rings && i < lr->nrings; i++)
        free(lr->rings[i].q);
    free(lr->rings);
    free(lr->scratch);
    free(lr);
}

static const weft__reader_ops live_ops = {
    .next = live_next,
    .wait = live_wait,
    .request_snapshot = live_request_snapshot,
    .seek = NULL,
    .refresh_info = live_refresh_info,
    .close = live_close,
};

/* ---------------------------------------------------------------- attaching */

/* Check the copied header against the object; a message and WEFT_EFORMAT if it is wrong. */
static int check_header(live_reader *lr, size_t size)
{
    const weft__seg_header *h = &lr->copy;
    weft_reader *b = &lr->base;
    if (memcmp(h->magic, WEFT_SEG_MAGIC, 8) != 0)
        return weft__reader_fail(b, WEFT_EFORMAT, "%s: not a weft trace segment (bad magic)",
                                 lr->name);
    if (h->version != WEFT_SEG_VERSION)
        return weft__reader_fail(b, WEFT_EFORMAT,
                                 "%s: segment version %u, this reader reads version %u",
                                 lr->name, h->version, WEFT_SEG_VERSION);
    if (h->header_size != sizeof(weft__seg_header) ||
        h->ring_ctl_size != sizeof(weft__ring_ctl))
        return weft__reader_fail(b, WEFT_EFORMAT,
                                 "%s: header or ring table entry of unexpected size", lr->name);
    if (h->segment_size != size)
        return weft__reader_fail(b, WEFT_EFORMAT,
                                 "%s: header says %llu bytes, the object has %zu", lr->name,
                                 (unsigned long long)h->segment_size, size);
    if (h->nrings == 0 || h->nrings > WEFT_SEG_MAX_RINGS)
        return weft__reader_fail(b, WEFT_EFORMAT, "%s: %u rings is out of range", lr->name,
                                 h->nrings);
    if (h->ring_size < WEFT_SEG_MIN_RING_SIZE || h->ring_size > WEFT_SEG_MAX_RING_SIZE ||
        (h->ring_size & (h->ring_size - 1)) != 0)
        return weft__reader_fail(b, WEFT_EFORMAT, "%s: ring size %llu is invalid", lr->name,
                                 (unsigned long long)h->ring_size);
    if (h->pid <= 0)
        return weft__reader_fail(b, WEFT_EFORMAT, "%s: bad pid %d", lr->name, h->pid);
    if (h->clock_kind != WEFT_CLOCK_MONOTONIC && h->clock_kind != WEFT_CLOCK_TSC)
        return weft__reader_fail(b, WEFT_EFORMAT, "%s: unknown clock kind %u", lr->name,
                                 h->clock_kind);
    uint64_t table_bytes = (uint64_t)h->nrings * sizeof(weft__ring_ctl);
    if (h->ring_table_off < sizeof(weft__seg_header) || h->ring_table_off % 64 != 0 ||
        h->ring_table_off > size || table_bytes > size - h->ring_table_off)
        return weft__reader_fail(b, WEFT_EFORMAT, "%s: ring table outside the segment",
                                 lr->name);
    return 0;
}

static int check_rings(live_reader *lr, size_t size)
{
    const weft__ring_ctl *table = (const weft__ring_ctl *)(lr->map + lr->copy.ring_table_off);
    uint64_t table_end = lr->copy.ring_table_off + (uint64_t)lr->nrings * sizeof *table;
    for (unsigned i = 0; i < lr->nrings; i++) {
        uint64_t off, sz;
        memcpy(&off, &table[i].data_off, sizeof off);
        memcpy(&sz, &table[i].data_size, sizeof sz);
        if (sz != lr->copy.ring_size || off % WEFT_REC_ALIGN != 0 || off < table_end ||
            off > size || sz > size - off)
            return weft__reader_fail(&lr->base, WEFT_EFORMAT,
                                     "%s: ring %u lies outside the segment", lr->name, i);
        live_ring *r = &lr->rings[i];
        r->ctl = (weft__ring_ctl *)&table[i];
        r->data_off = off;
        r->size = sz;
    }
    return 0;
}

static int attach_map(live_reader *lr, unsigned flags);

static int attach(live_reader *lr, unsigned flags)
{
    weft_reader *b = &lr->base;
    int fd = shm_open(lr->name, O_RDWR, 0);
    if (fd < 0) {
        if (errno == ENOENT)
            return weft__reader_fail(b, WEFT_EIO,
                                     "%s: no such segment (not a weft program, or tracing is "
                                     "off: run it with WEFT_TRACE=1)",
                                     lr->name);
        return weft__reader_fail(b, WEFT_EIO, "%s: %s", lr->name, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return weft__reader_fail(b, WEFT_EIO, "%s: %s", lr->name, strerror(errno));
    }
    if (st.st_uid != geteuid()) {
        close(fd);
        return weft__reader_fail(b, WEFT_EFORMAT, "%s is owned by uid %u, not by you (uid %u)",
                                 lr->name, (unsigned)st.st_uid, (unsigned)geteuid());
    }
    if (st.st_mode & 077) {
        close(fd);
        return weft__reader_fail(b, WEFT_EFORMAT,
                                 "%s has mode %03o: others may write it, refusing it", lr->name,
                                 (unsigned)(st.st_mode & 0777));
    }
    if (st.st_size < (off_t)sizeof(weft__seg_header) || (uint64_t)st.st_size > SEG_MAX_SIZE) {
        close(fd);
        return weft__reader_fail(b, WEFT_EFORMAT, "%s: %lld bytes is not a segment's size",
                                 lr->name, (long long)st.st_size);
    }
    size_t size = (size_t)st.st_size;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return weft__reader_fail(b, WEFT_EIO, "%s: mmap: %s", lr->name, strerror(errno));
    lr->map = p;
    lr->map_size = size;
    return attach_map(lr, flags);
}

/* Validate and take over the mapping lr->map (lr->map_size bytes). */
static int attach_map(live_reader *lr, unsigned flags)
{
    weft_reader *b = &lr->base;
    size_t size = lr->map_size;
    if (size < sizeof(weft__seg_header))
        return weft__reader_fail(b, WEFT_EFORMAT, "%s: too small for a segment", lr->name);
    lr->hdr = (weft__seg_header *)lr->map;
    memcpy(&lr->copy, lr->map, sizeof lr->copy);
    int err = check_header(lr, size);
    if (err)
        return err;
    lr->nrings = lr->copy.nrings;
    lr->rings = calloc(lr->nrings, sizeof *lr->rings);
    lr->scratch = malloc(DRAIN_MAX);
    if (!lr->rings || !lr->scratch)
        return weft__reader_fail(b, WEFT_ENOMEM, "out of memory");
    if ((err = check_rings(lr, size)) != 0)
        return err;
    if (lr->pid == 0)
        lr->pid = lr->copy.pid;

    /* One reader at a time: the tails are ours. */
    int32_t me = (int32_t)getpid(), cur = 0;
    if (!atomic_compare_exchange_strong_explicit(&lr->hdr->reader_pid, &cur, me,
                                                 memory_order_acq_rel, memory_order_acquire)) {
        bool other_alive = cur != me && !lr->image && process_alive(cur);
        if (other_alive && !(flags & WEFT_READER_TAKEOVER))
            return weft__reader_fail(b, WEFT_EBUSY, "%s: reader %d is attached already",
                                     lr->name, cur);
        atomic_store_explicit(&lr->hdr->reader_pid, me, memory_order_release);
    }
    lr->attached = true;

    lr->copy.program[sizeof lr->copy.program - 1] = '\0';
    b->info.live = true;
    b->info.pid = lr->pid;
    b->info.program = lr->copy.program;
    b->info.start_ns = lr->copy.start_ns;
    b->info.rings = lr->nrings;
    if (lr->copy.clock_kind == WEFT_CLOCK_TSC)
        refresh_calibration(lr);

    for (unsigned i = 0; i < lr->nrings; i++) {
        live_ring *r = &lr->rings[i];
        uint64_t head = atomic_load_explicit(&r->ctl->head, memory_order_acquire);
        uint64_t tail = atomic_load_explicit(&r->ctl->tail, memory_order_acquire);
        uint64_t tail_ts = atomic_load_explicit(&r->ctl->tail_ts, memory_order_relaxed);
        r->kind = WEFT_THREAD_OTHER;
        if ((flags & WEFT_READER_SKIP_BACKLOG) || tail > head || head - tail > r->size ||
            tail % WEFT_REC_ALIGN != 0) {
            r->pos = head;
            r->ts_ref = seg_now(lr);
            publish_pos(r);
        } else {
            r->pos = tail;
            r->ts_ref = tail_ts ? tail_ts : seg_now(lr);
        }
    }
    if (flags & WEFT_READER_SNAPSHOT)
        live_request_snapshot(b, NULL);
    return 0;
}

int weft_reader_open_shm(const char *name, unsigned flags, weft_reader **out)
{
    if (!name || !out || strlen(name) >= 64 || name[0] != '/')
        return weft__reader_open_fail(WEFT_EINVAL, "bad segment name");
    live_reader *lr = calloc(1, sizeof *lr);
    if (!lr)
        return weft__reader_open_fail(WEFT_ENOMEM, "out of memory");
    weft__reader_init(&lr->base, &live_ops);
    snprintf(lr->name, sizeof lr->name, "%s", name);
    int pid = 0;
    if (sscanf(name, WEFT_SEG_NAME_FMT, &pid) != 1)
        pid = 0;
    lr->pid = pid;
    int err = attach(lr, flags);
    if (err) {
        weft__reader_open_fail(err, "%s", lr->base.error);
        live_close(&lr->base);
        return err;
    }
    *out = &lr->base;
    return 0;
}

int weft_reader_open_live(int pid, unsigned flags, weft_reader **out)
{
    if (pid <= 0)
        return weft__reader_open_fail(WEFT_EINVAL, "bad pid %d", pid);
    char name[64];
    snprintf(name, sizeof name, WEFT_SEG_NAME_FMT, pid);
    return weft_reader_open_shm(name, flags, out);
}

int weft__reader_open_image(void *map, size_t size, unsigned flags, weft_reader **out)
{
    if (!map || !out || (uintptr_t)map % 64 != 0)
        return WEFT_EINVAL;
    live_reader *lr = calloc(1, sizeof *lr);
    if (!lr)
        return WEFT_ENOMEM;
    weft__reader_init(&lr->base, &live_ops);
    snprintf(lr->name, sizeof lr->name, "(image)");
    lr->image = true;
    lr->map = map;
    lr->map_size = size;
    int err = attach_map(lr, flags);
    if (err) {
        weft__reader_open_fail(err, "%s", lr->base.error);
        live_close(&lr->base);
        return err;
    }
    *out = &lr->base;
    return 0;
}
