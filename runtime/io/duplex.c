/* runtime/io/duplex.c - two connected in-memory streams (weft_duplex_new, weft/io.h).
 *
 * One shared object holds two one-way pipes, each a ring buffer of `capacity` bytes:
 *
 *     end 0 --write--> pipe[0] --read--> end 1
 *     end 0 <--read--- pipe[1] <--write- end 1
 *
 * so end i writes pipe[i] and reads pipe[1 - i]. Each pipe keeps the waker of its reader
 * (woken when bytes arrive or the writer shuts down) and of its writer (woken when room
 * appears or the reader goes away). One mutex guards everything shared; wakers are moved out
 * under it and woken after it is released, so a woken task can never find the lock held by
 * the waker's caller. The ends are freed separately; the shared object goes with the last.
 *
 * max_chunk belongs to an end and bounds that end's reads and writes; it is what lets a test
 * deliver a message in pieces of every size.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <weft/io.h>
#include <weft/task.h>

typedef struct pipe_buf {
    unsigned char *ring; /* [lock] capacity bytes */
    size_t head;         /* [lock] index of the oldest unread byte */
    size_t len;          /* [lock] bytes buffered */
    bool shut;           /* [lock] the writer shut down or closed: EOF after the bytes */
    bool reader_gone;    /* [lock] the reading end was closed: writes fail */
    weft_waker reader;   /* [lock] the reading end's task waiting for bytes */
    weft_waker writer;   /* [lock] the writing end's task waiting for room */
} pipe_buf;

typedef struct duplex_shared {
    pthread_mutex_t lock;
    size_t capacity;   /* fixed at creation */
    pipe_buf pipe[2];  /* pipe[i] is written by end i */
    int ends;          /* [lock] ends not yet freed */
    int reset;         /* [lock] 0, or the error every operation reports after a reset */
} duplex_shared;

struct weft_duplex {
    weft_io_stream stream; /* must be first: the end is its stream */
    duplex_shared *sh;
    int side;              /* 0 or 1 */
    size_t max_chunk;      /* [lock] most bytes per read or write of this end */
};

weft_duplex_options weft_duplex_options_default(void)
{
    return (weft_duplex_options){.capacity = 64 * 1024, .max_chunk = SIZE_MAX};
}

/* Wake a waker moved out of shared state, after the lock was released. */
static void wake_taken(weft_waker *w)
{
    weft_waker_wake(w);
}

static weft_waker take(weft_waker *slot)
{
    weft_waker w = *slot;
    *slot = WEFT_WAKER_NONE;
    return w;
}

static size_t min3(size_t a, size_t b, size_t c)
{
    size_t m = a < b ? a : b;
    return m < c ? m : c;
}

/* ---------------------------------------------------------------- the stream functions */

static weft_poll duplex_poll_read(weft_io_stream *s, weft_context *cx, void *buf, size_t cap,
                                  size_t *n, int *err)
{
    weft_duplex *d = (weft_duplex *)s;
    duplex_shared *sh = d->sh;
    pipe_buf *p = &sh->pipe[1 - d->side];
    weft_waker wake = WEFT_WAKER_NONE;

    *n = 0;
    *err = 0;
    pthread_mutex_lock(&sh->lock);
    if (sh->reset) {
        *err = sh->reset;
        pthread_mutex_unlock(&sh->lock);
        return WEFT_READY;
    }
    if (cap > 0 && p->len == 0 && !p->shut) {
        weft_waker_register(&p->reader, cx);
        pthread_mutex_unlock(&sh->lock);
        return WEFT_PENDING;
    }
    pthread_mutex_unlock(&sh->lock);

    /* Ready at once: spend budget first (outside the lock: it may wake this task). */
    if (!weft_coop_proceed(cx))
        return WEFT_PENDING;

    pthread_mutex_lock(&sh->lock);
    if (sh->reset) {
        *err = sh->reset;
    } else {
        size_t k = min3(p->len, cap, d->max_chunk);
        size_t first = sh->capacity - p->head;
        if (first > k)
            first = k;
        if (k > 0) { /* buf may be NULL when cap is 0 */
            memcpy(buf, p->ring + p->head, first);
            memcpy((unsigned char *)buf + first, p->ring, k - first);
        }
        p->head = (p->head + k) % sh->capacity;
        p->len -= k;
        *n = k;
        if (k > 0)
            wake = take(&p->writer);
    }
    pthread_mutex_unlock(&sh->lock);
    wake_taken(&wake);
    return WEFT_READY;
}

static weft_poll duplex_poll_write(weft_io_stream *s, weft_context *cx, const void *buf,
                                   size_t len, size_t *n, int *err)
{
    weft_duplex *d = (weft_duplex *)s;
    duplex_shared *sh = d->sh;
    pipe_buf *p = &sh->pipe[d->side];
    weft_waker wake = WEFT_WAKER_NONE;

    *n = 0;
    *err = 0;
    pthread_mutex_lock(&sh->lock);
    if (sh->reset || p->shut || p->reader_gone) {
        *err = sh->reset ? sh->reset : WEFT_ECLOSED;
        pthread_mutex_unlock(&sh->lock);
        return WEFT_READY;
    }
    if (len > 0 && p->len == sh->capacity) {
        weft_waker_register(&p->writer, cx);
        pthread_mutex_unlock(&sh->lock);
        return WEFT_PENDING;
    }
    pthread_mutex_unlock(&sh->lock);

    if (!weft_coop_proceed(cx))
        return WEFT_PENDING;

    pthread_mutex_lock(&sh->lock);
    if (sh->reset || p->reader_gone) {
        *err = sh->reset ? sh->reset : WEFT_ECLOSED;
    } else {
        /* Only this end writes this pipe, so the room seen above can only have grown. */
        size_t k = min3(sh->capacity - p->len, len, d->max_chunk);
        size_t tail = (p->head + p->len) % sh->capacity;
        size_t first = sh->capacity - tail;
        if (first > k)
            first = k;
        if (k > 0) { /* buf may be NULL when len is 0 */
            memcpy(p->ring + tail, buf, first);
            memcpy(p->ring, (const unsigned char *)buf + first, k - first);
        }
        p->len += k;
        *n = k;
        if (k > 0)
            wake = take(&p->reader);
    }
    pthread_mutex_unlock(&sh->lock);
    wake_taken(&wake);
    return WEFT_READY;
}

static weft_poll duplex_poll_flush(weft_io_stream *s, weft_context *cx, int *err)
{
    weft_duplex *d = (weft_duplex *)s;
    (void)cx;
    pthread_mutex_lock(&d->sh->lock);
    *err = d->sh->reset;
    pthread_mutex_unlock(&d->sh->lock);
    return WEFT_READY;
}

static weft_poll duplex_poll_shutdown(weft_io_stream *s, weft_context *cx, int *err)
{
    weft_duplex *d = (weft_duplex *)s;
    pipe_buf *p = &d->sh->pipe[d->side];
    weft_waker wake;
    (void)cx;
    pthread_mutex_lock(&d->sh->lock);
    *err = d->sh->reset;
    p->shut = true;
    wake = take(&p->reader);
    pthread_mutex_unlock(&d->sh->lock);
    wake_taken(&wake);
    return WEFT_READY;
}

static void duplex_close(weft_io_stream *s)
{
    weft_duplex_free((weft_duplex *)s);
}

static const weft_io_stream_vtable duplex_vt = {
    .poll_read = duplex_poll_read,
    .poll_write = duplex_poll_write,
    .poll_flush = duplex_poll_flush,
    .poll_shutdown = duplex_poll_shutdown,
    .close = duplex_close,
    .name = "duplex",
};

/* ---------------------------------------------------------------- life cycle */

int weft_duplex_new(const weft_duplex_options *o, weft_duplex **a, weft_duplex **b)
{
    weft_duplex_options def = weft_duplex_options_default();
    if (a)
        *a = NULL;
    if (b)
        *b = NULL;
    if (!o)
        o = &def;
    if (!a || !b || o->capacity == 0 || o->max_chunk == 0)
        return WEFT_EINVAL;

    duplex_shared *sh = calloc(1, sizeof *sh);
    weft_duplex *ends = calloc(2, sizeof *ends);
    unsigned char *r0 = malloc(o->capacity), *r1 = malloc(o->capacity);
    if (!sh || !ends || !r0 || !r1) {
        free(sh);
        free(ends);
        free(r0);
        free(r1);
        return WEFT_ENOMEM;
    }
    pthread_mutex_init(&sh->lock, NULL);
    sh->capacity = o->capacity;
    sh->pipe[0].ring = r0;
    sh->pipe[1].ring = r1;
    sh->ends = 2;
    /* The two ends are one allocation so that creation has one failure point; each is
     * "freed" by marking it gone, and the block goes with the shared object. */
    for (int i = 0; i < 2; i++) {
        ends[i].stream.vt = &duplex_vt;
        ends[i].sh = sh;
        ends[i].side = i;
        ends[i].max_chunk = o->max_chunk;
    }
    *a = &ends[0];
    *b = &ends[1];
    return 0;
}

weft_io_stream *weft_duplex_stream(weft_duplex *end)
{
    return end ? &end->stream : NULL;
}

void weft_duplex_set_max_chunk(weft_duplex *end, size_t max_chunk)
{
    if (!end || max_chunk == 0)
        return;
    pthread_mutex_lock(&end->sh->lock);
    end->max_chunk = max_chunk;
    pthread_mutex_unlock(&end->sh->lock);
}

size_t weft_duplex_readable(weft_duplex *end)
{
    if (!end)
        return 0;
    pthread_mutex_lock(&end->sh->lock);
    size_t len = end->sh->pipe[1 - end->side].len;
    pthread_mutex_unlock(&end->sh->lock);
    return len;
}

void weft_duplex_reset(weft_duplex *end)
{
    if (!end)
        return;
    duplex_shared *sh = end->sh;
    weft_waker w[4];
    pthread_mutex_lock(&sh->lock);
    if (!sh->reset)
        sh->reset = weft_os_error(ECONNRESET);
    for (int i = 0; i < 2; i++) {
        sh->pipe[i].len = 0;
        w[2 * i] = take(&sh->pipe[i].reader);
        w[2 * i + 1] = take(&sh->pipe[i].writer);
    }
    pthread_mutex_unlock(&sh->lock);
    for (int i = 0; i < 4; i++)
        wake_taken(&w[i]);
}

void weft_duplex_free(weft_duplex *end)
{
    if (!end)
        return;
    duplex_shared *sh = end->sh;
    pipe_buf *out = &sh->pipe[end->side], *in = &sh->pipe[1 - end->side];
    /* The peer's waiters must learn that this end is gone; this end's own leftovers are
     * dropped (nobody can be waiting on them: close requires no pending future). */
    weft_waker peer_reader, peer_writer, own_reader, own_writer;
    pthread_mutex_lock(&sh->lock);
    out->shut = true;
    in->reader_gone = true;
    in->len = 0;
    peer_reader = take(&out->reader);
    peer_writer = take(&in->writer);
    own_reader = take(&in->reader);
    own_writer = take(&out->writer);
    bool last = --sh->ends == 0;
    pthread_mutex_unlock(&sh->lock);
    wake_taken(&peer_reader);
    wake_taken(&peer_writer);
    weft_waker_drop(&own_reader);
    weft_waker_drop(&own_writer);
    if (last) {
        weft_duplex *ends = end - end->side;
        pthread_mutex_destroy(&sh->lock);
        free(sh->pipe[0].ring);
        free(sh->pipe[1].ring);
        free(sh);
        free(ends);
    }
}
