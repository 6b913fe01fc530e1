/* runtime/sync/cancel_token.c - weft_cancel_token: a tree of one-way cancellation latches.
 *
 * Who calls it: programs (weft/cancel.h); the runtime itself does not.
 *
 * Layout. Every token is one allocation; the tokens made from one root (by child_token, at any
 * depth) share one `tree`, whose mutex guards the links and waiter lists of all of them. A
 * tree lock is simpler to argue about than per-token locks (no parent-before-child lock
 * order to keep when re-linking on drop), and tokens of unrelated trees never contend.
 *
 *     tree { lock, tokens }
 *       ▲   ▲   ▲
 *       │   │   └──────────────┐
 *     root ─children─▶ child_a ─sibling─▶ child_b
 *                        │                  │ parent
 *                        └─children─▶ …     ▼
 *                                          root
 *
 * Invariants (all under the tree lock, except reading `cancelled`):
 *   - `cancelled` only goes false -> true, under the lock, with release order; a cancelled
 *     token has no parent and no children (cancel detaches the subtree it marks), so links
 *     only join tokens that are not cancelled. Consequently a cancelled token's descendants
 *     are all cancelled, and cancel() walks only live links.
 *   - `handles` counts the user's handles plus one per WAITING cancelled() future. While it
 *     is above zero the token stays allocated; the drop that takes it to zero frees the token
 *     under the lock after moving its children to its parent (or making them roots). The
 *     count itself is atomic so that clone and drop need no lock until the last drop.
 *   - `tree->tokens` counts allocated tokens; the token freed last frees the tree.
 *   - Every WAITING cancelled() future is linked in its token's `waiters`, or in the private
 *     list of a cancel() that is still waking, or unlinked with its waker taken by cancel().
 *
 * cancel() marks the subtree and moves every waiter it finds to a list on its stack in one
 * pass under the lock, then wakes that list in batches of WAKE_BATCH, dropping the lock
 * between batches (never waking a waker under the lock). A waiter polled or dropped meanwhile
 * sees `cancelled` and unlinks itself under the lock.
 */
#include <stdlib.h>

#include <pthread.h>
#include <stdatomic.h>

#include <weft/cancel.h>
#include <weft/error.h>

#include "../util/list.h"
#include "resource.h"

enum { ST_INIT, ST_WAITING, ST_DONE };

#define WAKE_BATCH 32

typedef struct cancel_tree {
    pthread_mutex_t lock; /* guards every [tree] field of every token of the tree */
    size_t tokens;        /* [tree] allocated tokens; the last one freed frees the tree */
} cancel_tree;

struct weft_cancel_token {
    cancel_tree *tree;         /* fixed at creation */
    weft_cancel_token *parent; /* [tree] NULL for a root, a cancelled token, or an orphan */
    weft__list children;       /* [tree] live child tokens, linked through their `sibling` */
    weft__list sibling;        /* [tree] link in parent->children (or cancel's work list) */
    weft__list waiters;        /* [tree] WAITING cancelled() futures, in arrival order */
    _Atomic size_t handles;    /* user handles + WAITING cancelled() futures */
    _Atomic bool cancelled;    /* set once under the lock (release); read anywhere (acquire) */
    weft_resource res;         /* identity for the tools; fixed at creation */
};

static weft_poll cancelled_poll(weft_future *f, weft_context *cx);
static void cancelled_drop(weft_future *f);

static const weft_future_vtable cancelled_vt = {
    .poll = cancelled_poll,
    .drop = cancelled_drop,
    .name = "cancelled",
};

/* Append every node of `src` to the end of `dst`, leaving `src` empty. */
static void list_append_all(weft__list *dst, weft__list *src)
{
    if (weft__list_empty(src))
        return;
    src->next->prev = dst->prev;
    dst->prev->next = src->next;
    src->prev->next = dst;
    dst->prev = src->prev;
    weft__list_init(src);
}

/* ---------------------------------------------------------------- creation */

static weft_cancel_token *token_alloc(cancel_tree *tree, const char *name, weft_location where)
{
    weft_cancel_token *t = malloc(sizeof *t);
    if (!t)
        return NULL;
    t->tree = tree;
    t->parent = NULL;
    weft__list_init(&t->children);
    weft__list_init(&t->sibling);
    weft__list_init(&t->waiters);
    atomic_init(&t->handles, 1);
    atomic_init(&t->cancelled, false);
    weft__resource_init(&t->res, WEFT_RESOURCE_CANCEL_TOKEN, name, where);
    return t;
}

int weft__cancel_token_new(weft_cancel_token **out, const char *name, weft_location where)
{
    if (!out)
        return WEFT_EINVAL;
    *out = NULL;
    cancel_tree *tree = malloc(sizeof *tree);
    if (!tree)
        return WEFT_ENOMEM;
    weft_cancel_token *t = token_alloc(tree, name, where);
    if (!t) {
        free(tree);
        return WEFT_ENOMEM;
    }
    pthread_mutex_init(&tree->lock, NULL);
    tree->tokens = 1;
    *out = t;
    return 0;
}

int weft__cancel_token_child_token(weft_cancel_token *parent, weft_cancel_token **out,
                                   weft_location where)
{
    if (!out)
        return WEFT_EINVAL;
    *out = NULL;
    if (!parent)
        return WEFT_EINVAL;
    cancel_tree *tree = parent->tree;
    weft_cancel_token *c = token_alloc(tree, parent->res.name, where);
    if (!c)
        return WEFT_ENOMEM;
    pthread_mutex_lock(&tree->lock);
    tree->tokens++;
    bool cancelled = atomic_load_explicit(&parent->cancelled, memory_order_relaxed);
    if (cancelled) {
        /* Born cancelled, and, like every cancelled token, linked to nobody. */
        atomic_store_explicit(&c->cancelled, true, memory_order_release);
    } else {
        c->parent = parent;
        weft__list_push_back(&parent->children, &c->sibling);
    }
    pthread_mutex_unlock(&tree->lock);
    weft__resource_event(cancel_token_child, &c->res, &parent->res, cancelled);
    *out = c;
    return 0;
}

/* ---------------------------------------------------------------- handles */

weft_cancel_token *weft_cancel_token_clone(weft_cancel_token *t)
{
    if (!t)
        return NULL;
    size_t before = atomic_fetch_add_explicit(&t->handles, 1, memory_order_relaxed);
    weft__resource_event(cancel_token_handles, &t->res, before + 1);
    (void)before;
    return t;
}

/* The last handle is gone: unlink the token, give its children to its parent, free it. */
static void token_free(weft_cancel_token *t)
{
    cancel_tree *tree = t->tree;
    pthread_mutex_lock(&tree->lock);
    if (weft__list_linked(&t->sibling))
        weft__list_remove(&t->sibling);
    weft__list *node;
    while ((node = weft__list_pop_front(&t->children)) != NULL) {
        weft_cancel_token *c = weft__container_of(node, weft_cancel_token, sibling);
        c->parent = t->parent;
        if (t->parent)
            weft__list_push_back(&t->parent->children, &c->sibling);
    }
    bool last = --tree->tokens == 0;
    pthread_mutex_unlock(&tree->lock);

    weft__resource_drop(&t->res);
    free(t);
    if (last) {
        pthread_mutex_destroy(&tree->lock);
        free(tree);
    }
}

/* Release one handle. Acquire-release so that everything done through any handle happens
 * before the free. */
static void token_release(weft_cancel_token *t)
{
    size_t before = atomic_fetch_sub_explicit(&t->handles, 1, memory_order_acq_rel);
    weft__resource_event(cancel_token_handles, &t->res, before - 1);
    if (before == 1)
        token_free(t);
}

void weft_cancel_token_drop(weft_cancel_token *t)
{
    if (t)
        token_release(t);
}

/* ---------------------------------------------------------------- cancel */

bool weft_cancel_token_is_cancelled(const weft_cancel_token *t)
{
    return t && atomic_load_explicit(&((weft_cancel_token *)t)->cancelled, memory_order_acquire);
}

void weft_cancel_token_cancel(weft_cancel_token *t)
{
    if (!t || atomic_load_explicit(&t->cancelled, memory_order_acquire))
        return;
    cancel_tree *tree = t->tree;
    weft__list todo, pending;
    weft__list_init(&todo);
    weft__list_init(&pending);
    size_t tokens = 0, woken = 0;

    pthread_mutex_lock(&tree->lock);
    if (atomic_load_explicit(&t->cancelled, memory_order_relaxed)) {
        pthread_mutex_unlock(&tree->lock);
        return;
    }
    /* Detach t from its parent and walk its subtree breadth-first, reusing the `sibling`
     * links as the work list: every token reached is marked, loses its links, and hands its
     * waiters to `pending`. No recursion, no allocation. */
    if (weft__list_linked(&t->sibling))
        weft__list_remove(&t->sibling);
    t->parent = NULL;
    weft__list_push_back(&todo, &t->sibling);
    weft__list *node;
    while ((node = weft__list_pop_front(&todo)) != NULL) {
        weft_cancel_token *x = weft__container_of(node, weft_cancel_token, sibling);
        x->parent = NULL;
        atomic_store_explicit(&x->cancelled, true, memory_order_release);
        list_append_all(&pending, &x->waiters);
        list_append_all(&todo, &x->children);
        tokens++;
    }

    weft_waker batch[WAKE_BATCH];
    for (;;) {
        unsigned k = 0;
        while (k < WAKE_BATCH && (node = weft__list_pop_front(&pending)) != NULL) {
            weft_cancelled *w = weft__container_of(node, weft_cancelled, node);
            batch[k++] = w->waker;
            w->waker = WEFT_WAKER_NONE;
        }
        bool more = !weft__list_empty(&pending);
        pthread_mutex_unlock(&tree->lock);
        for (unsigned i = 0; i < k; i++)
            weft_waker_wake(&batch[i]);
        woken += k;
        if (!more)
            break;
        pthread_mutex_lock(&tree->lock);
    }
    weft__resource_event(cancel_token_cancel, &t->res, tokens, woken);
    (void)tokens;
    (void)woken;
}

/* ---------------------------------------------------------------- cancelled() */

void weft__cancel_token_cancelled_init(weft_cancelled *f, weft_cancel_token *t,
                                       weft_location where)
{
    if (!f)
        return;
    f->base.vt = &cancelled_vt;
    f->token = t;
    /* Set when the future queues; until then it may be copied, so it points nowhere. */
    f->node.next = f->node.prev = NULL;
    f->waker = WEFT_WAKER_NONE;
    f->where = where;
    f->state = t ? ST_INIT : ST_DONE;
    f->status = t ? 0 : WEFT_EINVAL;
}

/* Leave the token's waiters (if cancel() has not already taken us out) and give back the
 * handle held since registration. */
static void unregister(weft_cancelled *f)
{
    weft_cancel_token *t = f->token;
    pthread_mutex_lock(&t->tree->lock);
    if (weft__list_linked(&f->node))
        weft__list_remove(&f->node);
    weft_waker mine = f->waker;
    f->waker = WEFT_WAKER_NONE;
    pthread_mutex_unlock(&t->tree->lock);
    weft_waker_drop(&mine);
    f->state = ST_DONE;
    weft__resource_wait_done(&t->res, WEFT_OP_CANCELLED);
    token_release(t);
}

static weft_poll cancelled_poll(weft_future *fut, weft_context *cx)
{
    weft_cancelled *f = (weft_cancelled *)fut;
    if (f->state == ST_DONE)
        return WEFT_READY;
    if (!weft_coop_proceed(cx))
        return WEFT_PENDING;
    weft_cancel_token *t = f->token;

    if (atomic_load_explicit(&t->cancelled, memory_order_acquire)) {
        if (f->state == ST_WAITING)
            unregister(f);
        f->state = ST_DONE;
        return WEFT_READY;
    }

    pthread_mutex_lock(&t->tree->lock);
    /* Under the lock `cancelled` cannot change, and cancel() sets it before it takes the
     * waiters: re-checking here is what makes registering race-free. */
    if (atomic_load_explicit(&t->cancelled, memory_order_relaxed)) {
        pthread_mutex_unlock(&t->tree->lock);
        if (f->state == ST_WAITING)
            unregister(f);
        f->state = ST_DONE;
        return WEFT_READY;
    }
    if (f->state == ST_INIT) {
        atomic_fetch_add_explicit(&t->handles, 1, memory_order_relaxed);
        weft__list_push_back(&t->waiters, &f->node);
        f->state = ST_WAITING;
    }
    weft_waker_register(&f->waker, cx);
    pthread_mutex_unlock(&t->tree->lock);
    weft__resource_wait(&t->res, WEFT_OP_CANCELLED, f->where);
    return WEFT_PENDING;
}

static void cancelled_drop(weft_future *fut)
{
    weft_cancelled *f = (weft_cancelled *)fut;
    if (f->state == ST_WAITING)
        unregister(f);
    f->state = ST_DONE;
}
