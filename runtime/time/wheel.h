/* runtime/time/wheel.h - a hierarchical timer wheel of millisecond ticks.
 *
 * A pure data structure: no clock, no lock, no wakers. The time driver (driver.c) owns one,
 * guards it with its mutex and feeds it "now" in milliseconds; the unit tests drive it
 * directly. Entries are intrusive (weft_timer_entry, embedded in the futures that arm them),
 * so insertion and removal allocate nothing and cost O(1).
 *
 * Geometry: `levels` levels of 2^slot_bits slots. A slot of level l spans 2^(slot_bits*l)
 * ticks, so level l as a whole spans 2^(slot_bits*(l+1)) ticks. With the defaults (6 levels of
 * 64 slots) level 0 holds the next 64 ms one tick per slot and the top level reaches about
 * 2.2 years; deadlines further than that wait in the top level and are re-placed each time
 * their slot comes round. Tests shrink the geometry (e.g. 3 levels of 4 slots, 64 ticks in
 * all) so that cascading, wrapping and clamping happen within a few hundred ticks.
 *
 *      level 2  |        0        |        1        |        2        |        3        |
 *      level 1  |  0 |  1 |  2 |  3 |                   (each slot: 4 ticks)
 *      level 0  |0|1|2|3|                                (each slot: 1 tick)
 *
 * An entry lives in one of three places, recorded in its `where` field:
 *   WEFT__WHEEL_UNLINKED  not in this wheel (never armed, fired, or removed);
 *   WEFT__WHEEL_SLOT      in slot `slot` of level `level`;
 *   WEFT__WHEEL_EXPIRED   in the expired list: its deadline has been reached and it waits to be
 *                         popped by weft__wheel_pop_expired (deadline order, then `seq`).
 */
#ifndef WEFT_TIME_WHEEL_H
#define WEFT_TIME_WHEEL_H

#include <stddef.h>
#include <stdint.h>
#include <weft/time.h>

/* Default geometry, used by the time driver. */
#define WEFT__WHEEL_LEVELS 6
#define WEFT__WHEEL_SLOT_BITS 6
/* Upper bounds of the geometry a wheel may be built with (they size its arrays). */
#define WEFT__WHEEL_MAX_LEVELS 8
#define WEFT__WHEEL_MAX_SLOT_BITS 6

enum {
    WEFT__WHEEL_UNLINKED = 0,
    WEFT__WHEEL_SLOT = 1,
    WEFT__WHEEL_EXPIRED = 2,
};

/* A doubly linked list of entries through their next/prev fields (NULL-terminated). */
typedef struct weft__wheel_list {
    weft_timer_entry *head; /* first entry, NULL when empty */
    weft_timer_entry *tail; /* last entry, NULL when empty */
} weft__wheel_list;

typedef struct weft__wheel {
    uint64_t elapsed;    /* the tick processed last: every entry with deadline <= elapsed is in
                          * the expired list, every other one in the slot its deadline maps to
                          * relative to `elapsed` */
    unsigned levels;     /* number of levels in use, 2..WEFT__WHEEL_MAX_LEVELS */
    unsigned slot_bits;  /* log2 of the slots per level, 1..WEFT__WHEEL_MAX_SLOT_BITS */
    size_t count;        /* entries linked (slots and expired list together) */
    /* Bit s of occupied[l] is set exactly when slots[l][s] is non-empty. */
    uint64_t occupied[WEFT__WHEEL_MAX_LEVELS];
    weft__wheel_list slots[WEFT__WHEEL_MAX_LEVELS][1u << WEFT__WHEEL_MAX_SLOT_BITS];
    weft__wheel_list expired; /* due entries; sorted by (deadline, seq) after each advance */
} weft__wheel;

/* Initialise an empty wheel whose clock stands at tick `now`. 0, or WEFT_EINVAL when the
 * geometry is out of bounds or spans more than 2^48 ticks. */
int weft__wheel_init(weft__wheel *w, unsigned levels, unsigned slot_bits, uint64_t now);

/* Link an unlinked entry, using its deadline_ms and seq (set by the caller). A deadline at or
 * before `elapsed` goes to the expired list: it is popped after the next advance. O(1). */
void weft__wheel_insert(weft__wheel *w, weft_timer_entry *e);

/* Unlink an entry from wherever it is in this wheel; a no-op when it is unlinked. O(1). */
void weft__wheel_remove(weft__wheel *w, weft_timer_entry *e);

/* The earliest tick at which weft__wheel_advance has work to do: `elapsed` if something is
 * already due, UINT64_MAX if the wheel is empty. It is never later than the earliest deadline
 * and equals it when that entry sits in level 0; for an entry in a higher level it is the tick
 * at which its slot must be cascaded. O(levels). */
uint64_t weft__wheel_next_expiration(const weft__wheel *w);

/* Move the wheel's clock forward to `now` (a `now` behind `elapsed` changes nothing):
 * cascade the slots it passes and move every entry whose deadline is <= now to the expired
 * list, which is then sorted by deadline and, for equal deadlines, by seq. Returns how many
 * entries the expired list holds. Cost: the slots and entries it passes, plus sorting what is
 * due (linear when it is already in order, as it is unless entries were armed in the past). */
size_t weft__wheel_advance(weft__wheel *w, uint64_t now);

/* Unlink and return the first entry of the expired list, or NULL. */
weft_timer_entry *weft__wheel_pop_expired(weft__wheel *w);

/* Unlink and return any linked entry (for tearing a wheel down), or NULL when empty. */
weft_timer_entry *weft__wheel_pop_any(weft__wheel *w);

#endif
