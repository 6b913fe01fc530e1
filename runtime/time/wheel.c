/* runtime/time/wheel.c - the hierarchical timer wheel behind every sleep; see wheel.h.
 *
 * Who calls it: the time driver (driver.c), always under its mutex; the wheel unit tests.
 *
 * Placement. An entry with deadline D > elapsed goes to the level of the highest bit in which
 * D and `elapsed` differ (six bits per level with the default geometry), into the slot named
 * by D's digit at that level. Everything below that digit is "finer than this level can see",
 * which is why an entry is cascaded (re-placed, landing lower) when the wheel reaches the
 * start of its slot, and fires when it reaches its own tick.
 *
 * Invariants (E = elapsed):
 *   1. An entry in level l < top sits exactly where placing it now would put it: D agrees with
 *      E above level l, and its slot digit is greater than E's digit at level l. So at every
 *      level below the top, only slots after E's digit are occupied, and no slot start is ever
 *      passed without being processed (advance() stops at each occupied slot start <= now).
 *   2. The top level is circular: slot s stands for its next occurrence after E. That is how a
 *      deadline just past a top-level boundary (E = 62, D = 65 with 64-tick wheels) is kept
 *      in the right place, and how a deadline beyond the wheel's reach waits: it is put in the
 *      slot of E's own digit, whose next occurrence is as far as the wheel can see, and is
 *      re-placed (with its true deadline, which is never altered) when that slot comes round.
 *   3. Every entry with D <= E is in the expired list.
 *
 * Order. Slots are FIFO lists and cascading keeps their order, but an entry armed in the past
 * or re-placed from the top level can still overtake an older one with the same deadline. So
 * rather than argue every path, advance() sorts the expired list by (deadline, seq) after
 * moving due entries into it: equal deadlines fire in arming order whatever route each entry
 * took. The sort first checks whether the list is already in order, which it nearly always
 * is, so the common cost is one linear pass.
 */
#include "wheel.h"

#include <weft/error.h>

/* ---------------------------------------------------------------- geometry helpers */

static inline unsigned slots_per_level(const weft__wheel *w)
{
    return 1u << w->slot_bits;
}

/* Ticks covered by one slot of `level`. */
static inline uint64_t slot_span(const weft__wheel *w, unsigned level)
{
    return (uint64_t)1 << (w->slot_bits * level);
}

/* The digit of tick t at `level`: which slot of that level t falls in. */
static inline unsigned digit(const weft__wheel *w, uint64_t t, unsigned level)
{
    return (unsigned)(t >> (w->slot_bits * level)) & (slots_per_level(w) - 1);
}

/* ---------------------------------------------------------------- lists */

static void list_push_back(weft__wheel_list *l, weft_timer_entry *e)
{
    e->next = NULL;
    e->prev = l->tail;
    if (l->tail)
        l->tail->next = e;
    else
        l->head = e;
    l->tail = e;
}

static void list_unlink(weft__wheel_list *l, weft_timer_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        l->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        l->tail = e->prev;
    e->next = e->prev = NULL;
}

/* ---------------------------------------------------------------- public operations */

int weft__wheel_init(weft__wheel *w, unsigned levels, unsigned slot_bits, uint64_t now)
{
    if (levels < 1 || levels > WEFT__WHEEL_MAX_LEVELS || slot_bits < 1 ||
        slot_bits > WEFT__WHEEL_MAX_SLOT_BITS || levels * slot_bits > 48)
        return WEFT_EINVAL;
    *w = (weft__wheel){0};
    w->levels = levels;
    w->slot_bits = slot_bits;
    w->elapsed = now;
    return 0;
}

/* Link `e` where its deadline belongs relative to `elapsed` (see the invariants above). */
static void place(weft__wheel *w, weft_timer_entry *e)
{
    uint64_t d = e->deadline_ms;
    uint64_t now = w->elapsed;
    if (d <= now) {
        e->where = WEFT__WHEEL_EXPIRED;
        list_push_back(&w->expired, e);
        return;
    }
    unsigned top = w->levels - 1;
    unsigned level = (unsigned)(63 - __builtin_clzll(d ^ now)) / w->slot_bits;
    if (level >= top) {
        /* `reach` is the start of the next occurrence of the top slot holding `now`: the
         * furthest slot start the circular top level can express. */
        uint64_t span = slot_span(w, top);
        uint64_t reach = (now & ~(span - 1)) + (span << w->slot_bits);
        if (d > reach)
            d = reach;
        level = top;
    }
    unsigned s = digit(w, d, level);
    e->where = WEFT__WHEEL_SLOT;
    e->level = (unsigned char)level;
    e->slot = (unsigned char)s;
    list_push_back(&w->slots[level][s], e);
    w->occupied[level] |= (uint64_t)1 << s;
}

void weft__wheel_insert(weft__wheel *w, weft_timer_entry *e)
{
    place(w, e);
    w->count++;
}

void weft__wheel_remove(weft__wheel *w, weft_timer_entry *e)
{
    switch (e->where) {
    case WEFT__WHEEL_SLOT: {
        weft__wheel_list *l = &w->slots[e->level][e->slot];
        list_unlink(l, e);
        if (!l->head)
            w->occupied[e->level] &= ~((uint64_t)1 << e->slot);
        break;
    }
    case WEFT__WHEEL_EXPIRED:
        list_unlink(&w->expired, e);
        break;
    default:
        return;
    }
    e->where = WEFT__WHEEL_UNLINKED;
    w->count--;
}

/* The earliest occupied slot: its level, its index and the tick at which it starts (which is
 * the tick at which it must be processed). False when no slot is occupied. */
static bool next_slot(const weft__wheel *w, unsigned *out_level, unsigned *out_slot,
                      uint64_t *out_start)
{
    bool found = false;
    for (unsigned l = 0; l < w->levels; l++) {
        uint64_t occ = w->occupied[l];
        if (!occ)
            continue;
        uint64_t span = slot_span(w, l);
        uint64_t level_span = span << w->slot_bits;
        uint64_t base = w->elapsed & ~(level_span - 1);
        unsigned cur = digit(w, w->elapsed, l);
        /* Slots after the current digit start in this turn of the level; the others (only
         * ever occupied in the circular top level) in the next turn. */
        uint64_t later = occ & ~((((uint64_t)2) << cur) - 1);
        uint64_t start;
        unsigned s;
        if (later) {
            s = (unsigned)__builtin_ctzll(later);
            start = base + s * span;
        } else {
            s = (unsigned)__builtin_ctzll(occ);
            start = base + level_span + s * span;
        }
        if (!found || start < *out_start) {
            *out_level = l;
            *out_slot = s;
            *out_start = start;
            found = true;
        }
    }
    return found;
}

uint64_t weft__wheel_next_expiration(const weft__wheel *w)
{
    if (w->expired.head)
        return w->elapsed;
    unsigned l, s;
    uint64_t start;
    return next_slot(w, &l, &s, &start) ? start : UINT64_MAX;
}

static inline bool entry_before(const weft_timer_entry *a, const weft_timer_entry *b)
{
    return a->deadline_ms < b->deadline_ms ||
           (a->deadline_ms == b->deadline_ms && a->seq < b->seq);
}

/* Stable merge sort of a NULL-terminated chain linked through `next`; prev is left stale. */
static weft_timer_entry *sort_chain(weft_timer_entry *head, size_t n)
{
    if (n < 2)
        return head;
    weft_timer_entry *mid = head;
    for (size_t i = 1; i < n / 2; i++)
        mid = mid->next;
    weft_timer_entry *right = mid->next;
    mid->next = NULL;
    weft_timer_entry *a = sort_chain(head, n / 2);
    weft_timer_entry *b = sort_chain(right, n - n / 2);
    weft_timer_entry *out = NULL, **tail = &out;
    while (a && b) {
        /* Take from the right half only when strictly earlier: that keeps the sort stable. */
        if (entry_before(b, a)) {
            *tail = b;
            b = b->next;
        } else {
            *tail = a;
            a = a->next;
        }
        tail = &(*tail)->next;
    }
    *tail = a ? a : b;
    return out;
}

/* Put the expired list in (deadline, seq) order; returns its length. */
static size_t sort_expired(weft__wheel *w)
{
    size_t n = 0;
    bool sorted = true;
    for (weft_timer_entry *e = w->expired.head; e; e = e->next) {
        if (e->next && entry_before(e->next, e))
            sorted = false;
        n++;
    }
    if (sorted)
        return n;
    weft_timer_entry *head = sort_chain(w->expired.head, n);
    weft_timer_entry *prev = NULL;
    for (weft_timer_entry *e = head; e; e = e->next) {
        e->prev = prev;
        prev = e;
    }
    w->expired.head = head;
    w->expired.tail = prev;
    return n;
}

size_t weft__wheel_advance(weft__wheel *w, uint64_t now)
{
    unsigned l, s;
    uint64_t start;
    while (next_slot(w, &l, &s, &start) && start <= now) {
        /* Stand at the slot's start and re-place its entries: each lands in a lower level,
         * in the expired list if its deadline is this very tick, or (a far deadline held in
         * the top level) back in the top level one turn later. */
        w->elapsed = start;
        weft__wheel_list taken = w->slots[l][s];
        w->slots[l][s] = (weft__wheel_list){NULL, NULL};
        w->occupied[l] &= ~((uint64_t)1 << s);
        weft_timer_entry *e = taken.head;
        while (e) {
            weft_timer_entry *next = e->next;
            place(w, e);
            e = next;
        }
    }
    if (now > w->elapsed)
        w->elapsed = now;
    return sort_expired(w);
}

weft_timer_entry *weft__wheel_pop_expired(weft__wheel *w)
{
    weft_timer_entry *e = w->expired.head;
    if (e)
        weft__wheel_remove(w, e);
    return e;
}

weft_timer_entry *weft__wheel_pop_any(weft__wheel *w)
{
    weft_timer_entry *e = w->expired.head;
    for (unsigned l = 0; !e && l < w->levels; l++)
        if (w->occupied[l])
            e = w->slots[l][__builtin_ctzll(w->occupied[l])].head;
    if (e)
        weft__wheel_remove(w, e);
    return e;
}
