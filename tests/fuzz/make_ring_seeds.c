/* tests/fuzz/make_ring_seeds.c - writes the seed corpus of fuzz_ring from real segments.
 *
 *     make_ring_seeds DIR
 *
 * Starts the ring sink on a small segment, emits a few events of every kind from two
 * threads, a string and a location, then writes into DIR: the segment image (an odd first
 * byte, see fuzz_ring.c) and the records of one ring as a stream (an even first byte). Run it
 * again only when the format changes (and bump WEFT_SEG_VERSION).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../instrument/trace_int.h"

static void emit_all(void)
{
    weft_location here = WEFT_HERE;
    weft_evarg_task_spawn s = {42, 1, 1, "seed_task", here, 0};
    weft__ev_task_spawn(&s);
    weft_evarg_task_poll_begin b = {42, 0};
    weft__ev_task_poll_begin(&b);
    weft_evarg_task_wake w = {42, 42, 0};
    weft__ev_task_wake(&w);
    weft_evarg_task_poll_end e = {42, 0, 1};
    weft__ev_task_poll_end(&e);
    weft_evarg_task_wait tw = {42, 7, here, 0};
    weft__ev_task_wait(&tw);
    weft_evarg_task_complete c = {42, 0, 0};
    weft__ev_task_complete(&c);
    weft_evarg_schedule_decision d = {1, 42, 3};
    weft__ev_schedule_decision(&d);
}

static void *thread_main(void *arg)
{
    (void)arg;
    emit_all();
    return NULL;
}

static int write_file(const char *dir, const char *name, uint8_t tag, const void *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    fputc(tag, f);
    fwrite(p, 1, n, f);
    return fclose(f);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    weft__trace_config cfg = {2, 1024, -1, "/weft-seed-gen", false};
    if (weft__trace_start(&cfg) != 0)
        return 1;
    emit_all();
    pthread_t th;
    pthread_create(&th, NULL, thread_main, NULL);
    pthread_join(th, NULL);
    weft__seg_header *h = weft__trace_segment();
    atomic_store(&h->snapshot_req, 1);
    weft__trace_snapshot_poll();
    int rc = write_file(argv[1], "segment-2-rings", 1, h, h->segment_size);
    weft__ring_ctl *ring0 = (weft__ring_ctl *)((uint8_t *)h + h->ring_table_off);
    uint64_t head = atomic_load(&ring0->head);
    if (head > h->ring_size)
        head = h->ring_size;
    rc |= write_file(argv[1], "records-ring0", 0, (uint8_t *)h + ring0->data_off, head);
    weft__trace_stop();
    return rc ? 1 : 0;
}
