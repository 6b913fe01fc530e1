/* tests/unit/simnet_programs.h - programs over the simulated network, for weft_explore
 * (test_simnet_explore.c) and for `weft explore` (tests/simnet/simnet_program.c).
 *
 * Each is a body for weft_explore: it builds a runtime (deterministic when a run is armed),
 * runs its main future, shuts down and cleans up, and returns 0 (1 for a setup error).
 */
#ifndef WEFT_TEST_SIMNET_PROGRAMS_H
#define WEFT_TEST_SIMNET_PROGRAMS_H

#include <stdbool.h>
#include <stdint.h>

/* Two length-prefixed frames (8 and 3 payload bytes: 19 bytes on the wire) sent with one
 * write_all and decoded by weft's framed reader (weft/codec.h) through a stream that records
 * where each read ended. weft_assert checks both frames and the clean end. */
#define SIMNET_FRAMES_LEN 19
#define SIMNET_FRAMES_MAX_READS 64

typedef struct simnet_frames_result {
    bool cut_at[SIMNET_FRAMES_LEN]; /* a read ended at this offset (accumulates over runs) */
    uint16_t reads[SIMNET_FRAMES_MAX_READS]; /* bytes per read, this run */
    unsigned nreads;
    bool decoded;                   /* this run decoded both frames and the end */
} simnet_frames_result;

extern simnet_frames_result simnet_frames_res;

int simnet_prog_frames(void *arg);

/* A reader selects between "the next length-prefixed frame" and "a control message". `arg`
 * points to an int: 0, the bug (the frame is read with two read_exacts inside the select
 * branch, so a control message that wins mid-frame drops the header: weft_assert(frame_intact)
 * fails on the next frame); 1, the fix (weft_frame_next over a framed reader kept by the
 * reader: cancel-safe). */
int simnet_prog_select_frame(void *arg);

#endif
