/* Lab 05 - the bottomless queue.  (Edit this file; `weft lab check 05` grades it.)
 *
 * A log shipper reads lines from its input and writes them to disk:
 *
 *   ingest   reads a line every millisecond (600 lines) and sends it to the writer
 *            over a channel.
 *   writer   receives lines and writes each one to disk: 1 or 2 ms per line (weft_rand).
 *
 * The disk is slower than the input. In production the shipper's memory grows with every
 * burst of input until the kernel kills it; each line waiting in the channel costs memory.
 * The budget is 64 lines in memory. Find where the lines pile up, and make the shipper hold
 * no more than 64 lines, without losing any and without slowing the writer down.
 *
 * Checks (printed at the end of every run):
 *   bounded-memory   never more than 64 lines waiting between ingest and writer
 *   all-written      every line written, once, in order
 *   disk-busy        the disk never waits for lines that were available (the shipper is
 *                    as fast as its disk)
 */
#include <string.h>

#include <lab.h>

#define LINES 600
#define BUDGET 64

/* ---------------------------------------------------------------- ingest */

typedef struct ingest {
    weft_async co;
    weft_mpsc_sender tx;
    int line;
    weft_sleep next_line;
} ingest;

static weft_poll ingest_poll(weft_future *f, weft_context *cx)
{
    ingest *in = (ingest *)f;
    WEFT_ASYNC_BEGIN(&in->co);
    for (in->line = 0; in->line < LINES; in->line++) {
        weft_sleep_init(&in->next_line, weft_ms(1)); /* the input delivers a line */
        WEFT_AWAIT(&in->co, cx, &in->next_line);

        if (weft_mpsc_unbounded_send(&in->tx, &in->line) != 0)
            break;
        lab_count("waiting", 1);
    }
    weft_mpsc_sender_drop(&in->tx); /* end of input: the writer sees the channel close */
    WEFT_ASYNC_END(&in->co);
}

static void ingest_drop(weft_future *f)
{
    ingest *in = (ingest *)f;
    weft_async_drop(f);
    weft_mpsc_sender_drop(&in->tx);
}

static const weft_future_vtable ingest_vt = {ingest_poll, ingest_drop, "ingest"};

/* ---------------------------------------------------------------- writer */

static int written, in_order;
static weft_duration disk_time; /* total time the disk spent writing */

typedef struct writer {
    weft_async co;
    weft_mpsc_receiver rx;
    int line;
    weft_mpsc_recv recv;
    weft_sleep disk;
} writer;

static weft_poll writer_poll(weft_future *f, weft_context *cx)
{
    writer *w = (writer *)f;
    WEFT_ASYNC_BEGIN(&w->co);
    for (;;) {
        weft_mpsc_recv_init(&w->recv, &w->rx, &w->line);
        WEFT_AWAIT(&w->co, cx, &w->recv);
        if (w->recv.status != 0)
            break; /* closed and drained: every line is in */
        lab_count("waiting", -1);

        weft_duration d = weft_ms(1 + weft_rand_below(2));
        disk_time += d;
        weft_sleep_init(&w->disk, d);
        WEFT_AWAIT(&w->co, cx, &w->disk);
        in_order += w->line == written;
        written++;
        if (written % 100 == 0)
            lab_say("%d lines written, %lld waiting in memory", written,
                    (long long)lab_counter("waiting"));
    }
    weft_mpsc_receiver_drop(&w->rx);
    WEFT_ASYNC_END(&w->co);
}

static void writer_drop(weft_future *f)
{
    writer *w = (writer *)f;
    weft_async_drop(f);
    weft_mpsc_receiver_drop(&w->rx);
}

static const weft_future_vtable writer_vt = {writer_poll, writer_drop, "writer"};

/* ---------------------------------------------------------------- main and the checks */

static void judge(weft_duration end)
{
    int64_t peak = lab_counter_peak("waiting");
    lab_check("bounded-memory", peak <= BUDGET, "up to %lld lines waited in memory (budget %d)",
              (long long)peak, BUDGET);
    lab_check("all-written", written == LINES && in_order == LINES,
              "%d of %d lines written, %d in order", written, LINES, in_order);
    /* The first line arrives at 1 ms; from then on the disk should never stand idle. */
    weft_duration idle = end > weft_ms(1) + disk_time ? end - weft_ms(1) - disk_time : 0;
    lab_check("disk-busy", idle <= weft_ms(20),
              "the disk stood idle for %llu ms in all (limit 20 ms; it wrote for %llu ms)",
              (unsigned long long)(idle / 1000000u), (unsigned long long)(disk_time / 1000000u));
}

typedef struct shipper {
    weft_async co;
    weft_join_handle in, out;
} shipper;

static weft_poll shipper_poll(weft_future *f, weft_context *cx)
{
    shipper *s = (shipper *)f;
    WEFT_ASYNC_BEGIN(&s->co);
    {
        ingest in;
        writer w;
        weft_async_init(&in.co, &ingest_vt);
        weft_async_init(&w.co, &writer_vt);
        if (weft_mpsc_unbounded_channel(&in.tx, &w.rx, sizeof(int), "lines") != 0)
            WEFT_ASYNC_RETURN(&s->co);
        /* spawn moves the handles into the tasks (copying a handle moves it) */
        s->out = weft_spawn_named("writer", &w);
        s->in = weft_spawn_named("ingest", &in);
    }
    WEFT_AWAIT(&s->co, cx, &s->in);
    WEFT_AWAIT(&s->co, cx, &s->out);
    judge(lab_now());
    WEFT_ASYNC_END(&s->co);
}

static void shipper_drop(weft_future *f)
{
    shipper *s = (shipper *)f;
    weft_async_drop(f);
    weft_join_handle_detach(&s->in);
    weft_join_handle_detach(&s->out);
}

static const weft_future_vtable shipper_vt = {shipper_poll, shipper_drop, "shipper"};

static int run(void *arg)
{
    (void)arg;
    lab_begin();
    written = in_order = 0;
    disk_time = 0;
    weft_builder b = weft_builder_new_current_thread();
    b.enable_time = true;
    weft_runtime *rt;
    if (weft_runtime_new(&b, &rt) != 0)
        return 2;
    shipper s;
    memset(&s, 0, sizeof s);
    weft_async_init(&s.co, &shipper_vt);
    if (weft_block_on(rt, &s.co.base) != 0)
        weft_future_drop(&s.co.base); /* the run was stopped: cancel what main still holds */
    weft_runtime_shutdown(rt);
    return 0;
}

int main(int argc, char **argv)
{
    return lab_main(argc, argv, run);
}
