/* instrument/intern.c - ids for names and source locations, sent once.
 *
 * Records carry a 4-byte id where the program has a string or a location; the text goes into
 * the ring once, as a string_def (or location_def, whose file and function are strings
 * themselves) written just before the first record that uses the id.
 *
 * The table: WEFT__INTERN_CAP slots, open addressing, keyed by address (a string) or by
 * (file, func, line) (a location). The id of a slot is its index + 1, fixed once the slot is
 * filled, so lookups after the first are a hash and a compare, with no lock and no write.
 *
 *   state 0 (empty) ──CAS by the inserter──▶ 1 (filling) ──release store──▶ 2 (ready)
 *
 * A thread that finds a slot filling goes on probing rather than waiting, which may give a key
 * a second id: harmless, both are defined. `sent` holds the sink generation in which the
 * definition was last written; a definition whose record was dropped (ring full) is written
 * again at the next use. Snapshots write every definition again (weft__intern_dump), which is
 * how a late reader learns ids whose definitions it never saw.
 *
 * Caveat, by design: a string is known by its address, so a name must not be freed and its
 * memory reused for another name while the program runs (names are string literals as a
 * rule; weft/task.h asks that a name outlive its task).
 */
#include <string.h>

#include "trace_int.h"

#define MAX_PROBE 64

typedef struct intern_slot {
    _Atomic uint32_t state; /* 0 empty, 1 filling, 2 ready */
    _Atomic uint32_t sent;  /* low bits of weft__trace_gen when the definition was written */
    const char *a;          /* the string, or the location's file; set before state 2 */
    const char *b;          /* NULL for a string, the location's function */
    int32_t line;           /* -1 for a string */
    uint32_t file_id;       /* location: id of its file string (0: none) */
    uint32_t func_id;       /* location: id of its function string (0: none) */
} intern_slot;

static intern_slot table[WEFT__INTERN_CAP];

static inline uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    x ^= x >> 33;
    return x;
}

static uint32_t cur_gen(void)
{
    return (uint32_t)atomic_load_explicit(&weft__trace_gen, memory_order_relaxed) | 1u;
}

/* Write the definition of slot `i` (id i + 1). */
static bool send_def(uint32_t i, bool may_wait)
{
    intern_slot *s = &table[i];
    if (s->line < 0) {
        uint64_t buf[WEFT_REC_MAX_UNITS];
        size_t len = strnlen(s->a, WEFT_EV_MAX_TEXT);
        weft_ev_string_def p = {i + 1, (uint32_t)len};
        memcpy((uint8_t *)buf + 8, &p, sizeof p);
        uint8_t *text = (uint8_t *)buf + 8 + sizeof p;
        unsigned bytes = weft__rec_bytes(sizeof p, (unsigned)len);
        memset(text, 0, bytes - 8 - sizeof p);
        memcpy(text, s->a, len);
        return weft__ring_put_wait(WEFT_EV_string_def, buf, bytes, may_wait);
    }
    struct {
        uint64_t h;
        weft_ev_location_def p;
    } r;
    memset(&r, 0, sizeof r);
    r.p.id = i + 1;
    r.p.file = s->file_id;
    r.p.func = s->func_id;
    r.p.line = (uint32_t)s->line;
    return weft__ring_put_wait(WEFT_EV_location_def, &r, sizeof r, may_wait);
}

static uint32_t ensure_sent(uint32_t i)
{
    intern_slot *s = &table[i];
    uint32_t gen = cur_gen();
    if (atomic_load_explicit(&s->sent, memory_order_relaxed) != gen) {
        if (s->line >= 0) {
            /* A location's strings first, so that they precede it in the ring. */
            if (s->file_id)
                ensure_sent(s->file_id - 1);
            if (s->func_id)
                ensure_sent(s->func_id - 1);
        }
        if (send_def(i, false))
            atomic_store_explicit(&s->sent, gen, memory_order_relaxed);
    }
    return i + 1;
}

/* Find or insert the key; returns the slot index, or -1 (table full around the hash). */
static int64_t lookup(const char *a, const char *b, int32_t line)
{
    uint64_t h = mix((uint64_t)(uintptr_t)a ^ mix((uint64_t)(uintptr_t)b + (uint64_t)line));
    for (unsigned probe = 0; probe < MAX_PROBE; probe++) {
        uint32_t i = (uint32_t)((h + probe) & (WEFT__INTERN_CAP - 1));
        intern_slot *s = &table[i];
        uint32_t st = atomic_load_explicit(&s->state, memory_order_acquire);
        if (st == 0) {
            if (!atomic_compare_exchange_strong_explicit(&s->state, &st, 1,
                                                         memory_order_acq_rel,
                                                         memory_order_acquire)) {
                if (st == 2 && s->a == a && s->b == b && s->line == line)
                    return i;
                continue;
            }
            s->a = a;
            s->b = b;
            s->line = line;
            if (line >= 0) {
                int64_t f = a ? lookup(a, NULL, -1) : -1;
                int64_t g = b ? lookup(b, NULL, -1) : -1;
                s->file_id = f >= 0 ? (uint32_t)f + 1 : 0;
                s->func_id = g >= 0 ? (uint32_t)g + 1 : 0;
            }
            atomic_store_explicit(&s->state, 2, memory_order_release);
            return i;
        }
        if (st == 2 && s->a == a && s->b == b && s->line == line)
            return i;
    }
    return -1;
}

uint32_t weft__intern_str(const char *str)
{
    if (!str)
        return 0;
    int64_t i = lookup(str, NULL, -1);
    return i < 0 ? 0 : ensure_sent((uint32_t)i);
}

uint32_t weft__intern_loc(weft_location where)
{
    if (!where.file && !where.func)
        return 0;
    int64_t i = lookup(where.file, where.func, where.line < 0 ? 0 : where.line);
    return i < 0 ? 0 : ensure_sent((uint32_t)i);
}

void weft__intern_dump(bool may_wait)
{
    uint32_t gen = cur_gen();
    for (uint32_t i = 0; i < WEFT__INTERN_CAP; i++) {
        if (atomic_load_explicit(&table[i].state, memory_order_acquire) != 2)
            continue;
        if (send_def(i, may_wait))
            atomic_store_explicit(&table[i].sent, gen, memory_order_relaxed);
    }
}
