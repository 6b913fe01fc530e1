/* tests/unit/test_wheel.c - the hierarchical timer wheel (runtime/time/wheel.c) on its own.
 *
 * The wheel is a pure data structure, so these tests drive its clock by hand and check what
 * pops out of the expired list: deadline order, ties in arming order (whatever route each
 * entry took through the levels), cascading, removal from every place an entry can be,
 * deadlines beyond the wheel's reach, deadlines in the past, and a long randomized run
 * against a sorted-array model in several geometries (small ones make cascading, wrapping
 * and clamping happen every few ticks).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <weft/error.h>

#include "time/wheel.h"

/* ---------------------------------------------------------------- helpers */

static weft__wheel *new_wheel(unsigned levels, unsigned slot_bits, uint64_t now)
{
    weft__wheel *w = malloc(sizeof *w);
    assert_non_null(w);
    assert_int_equal(weft__wheel_init(w, levels, slot_bits, now), 0);
    return w;
}

static void arm(weft__wheel *w, weft_timer_entry *e, uint64_t deadline, uint64_t seq)
{
    memset(e, 0, sizeof *e);
    e->deadline_ms = deadline;
    e->seq = seq;
    weft__wheel_insert(w, e);
}

/* Advance to `now` and pop everything due into out[] (at most cap); returns how many. */
static size_t fire(weft__wheel *w, uint64_t now, weft_timer_entry **out, size_t cap)
{
    size_t due = weft__wheel_advance(w, now);
    size_t n = 0;
    weft_timer_entry *e;
    while ((e = weft__wheel_pop_expired(w))) {
        assert_true(n < cap);
        assert_int_equal(e->where, WEFT__WHEEL_UNLINKED);
        out[n++] = e;
    }
    assert_int_equal(n, due);
    return n;
}

/* ---------------------------------------------------------------- cases */

static void test_wheel_init_rejects_bad_geometry(void **state)
{
    weft__wheel *w = malloc(sizeof *w);
    assert_int_equal(weft__wheel_init(w, 0, 6, 0), WEFT_EINVAL);
    assert_int_equal(weft__wheel_init(w, 6, 0, 0), WEFT_EINVAL);
    assert_int_equal(weft__wheel_init(w, WEFT__WHEEL_MAX_LEVELS + 1, 2, 0), WEFT_EINVAL);
    assert_int_equal(weft__wheel_init(w, 2, WEFT__WHEEL_MAX_SLOT_BITS + 1, 0), WEFT_EINVAL);
    assert_int_equal(weft__wheel_init(w, WEFT__WHEEL_LEVELS, WEFT__WHEEL_SLOT_BITS, 0), 0);
    assert_int_equal(weft__wheel_next_expiration(w), UINT64_MAX);
    assert_int_equal(weft__wheel_advance(w, 1000), 0);
    assert_null(weft__wheel_pop_expired(w));
    free(w);
}

static void test_wheel_fires_in_deadline_order(void **state)
{
    weft__wheel *w = new_wheel(WEFT__WHEEL_LEVELS, WEFT__WHEEL_SLOT_BITS, 0);
    /* Deadlines in every level of the default wheel, armed out of order. */
    static const uint64_t deadlines[] = {5000000, 3, 70, 1, 64, 63, 4096, 300000, 2, 4095};
    enum { N = sizeof deadlines / sizeof deadlines[0] };
    weft_timer_entry e[N];
    for (size_t i = 0; i < N; i++)
        arm(w, &e[i], deadlines[i], i);
    assert_int_equal(w->count, N);

    weft_timer_entry *out[N];
    assert_int_equal(fire(w, 10000000, out, N), N);
    for (size_t i = 1; i < N; i++)
        assert_true(out[i - 1]->deadline_ms < out[i]->deadline_ms);
    assert_int_equal(w->count, 0);
    assert_int_equal(weft__wheel_next_expiration(w), UINT64_MAX);
    free(w);
}

static void test_wheel_fires_exactly_at_deadline_when_stepping(void **state)
{
    /* 3 levels of 4 slots: 1-tick, 4-tick and 16-tick slots, 64 ticks of reach. */
    weft__wheel *w = new_wheel(3, 2, 0);
    enum { N = 60 };
    weft_timer_entry e[N];
    for (size_t i = 0; i < N; i++)
        arm(w, &e[i], i + 1, i);
    weft_timer_entry *out[N];
    for (uint64_t now = 1; now <= N; now++) {
        size_t n = fire(w, now, out, N);
        assert_int_equal(n, 1);
        assert_int_equal(out[0]->deadline_ms, now);
    }
    free(w);
}

static void test_wheel_equal_deadlines_fire_in_seq_order(void **state)
{
    weft__wheel *w = new_wheel(WEFT__WHEEL_LEVELS, WEFT__WHEEL_SLOT_BITS, 0);
    weft_timer_entry a, b, c, d;
    /* a goes to level 1 and is cascaded; b is armed later and placed straight in level 0. */
    arm(w, &a, 100, 1);
    weft_timer_entry *out[4];
    assert_int_equal(fire(w, 70, out, 4), 0);
    arm(w, &b, 100, 2);
    assert_int_equal(a.level, 0);
    assert_int_equal(b.level, 0);
    /* d is linked after c but carries the lower seq (as an entry that took a slower route
     * through the levels would): the seq, not the order of linking, decides. */
    arm(w, &c, 100, 4);
    arm(w, &d, 100, 3);
    assert_int_equal(fire(w, 100, out, 4), 4);
    assert_ptr_equal(out[0], &a);
    assert_ptr_equal(out[1], &b);
    assert_ptr_equal(out[2], &d);
    assert_ptr_equal(out[3], &c);
    free(w);
}

static void test_wheel_equal_deadlines_ordered_after_top_level_wrap(void **state)
{
    /* 2 levels of 4 slots (16 ticks of reach). a (seq 1) is beyond reach when armed at 0 and
     * waits in the top level; b (seq 2) is armed at 5 and lands in the slot a is later
     * cascaded into, ahead of a. They must still fire a, b. */
    weft__wheel *w = new_wheel(2, 2, 0);
    weft_timer_entry a, b;
    weft_timer_entry *out[2];
    arm(w, &a, 20, 1);
    assert_int_equal(fire(w, 5, out, 2), 0);
    arm(w, &b, 20, 2);
    for (uint64_t now = 6; now < 20; now++)
        assert_int_equal(fire(w, now, out, 2), 0);
    assert_int_equal(fire(w, 20, out, 2), 2);
    assert_ptr_equal(out[0], &a);
    assert_ptr_equal(out[1], &b);
    free(w);
}

static void test_wheel_cascades_through_every_level(void **state)
{
    weft__wheel *w = new_wheel(4, 2, 0); /* slots of 1, 4, 16 and 64 ticks; 256 of reach */
    weft_timer_entry e[4];
    arm(w, &e[0], 3, 0);   /* level 0 */
    arm(w, &e[1], 13, 1);  /* level 1 */
    arm(w, &e[2], 50, 2);  /* level 2 */
    arm(w, &e[3], 201, 3); /* level 3 */
    for (int i = 0; i < 4; i++)
        assert_int_equal(e[i].level, i);

    /* Following next_expiration visits cascade points and deadlines, never passing one. */
    weft_timer_entry *out[4];
    size_t fired = 0;
    uint64_t last = 0;
    while (fired < 4) {
        uint64_t t = weft__wheel_next_expiration(w);
        assert_true(t >= last);
        assert_true(t <= e[fired].deadline_ms);
        last = t;
        size_t n = fire(w, t, out, 4);
        if (n) {
            assert_int_equal(n, 1);
            assert_ptr_equal(out[0], &e[fired]);
            assert_int_equal(t, e[fired].deadline_ms);
            fired++;
        }
    }
    assert_int_equal(weft__wheel_next_expiration(w), UINT64_MAX);
    free(w);
}

static void test_wheel_next_expiration_is_exact_in_level_zero(void **state)
{
    /* Level 0 of the default wheel holds ticks 1024..1087 while the clock is at 1024. */
    weft__wheel *w = new_wheel(WEFT__WHEEL_LEVELS, WEFT__WHEEL_SLOT_BITS, 1024);
    weft_timer_entry a, b, c;
    arm(w, &a, 1080, 0);
    assert_int_equal(weft__wheel_next_expiration(w), 1080);
    arm(w, &b, 1030, 1);
    assert_int_equal(weft__wheel_next_expiration(w), 1030);
    /* 1100 is in level 1: the answer is the start of its slot, a lower bound. */
    arm(w, &c, 1100, 2);
    assert_int_equal(c.level, 1);
    weft__wheel_remove(w, &b);
    assert_int_equal(weft__wheel_next_expiration(w), 1080);
    weft__wheel_remove(w, &a);
    assert_int_equal(weft__wheel_next_expiration(w), 1088);
    weft__wheel_remove(w, &c);
    assert_int_equal(weft__wheel_next_expiration(w), UINT64_MAX);
    free(w);
}

static void test_wheel_remove_from_every_place(void **state)
{
    weft__wheel *w = new_wheel(3, 2, 0);
    weft_timer_entry slot0, slot_hi, far, past, keep;
    arm(w, &slot0, 2, 0);
    arm(w, &slot_hi, 40, 1);
    arm(w, &far, 1000, 2);
    arm(w, &keep, 40, 3);
    weft_timer_entry *out[5];
    assert_int_equal(fire(w, 1, out, 5), 0);
    arm(w, &past, 0, 4);
    assert_int_equal(past.where, WEFT__WHEEL_EXPIRED);
    assert_int_equal(weft__wheel_next_expiration(w), 1);
    assert_int_equal(w->count, 5);

    weft__wheel_remove(w, &past);
    weft__wheel_remove(w, &slot0);
    weft__wheel_remove(w, &slot_hi);
    weft__wheel_remove(w, &far);
    assert_int_equal(w->count, 1);
    /* Removing an unlinked entry is a no-op. */
    weft__wheel_remove(w, &far);
    assert_int_equal(w->count, 1);
    assert_int_equal(far.where, WEFT__WHEEL_UNLINKED);

    /* Only `keep` fires, at its deadline; the emptied slots left no stale occupancy bit. */
    for (uint64_t now = 2; now < 40; now++)
        assert_int_equal(fire(w, now, out, 5), 0);
    assert_int_equal(fire(w, 2000, out, 5), 1);
    assert_ptr_equal(out[0], &keep);
    assert_int_equal(w->count, 0);
    for (unsigned l = 0; l < w->levels; l++)
        assert_int_equal(w->occupied[l], 0);
    free(w);
}

static void test_wheel_remove_then_reinsert_moves_entry(void **state)
{
    weft__wheel *w = new_wheel(WEFT__WHEEL_LEVELS, WEFT__WHEEL_SLOT_BITS, 0);
    weft_timer_entry a, b;
    arm(w, &a, 500, 0);
    arm(w, &b, 20, 1);
    weft__wheel_remove(w, &a);
    a.deadline_ms = 10;
    a.seq = 2;
    weft__wheel_insert(w, &a);
    weft_timer_entry *out[2];
    assert_int_equal(fire(w, 15, out, 2), 1);
    assert_ptr_equal(out[0], &a);
    assert_int_equal(fire(w, 600, out, 2), 1);
    assert_ptr_equal(out[0], &b);
    free(w);
}

static void test_wheel_far_deadline_is_reached(void **state)
{
    /* 2 levels of 4 slots reach 16 ticks; 1000 is far beyond, and 2^20 much further (it is
     * re-placed once per 16-tick turn of the top level: 65536 times). */
    weft__wheel *w = new_wheel(2, 2, 0);
    weft_timer_entry far, farther;
    arm(w, &far, 1000, 0);
    arm(w, &farther, (uint64_t)1 << 20, 1);
    assert_int_equal(far.level, 1);
    weft_timer_entry *out[2];
    /* Stepping one tick at a time: it is re-placed many times but fires at 1000 exactly. */
    for (uint64_t now = 1; now < 1000; now++) {
        assert_int_equal(fire(w, now, out, 2), 0);
        assert_true(weft__wheel_next_expiration(w) > now);
    }
    assert_int_equal(fire(w, 1000, out, 2), 1);
    assert_ptr_equal(out[0], &far);
    /* One big jump past the other: it fires, and only then. */
    assert_int_equal(fire(w, ((uint64_t)1 << 20) - 1, out, 2), 0);
    assert_int_equal(fire(w, ((uint64_t)1 << 20) + 5, out, 2), 1);
    assert_ptr_equal(out[0], &farther);
    free(w);
}

static void test_wheel_deadline_just_past_top_boundary(void **state)
{
    /* E = 62, D = 65 in a 64-tick wheel: the deadline is in the next top-level turn but only
     * 3 ticks away; it must not be held back until the slot of 62 comes round again. */
    weft__wheel *w = new_wheel(3, 2, 62);
    weft_timer_entry e;
    arm(w, &e, 65, 0);
    assert_true(weft__wheel_next_expiration(w) <= 65);
    weft_timer_entry *out[1];
    assert_int_equal(fire(w, 64, out, 1), 0);
    assert_int_equal(fire(w, 65, out, 1), 1);
    free(w);
}

static void test_wheel_past_deadline_fires_at_next_advance(void **state)
{
    weft__wheel *w = new_wheel(WEFT__WHEEL_LEVELS, WEFT__WHEEL_SLOT_BITS, 0);
    weft_timer_entry a, b, c, d;
    weft_timer_entry *out[4];
    arm(w, &a, 100, 1);
    arm(w, &b, 100, 2);
    /* Advance but pop nothing: a and b wait in the expired list. */
    assert_int_equal(weft__wheel_advance(w, 150), 2);
    /* Armed in the past, after them: c ties with them, d is earlier than all. */
    arm(w, &c, 100, 3);
    arm(w, &d, 90, 4);
    assert_int_equal(weft__wheel_next_expiration(w), 150);
    /* Advancing to a time behind the wheel's clock moves nothing but still sorts. */
    assert_int_equal(fire(w, 120, out, 4), 4);
    assert_ptr_equal(out[0], &d);
    assert_ptr_equal(out[1], &a);
    assert_ptr_equal(out[2], &b);
    assert_ptr_equal(out[3], &c);
    assert_int_equal(w->elapsed, 150);
    free(w);
}

static void test_wheel_pop_any_empties_the_wheel(void **state)
{
    weft__wheel *w = new_wheel(3, 2, 0);
    weft_timer_entry e[5];
    static const uint64_t deadlines[] = {0, 1, 10, 50, 5000};
    for (size_t i = 0; i < 5; i++)
        arm(w, &e[i], deadlines[i], i);
    size_t n = 0;
    weft_timer_entry *x;
    while ((x = weft__wheel_pop_any(w))) {
        assert_int_equal(x->where, WEFT__WHEEL_UNLINKED);
        n++;
    }
    assert_int_equal(n, 5);
    assert_int_equal(w->count, 0);
    assert_int_equal(weft__wheel_next_expiration(w), UINT64_MAX);
    free(w);
}

/* ---------------------------------------------------------------- randomized model check */

static uint64_t rng_state;

static uint64_t rng(void)
{
    /* xorshift64*: deterministic per seed, so a failure reproduces. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

typedef struct model_entry {
    weft_timer_entry e;
    bool armed; /* in the wheel according to the model */
} model_entry;

static int cmp_due(const void *pa, const void *pb)
{
    const model_entry *a = *(model_entry *const *)pa, *b = *(model_entry *const *)pb;
    if (a->e.deadline_ms != b->e.deadline_ms)
        return a->e.deadline_ms < b->e.deadline_ms ? -1 : 1;
    return a->e.seq < b->e.seq ? -1 : a->e.seq > b->e.seq;
}

static void run_model(unsigned levels, unsigned slot_bits, uint64_t seed, int steps)
{
    enum { N = 256 };
    weft__wheel *w = new_wheel(levels, slot_bits, 1000);
    uint64_t reach = (uint64_t)1 << (levels * slot_bits);
    model_entry *m = calloc(N, sizeof *m);
    model_entry **due = calloc(N, sizeof *due);
    weft_timer_entry **out = calloc(N, sizeof *out);
    uint64_t now = 1000, seq = 0;
    size_t armed = 0;
    rng_state = seed;

    for (int step = 0; step < steps; step++) {
        uint64_t r = rng() % 100;
        model_entry *x = &m[rng() % N];
        if (r < 45) {
            /* (Re)arm with a deadline drawn from every regime: past, now, near, one level
             * up, around the reach, far beyond it. */
            if (x->armed) {
                weft__wheel_remove(w, &x->e);
                armed--;
            }
            uint64_t d;
            switch (rng() % 6) {
            case 0: d = now - rng() % 50; break;
            case 1: d = now; break;
            case 2: d = now + rng() % 8; break;
            case 3: d = now + rng() % (reach / 2 + 1); break;
            case 4: d = now + reach - 3 + rng() % 6; break;
            default: d = now + rng() % (reach * 50); break;
            }
            x->e.deadline_ms = d;
            x->e.seq = ++seq;
            weft__wheel_insert(w, &x->e);
            x->armed = true;
            armed++;
        } else if (r < 60) {
            weft__wheel_remove(w, &x->e);
            if (x->armed)
                armed--;
            x->armed = false;
        } else {
            /* Advance: by one tick, a little, to the next expiration, or a long jump. */
            switch (rng() % 4) {
            case 0: now += 1; break;
            case 1: now += rng() % 10; break;
            case 2: {
                uint64_t t = weft__wheel_next_expiration(w);
                if (t != UINT64_MAX && t > now)
                    now = t;
                break;
            }
            default: now += rng() % (reach * 3); break;
            }
            size_t nd = 0;
            for (size_t i = 0; i < N; i++)
                if (m[i].armed && m[i].e.deadline_ms <= now)
                    due[nd++] = &m[i];
            qsort(due, nd, sizeof *due, cmp_due);
            size_t n = fire(w, now, out, N);
            assert_int_equal(n, nd);
            for (size_t i = 0; i < n; i++) {
                assert_ptr_equal(out[i], &due[i]->e);
                due[i]->armed = false;
            }
            armed -= n;
        }
        assert_int_equal(w->count, armed);

        /* next_expiration never overshoots the earliest deadline still armed. */
        uint64_t min = UINT64_MAX;
        for (size_t i = 0; i < N; i++)
            if (m[i].armed && m[i].e.deadline_ms < min)
                min = m[i].e.deadline_ms;
        uint64_t next = weft__wheel_next_expiration(w);
        if (min == UINT64_MAX)
            assert_int_equal(next, UINT64_MAX);
        else
            assert_true(next <= (min > now ? min : now));
    }
    free(out);
    free(due);
    free(m);
    free(w);
}

static void test_wheel_randomized_against_sorted_array(void **state)
{
    static const struct { unsigned levels, slot_bits; } geometry[] = {
        {1, 2}, {2, 1}, {2, 2}, {3, 2}, {3, 3}, {4, 1}, {WEFT__WHEEL_LEVELS, WEFT__WHEEL_SLOT_BITS},
    };
    for (size_t g = 0; g < sizeof geometry / sizeof geometry[0]; g++)
        for (uint64_t seed = 1; seed <= 6; seed++)
            run_model(geometry[g].levels, geometry[g].slot_bits, seed * 0x9e3779b97f4a7c15ull,
                      4000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wheel_init_rejects_bad_geometry),
        cmocka_unit_test(test_wheel_fires_in_deadline_order),
        cmocka_unit_test(test_wheel_fires_exactly_at_deadline_when_stepping),
        cmocka_unit_test(test_wheel_equal_deadlines_fire_in_seq_order),
        cmocka_unit_test(test_wheel_equal_deadlines_ordered_after_top_level_wrap),
        cmocka_unit_test(test_wheel_cascades_through_every_level),
        cmocka_unit_test(test_wheel_next_expiration_is_exact_in_level_zero),
        cmocka_unit_test(test_wheel_remove_from_every_place),
        cmocka_unit_test(test_wheel_remove_then_reinsert_moves_entry),
        cmocka_unit_test(test_wheel_far_deadline_is_reached),
        cmocka_unit_test(test_wheel_deadline_just_past_top_boundary),
        cmocka_unit_test(test_wheel_past_deadline_fires_at_next_advance),
        cmocka_unit_test(test_wheel_pop_any_empties_the_wheel),
        cmocka_unit_test(test_wheel_randomized_against_sorted_array),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
