/* weft/resource.h - what every channel and synchronisation primitive is to the tools.
 *
 * Each primitive embeds a weft_resource: an id, a kind, a name and the source line that created
 * it. The runtime reports the resource's creation, its state changes and every task that goes
 * to sleep on it (what operation, at which line) through the instrumentation hooks. That is how
 * the console can say "task 7 'transfer' waits for mutex 'account_b' at bank.c:42, held by
 * task 9", and how the deterministic scheduler draws wait-for cycles.
 *
 * Constructors take the name and capture the caller's location with a macro, e.g.
 *     weft_mutex_init(&m, "account_b");   // records bank.c:17
 */
#ifndef WEFT_RESOURCE_H
#define WEFT_RESOURCE_H

#include <weft/future.h>

/* X(name, label) */
#define WEFT_RESOURCE_KINDS(X)         \
    X(MUTEX, "mutex")                  \
    X(RWLOCK, "rwlock")                \
    X(SEMAPHORE, "semaphore")          \
    X(MPSC, "mpsc")                    \
    X(ONESHOT, "oneshot")              \
    X(BROADCAST, "broadcast")          \
    X(WATCH, "watch")                  \
    X(NOTIFY, "notify")                \
    X(BARRIER, "barrier")              \
    X(CANCEL_TOKEN, "cancellation_token") \
    X(BLOCKING_MUTEX, "blocking_mutex") \
    X(TIMER, "timer")                  \
    X(TCP_LISTENER, "tcp_listener")    \
    X(TCP_STREAM, "tcp_stream")        \
    X(UDP_SOCKET, "udp_socket")        \
    X(UNIX_LISTENER, "unix_listener")  \
    X(UNIX_STREAM, "unix_stream")      \
    X(SIGNAL, "signal")

typedef enum weft_resource_kind {
#define WEFT_RES_ENUM_(name, label) WEFT_RESOURCE_##name,
    WEFT_RESOURCE_KINDS(WEFT_RES_ENUM_)
#undef WEFT_RES_ENUM_
    WEFT_RESOURCE_KIND_COUNT_
} weft_resource_kind;

/* What a task waits for on a resource (the console's "Waiting on" column). */
#define WEFT_RESOURCE_OPS(X)  \
    X(LOCK, "lock")           \
    X(READ, "read")           \
    X(WRITE, "write")         \
    X(ACQUIRE, "acquire")     \
    X(SEND, "send")           \
    X(RECV, "recv")           \
    X(CLOSED, "closed")       \
    X(CHANGED, "changed")     \
    X(NOTIFIED, "notified")   \
    X(WAIT, "wait")           \
    X(CANCELLED, "cancelled") \
    X(ACCEPT, "accept")       \
    X(CONNECT, "connect")

typedef enum weft_resource_op {
#define WEFT_RES_OP_ENUM_(name, label) WEFT_OP_##name,
    WEFT_RESOURCE_OPS(WEFT_RES_OP_ENUM_)
#undef WEFT_RES_OP_ENUM_
    WEFT_OP_COUNT_
} weft_resource_op;

/* The intrusive list node of the runtime (runtime/util/list.h), defined behind the same guard
 * because a public header cannot include that private one. */
#ifndef WEFT__LIST_DEFINED
#define WEFT__LIST_DEFINED
typedef struct weft__list {
    struct weft__list *next, *prev;
} weft__list;
#endif

typedef struct weft_resource {
    uint64_t id;              /* process-unique, never 0 once initialised */
    const char *name;         /* borrowed; a string literal as a rule ("account_b") */
    weft_location created_at; /* where the constructor was called */
    weft_resource_kind kind;
    /* For the instrumentation; fixed at init except where said. */
    uint64_t capacity;        /* permits or channel capacity at creation; 0: none/unbounded */
    /* Re-reports the primitive's current state (holders, permits, length) through its usual
     * events, when a reader asks for a snapshot; NULL if it has nothing to add. Called with
     * the registry lock of runtime/sync/resource.c held: it may take the primitive's own
     * lock, so a primitive must not call weft__resource_drop while holding that lock. */
    void (*snapshot)(const struct weft_resource *r);
    weft__list registry;      /* [registry lock] link among live resources, when tracing */
    bool registered;          /* [owner] in the registry (tracing was on at init) */
} weft_resource;

const char *weft_resource_kind_name(weft_resource_kind kind);
const char *weft_resource_op_name(weft_resource_op op);
/* Whether a kind carries bytes (TCP and Unix streams, UDP sockets): on those, WEFT_OP_READ and
 * WEFT_OP_WRITE mean moving data, where on an rwlock they are lock modes. */
bool weft_resource_kind_is_stream(weft_resource_kind kind);

#endif
