/* runtime/combinator/select.c - weft_select: the first of N futures to complete wins.
 *
 * Who calls it: programs (weft/select.h), usually through WEFT_AWAIT in a loop.
 *
 * The select owns the *fate* of its branches, not their memory: `live` has bit i set while
 * branch i is present and has neither completed nor been dropped. Every path that finishes a
 * branch clears its bit first, then polls-to-READY or drops it, so a branch is finished
 * exactly once even if a drop re-enters the select (it cannot poll it, but a buggy branch
 * could try to drop the select from its own drop).
 *
 *     init ──▶ polling ──a branch READY──▶ drop the other live branches ──▶ done (READY)
 *                │
 *                └──dropped──▶ drop every live branch ──▶ done
 *
 * The starting branch of each poll comes from weft_rand_below, the runtime's one source of
 * randomness, so that a deterministic run replays the same choices.
 */
#include <weft/error.h>
#include <weft/runtime.h>
#include <weft/select.h>

static weft_poll select_poll(weft_future *f, weft_context *cx);
static void select_drop(weft_future *f);

static const weft_future_vtable select_vt = {
    .poll = select_poll,
    .drop = select_drop,
    .name = "select",
};

static void init(weft_select *s, weft_future *const *branches, size_t n, bool biased)
{
    if (!s)
        return;
    s->base.vt = &select_vt;
    s->branches = branches;
    s->n = n;
    s->live = 0;
    s->biased = biased;
    s->done = false;
    s->winner = -1;
    s->status = 0;
    if (n > WEFT_SELECT_MAX || (n > 0 && !branches)) {
        s->status = WEFT_EINVAL;
        s->n = 0;
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (branches[i])
            s->live |= UINT64_C(1) << i;
}

void weft_select_init(weft_select *s, weft_future *const *branches, size_t n)
{
    init(s, branches, n, false);
}

void weft_select_biased_init(weft_select *s, weft_future *const *branches, size_t n)
{
    init(s, branches, n, true);
}

/* Drop every branch still live, lowest index first. */
static void drop_live(weft_select *s)
{
    for (size_t i = 0; i < s->n && s->live; i++) {
        uint64_t bit = UINT64_C(1) << i;
        if (s->live & bit) {
            s->live &= ~bit;
            weft_future_drop(s->branches[i]);
        }
    }
}

static weft_poll select_poll(weft_future *f, weft_context *cx)
{
    weft_select *s = (weft_select *)f;
    if (s->done)
        return WEFT_READY;
    if (!s->live) {
        /* Bad arguments, or every branch absent: Tokio's `else` branch. */
        if (s->status == 0)
            s->status = WEFT_EEMPTY;
        s->done = true;
        return WEFT_READY;
    }
    size_t start = s->biased ? 0 : (size_t)weft_rand_below(s->n);
    for (size_t k = 0; k < s->n; k++) {
        size_t i = start + k < s->n ? start + k : start + k - s->n;
        uint64_t bit = UINT64_C(1) << i;
        if (!(s->live & bit))
            continue;
        if (weft_future_poll(s->branches[i], cx) == WEFT_READY) {
            s->live &= ~bit;
            s->winner = (int)i;
            drop_live(s);
            s->done = true;
            return WEFT_READY;
        }
    }
    return WEFT_PENDING;
}

static void select_drop(weft_future *f)
{
    weft_select *s = (weft_select *)f;
    drop_live(s);
    s->done = true;
}
