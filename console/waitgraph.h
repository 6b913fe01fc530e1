/* console/waitgraph.h - who waits for whom: wait chains and wait-for cycles (deadlocks).
 *
 * The wait-for graph has an edge T -> H when task T waits on a resource that task H holds: a
 * lock (mutex, rwlock, blocking mutex) or semaphore permits. A *wait chain* follows those edges
 * from one task: what it waits on, who holds that, what the holder waits on, ... until a task
 * that is not waiting (running, runnable, or idle on something without a holder) or a task
 * already in the chain (a cycle). A *deadlock* is a cycle whose tasks are all idle: none of
 * them can run, so none of them will release what the next one needs.
 *
 * A resource with several holders (readers, permit holders) gives several edges; a chain
 * follows the first holder that is itself waiting, since that is the one that explains the
 * wait. A task waiting to *send* on a full mpsc or oneshot channel waits for its receiver:
 * the task last seen waiting to receive from it (the stream does not say who owns a receiver
 * handle, but a consumer that ever found its channel empty has said so). That edge is what
 * closes a cycle of actors whose bounded mailboxes feed each other. Waits to receive, on
 * notifies and barriers have no known holder (which task will send is not known), so chains
 * and cycles stop there.
 *
 * A task awaiting a join handle waits for the joined task to finish: an edge T -> J with no
 * resource in between. Two tasks awaiting each other's joins, or a task awaiting the join of
 * a task that waits on a lock the first one holds, are cycles like any other.
 */
#ifndef WEFT_CONSOLE_WAITGRAPH_H
#define WEFT_CONSOLE_WAITGRAPH_H

#include "model.h"

#define CHAIN_MAX 32
#define CYCLE_MAX 16

typedef struct chain_link {
    uint64_t task;      /* the waiting task */
    uint64_t resource;  /* what it waits on (0: it does not wait) */
    uint8_t op;
    uint32_t location;  /* the await's location */
    uint64_t holder;    /* task holding the resource (or receiving from it), or the task whose
                           join it awaits; 0 if none known */
    bool via_receiver;  /* holder is the channel's receiver, not a lock or permit holder */
    bool via_join;      /* no resource: the task awaits holder's outcome (a join) */
} chain_link;

typedef enum chain_end {
    CHAIN_NOT_WAITING,  /* the last task waits on nothing (or runs) */
    CHAIN_NO_HOLDER,    /* it waits on a resource nobody is known to hold */
    CHAIN_CYCLE,        /* the last link's holder is already in the chain */
    CHAIN_TOO_LONG,
} chain_end;

typedef struct wait_chain {
    chain_link links[CHAIN_MAX];
    unsigned n;
    chain_end end;
    unsigned cycle_from;  /* CHAIN_CYCLE: index of the link the cycle returns to */
} wait_chain;

/* The chain starting at task `task`. n == 0 if the task is unknown. */
void wait_chain_of(const model *m, uint64_t task, wait_chain *out);

/* The task that explains a wait on r for operation op by task `waiter`: the channel's receiver
 * for a send, else the first holder (other than the waiter, unless it is the only one) that is
 * itself waiting, else the first holder. 0 if none. *via_receiver (may be NULL) says which. */
uint64_t waitgraph_holder(const model *m, const model_resource *r, uint8_t op, uint64_t waiter,
                          bool *via_receiver);

typedef struct wait_cycle {
    chain_link links[CYCLE_MAX]; /* links[i].holder == links[(i+1) % n].task */
    unsigned n;
    uint64_t formed;             /* ts the last wait of the cycle began */
} wait_cycle;

/* Every deadlock (cycle of idle tasks) in the model, each once, the one with the smallest
 * task id first within its cycle; cycles sorted by that id. Up to max into out; returns how
 * many were found (may exceed max). */
size_t waitgraph_cycles(const model *m, wait_cycle *out, size_t max);

#endif
