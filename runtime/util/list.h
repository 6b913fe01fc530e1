/* runtime/util/list.h - the one intrusive doubly-linked list of libweft.
 *
 * A weft__list is both the head (a sentinel) and the node embedded in each element, so
 * insertion and removal are O(1) and allocate nothing: the property every wait queue needs,
 * since a waiting future carries its own node and can unlink itself when it is dropped.
 * An unlinked node points at itself (weft__list_init), so "am I queued?" is one comparison.
 * No locking: the structure that embeds the list says which lock guards it.
 */
#ifndef WEFT_UTIL_LIST_H
#define WEFT_UTIL_LIST_H

#include <stdbool.h>
#include <stddef.h>

/* Public headers whose structs embed a wait-queue node (weft/notify.h, ...) define the same
 * struct behind the same guard, since they cannot include this private header. */
#ifndef WEFT__LIST_DEFINED
#define WEFT__LIST_DEFINED
typedef struct weft__list {
    struct weft__list *next, *prev;
} weft__list;
#endif

#define weft__container_of(ptr, type, member) \
    ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

static inline void weft__list_init(weft__list *l)
{
    l->next = l->prev = l;
}

static inline bool weft__list_empty(const weft__list *l)
{
    return l->next == l;
}

/* True when node is in some list (it was initialised and is not unlinked). */
static inline bool weft__list_linked(const weft__list *node)
{
    return node->next != node;
}

static inline void weft__list_push_back(weft__list *head, weft__list *node)
{
    node->prev = head->prev;
    node->next = head;
    head->prev->next = node;
    head->prev = node;
}

static inline void weft__list_push_front(weft__list *head, weft__list *node)
{
    node->next = head->next;
    node->prev = head;
    head->next->prev = node;
    head->next = node;
}

/* Unlink and re-initialise, so that removing twice is harmless. */
static inline void weft__list_remove(weft__list *node)
{
    node->prev->next = node->next;
    node->next->prev = node->prev;
    weft__list_init(node);
}

static inline weft__list *weft__list_front(const weft__list *head)
{
    return weft__list_empty(head) ? NULL : head->next;
}

static inline weft__list *weft__list_pop_front(weft__list *head)
{
    weft__list *n = weft__list_front(head);
    if (n)
        weft__list_remove(n);
    return n;
}

#define weft__list_for_each(it, head) for ((it) = (head)->next; (it) != (head); (it) = (it)->next)

#endif
