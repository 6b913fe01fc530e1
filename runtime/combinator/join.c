/* runtime/combinator/join.c - weft_join_all and weft_try_join: wait for N futures.
 *
 * Who calls it: programs (weft/select.h).
 *
 * Both keep `live`, bit i set while branch i is present and unfinished, with the same rule as
 * select.c: clear the bit, then let the branch complete or drop it, so every branch is
 * finished exactly once. Each poll polls every live branch, starting one branch further on
 * than the previous poll did. Without that rotation, a branch early in the array that spends
 * the task's cooperative budget would make every later branch see an exhausted budget on
 * every poll and never progress (Tokio's join! rotates for the same reason).
 *
 * try_join reads a branch's outcome through the int pointer the caller gave for it, right
 * after the branch returned READY; the first non-zero outcome drops all the other live
 * branches and completes the try_join with that error.
 */
#include <weft/error.h>
#include <weft/select.h>

static weft_poll join_all_poll(weft_future *f, weft_context *cx);
static void join_all_drop(weft_future *f);
static weft_poll try_join_poll(weft_future *f, weft_context *cx);
static void try_join_drop(weft_future *f);

static const weft_future_vtable join_all_vt = {
    .poll = join_all_poll,
    .drop = join_all_drop,
    .name = "join_all",
};

static const weft_future_vtable try_join_vt = {
    .poll = try_join_poll,
    .drop = try_join_drop,
    .name = "try_join",
};

/* The live mask of a branch array, or false for bad arguments. */
static bool live_mask(weft_future *const *branches, size_t n, uint64_t *live)
{
    *live = 0;
    if (n > WEFT_SELECT_MAX || (n > 0 && !branches))
        return false;
    for (size_t i = 0; i < n; i++)
        if (branches[i])
            *live |= UINT64_C(1) << i;
    return true;
}

static void drop_live(weft_future *const *branches, size_t n, uint64_t *live)
{
    for (size_t i = 0; i < n && *live; i++) {
        uint64_t bit = UINT64_C(1) << i;
        if (*live & bit) {
            *live &= ~bit;
            weft_future_drop(branches[i]);
        }
    }
}

/* ---------------------------------------------------------------- join_all */

void weft_join_all_init(weft_join_all *j, weft_future *const *branches, size_t n)
{
    if (!j)
        return;
    j->base.vt = &join_all_vt;
    j->branches = branches;
    j->n = n;
    j->start = 0;
    j->status = 0;
    if (!live_mask(branches, n, &j->live)) {
        j->n = 0;
        j->status = WEFT_EINVAL;
    }
}

static weft_poll join_all_poll(weft_future *f, weft_context *cx)
{
    weft_join_all *j = (weft_join_all *)f;
    if (!j->live)
        return WEFT_READY;
    size_t start = j->start;
    j->start = start + 1 < j->n ? start + 1 : 0;
    for (size_t k = 0; k < j->n; k++) {
        size_t i = start + k < j->n ? start + k : start + k - j->n;
        uint64_t bit = UINT64_C(1) << i;
        if ((j->live & bit) && weft_future_poll(j->branches[i], cx) == WEFT_READY)
            j->live &= ~bit;
    }
    return j->live ? WEFT_PENDING : WEFT_READY;
}

static void join_all_drop(weft_future *f)
{
    weft_join_all *j = (weft_join_all *)f;
    drop_live(j->branches, j->n, &j->live);
}

/* ---------------------------------------------------------------- try_join */

void weft_try_join_init(weft_try_join *j, weft_future *const *branches, int *const *status_of,
                        size_t n)
{
    if (!j)
        return;
    j->base.vt = &try_join_vt;
    j->branches = branches;
    j->status_of = status_of;
    j->n = n;
    j->start = 0;
    j->status = 0;
    j->failed = -1;
    if (!live_mask(branches, n, &j->live)) {
        j->n = 0;
        j->status = WEFT_EINVAL;
    }
}

static weft_poll try_join_poll(weft_future *f, weft_context *cx)
{
    weft_try_join *j = (weft_try_join *)f;
    if (!j->live)
        return WEFT_READY;
    size_t start = j->start;
    j->start = start + 1 < j->n ? start + 1 : 0;
    for (size_t k = 0; k < j->n; k++) {
        size_t i = start + k < j->n ? start + k : start + k - j->n;
        uint64_t bit = UINT64_C(1) << i;
        if (!(j->live & bit) || weft_future_poll(j->branches[i], cx) == WEFT_PENDING)
            continue;
        j->live &= ~bit;
        int *st = j->status_of ? j->status_of[i] : NULL;
        if (st && *st != 0) {
            j->status = *st;
            j->failed = (int)i;
            drop_live(j->branches, j->n, &j->live);
            return WEFT_READY;
        }
    }
    return j->live ? WEFT_PENDING : WEFT_READY;
}

static void try_join_drop(weft_future *f)
{
    weft_try_join *j = (weft_try_join *)f;
    drop_live(j->branches, j->n, &j->live);
}
