/* weft/select.h - combinators over N futures: select, join_all, try_join.
 *
 * Tokio names: select! -> weft_select (biased; -> weft_select_biased_init, `if` preconditions
 * -> NULL branches), join! / futures::join_all -> weft_join_all, try_join! -> weft_try_join.
 * A deadline over one future is weft_timeout (weft/time.h).
 *
 * Branches are futures the caller has initialised and keeps in its own state; the combinator
 * receives an array of pointers to them. Both the array and the futures are *borrowed*: they
 * must stay where they are, alive, until the combinator has completed or been dropped, so the
 * array belongs in the caller's state struct next to the branches (not in a C local of the
 * poll function, which does not survive an await):
 *
 *     typedef struct {
 *         weft_async co;
 *         weft_mpsc_recv recv;           // branch 0
 *         weft_sleep nap;                // branch 1
 *         weft_future *branches[2];
 *         weft_select sel;
 *     } loop_state;
 *     ...
 *     s->branches[0] = &s->recv.base;  s->branches[1] = &s->nap.base;
 *     weft_select_init(&s->sel, s->branches, 2);
 *     WEFT_AWAIT(&s->co, cx, &s->sel);
 *     if (s->sel.winner == 0) ... read s->recv's result ...
 *
 * Ownership of the branches' outcome: the combinator finishes every branch it was given,
 * exactly once, by one of two means: the branch completes (READY) and the caller reads its
 * result from the branch's struct, or the combinator *drops* it (cancels it: its drop runs).
 * A branch is never dropped after it completed, and never polled after it completed or was
 * dropped. NULL entries are absent branches: never polled, never dropped.
 *
 * At most WEFT_SELECT_MAX branches (Tokio's select! has the same limit); more, or a NULL
 * array with n > 0, makes the combinator complete at once with status WEFT_EINVAL without
 * touching any branch.
 *
 * None of these is a resource: they wait on their branches, which report their own waits.
 */
#ifndef WEFT_SELECT_H
#define WEFT_SELECT_H

#include <weft/future.h>

#define WEFT_SELECT_MAX 64

/* ---------------------------------------------------------------- select
 *
 * READY as soon as one branch is READY: `winner` is its index. Every other branch still
 * unfinished is dropped, i.e. cancelled, before the select returns READY, whether or not it
 * had been polled yet. Dropping the select drops every unfinished branch.
 *
 * Order: each poll tries the branches in turn from a starting branch drawn at random with
 * weft_rand_below (so that no branch starves when several are often ready at once, and so that
 * the deterministic scheduler controls the choice), wrapping around; a biased select always
 * starts from branch 0, so when several are ready the lowest index wins.
 *
 * Cancel safety is that of the branches: the losers are dropped, so a loser whose drop loses
 * data (a branch that has half-received a message) loses it here. Every weft leaf future
 * documents its own cancel safety; a channel recv that loses nothing when dropped loses
 * nothing in a select either.
 *
 * Results: winner is the index, or -1 with status WEFT_EEMPTY when every branch is absent
 * (NULL; Tokio's else branch), or -1 with status WEFT_EINVAL for bad arguments. status is 0
 * when a branch won.
 */
typedef struct weft_select {
    weft_future base;
    weft_future *const *branches; /* [owner] borrowed array of n branches (NULL = absent) */
    size_t n;                     /* [owner] number of entries in `branches` */
    uint64_t live;                /* [owner] bit i: branch i present and not finished */
    bool biased;                  /* [owner] always start from branch 0 */
    bool done;                    /* [owner] READY was returned */
    int winner;                   /* result: index of the branch that completed, or -1 */
    int status;                   /* result: 0, WEFT_EEMPTY or WEFT_EINVAL */
} weft_select;

void weft_select_init(weft_select *s, weft_future *const *branches, size_t n);
void weft_select_biased_init(weft_select *s, weft_future *const *branches, size_t n);

/* ---------------------------------------------------------------- join_all
 *
 * READY once every present branch is READY (status 0), or at once with status WEFT_EINVAL for
 * bad arguments. Each poll polls every unfinished branch, starting one branch further on each
 * time so that a branch that spends the cooperative budget cannot starve the ones after it.
 * Dropping it drops every unfinished branch; the finished ones keep their results.
 */
typedef struct weft_join_all {
    weft_future base;
    weft_future *const *branches; /* [owner] borrowed array of n branches (NULL = absent) */
    size_t n;                     /* [owner] number of entries in `branches` */
    uint64_t live;                /* [owner] bit i: branch i present and not finished */
    size_t start;                 /* [owner] branch the next poll starts from */
    int status;                   /* result: 0 or WEFT_EINVAL */
} weft_join_all;

void weft_join_all_init(weft_join_all *j, weft_future *const *branches, size_t n);

/* ---------------------------------------------------------------- try_join
 *
 * join_all where a branch can fail. Alongside each branch the caller gives a pointer to the
 * int in which that branch reports its outcome, e.g. &handle.status for a join handle or
 * &recv.status for a channel receive: after the branch is READY, a non-zero value there means
 * it failed. (A NULL pointer, or a NULL `status_of` array, means the branch cannot fail.)
 *
 * READY with status 0 when every branch succeeded. At the first failure, every other
 * unfinished branch is dropped (cancelled) at once and the try_join is READY with `status`
 * set to that branch's error and `failed` to its index. Dropping a try_join drops every
 * unfinished branch.
 *
 * Remember that dropping a join handle detaches its task rather than aborting it (as in
 * Tokio): a try_join over join handles stops waiting for the others but does not stop them.
 */
typedef struct weft_try_join {
    weft_future base;
    weft_future *const *branches; /* [owner] borrowed array of n branches (NULL = absent) */
    int *const *status_of;        /* [owner] borrowed array of n outcome pointers, or NULL */
    size_t n;                     /* [owner] number of entries in `branches` */
    uint64_t live;                /* [owner] bit i: branch i present and not finished */
    size_t start;                 /* [owner] branch the next poll starts from */
    int status;                   /* result: 0, the first branch error, or WEFT_EINVAL */
    int failed;                   /* result: index of the branch that failed, or -1 */
} weft_try_join;

void weft_try_join_init(weft_try_join *j, weft_future *const *branches, int *const *status_of,
                        size_t n);

#endif
