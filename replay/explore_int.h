/* replay/explore_int.h - the explorer, the shrinker and how they run a schedule.
 *
 * The explorer (explore.c) does not care where a run happens: it hands a configuration to a
 * *runner* and gets the run's record back. Two runners exist:
 *
 *   in-process   arm the run on this thread and call a function that builds a runtime
 *                (weft_explore, weft_replay_file: tests, benchmarks, lab graders);
 *   fork server  send the configuration to a program started under WEFT_FORKSERVER and read
 *                the record its child publishes (forkserver.c; `weft explore -- PROGRAM`).
 *
 * The shrinker (shrink.c) uses the same runner to try smaller schedules.
 */
#ifndef WEFT_EXPLORE_INT_H
#define WEFT_EXPLORE_INT_H

#include <sys/types.h>

#include "det_int.h"

typedef struct weft__det_runner {
    /* Run once under cfg; fill rec (reset first). want_record: the caller needs every step
     * (DFS, shrinking, replays), not only the outcome. 0, or a negative WEFT_E* when the run
     * could not be attempted at all. */
    int (*run)(void *self, const weft__det_config *cfg, bool want_record, weft__det_record *rec);
    /* The output (stdout + stderr) of the last run, malloc'd, or NULL if not captured. */
    char *(*output)(void *self, size_t *len);
    void *self;
} weft__det_runner;

/* ---------------------------------------------------------------- fork server client */
typedef struct weft__fs_client {
    pid_t server;           /* the program, serving; 0 when gone */
    int ctl_w, st_r;        /* requests out, statuses in */
    int shm_fd, out_fd;     /* shared memory, captured output */
    void *shm;
    char program[256];      /* the program's name, as it reported it */
    double timeout_s;       /* wall-clock limit per run */
} weft__fs_client;

/* Start argv[0] with WEFT_FORKSERVER and wait until it serves. 0, or WEFT_EIO with err. */
int weft__fs_start(weft__fs_client *c, char *const *argv, char *err, size_t err_size);
int weft__fs_run(weft__fs_client *c, const weft__det_config *cfg, bool want_record,
                 weft__det_record *rec);
char *weft__fs_output(weft__fs_client *c, size_t *len);
void weft__fs_stop(weft__fs_client *c);

/* ---------------------------------------------------------------- exploring */
typedef struct weft__explore_opts {
    const char *program;        /* identity for the schedules */
    weft__det_strategy strategy;
    unsigned pct_depth;
    unsigned dfs_bound;
    const char *strategy_text;  /* "random", "pct:3", "dfs:2", "fifo" */
    uint64_t seed;
    uint64_t iterations;        /* 0: no count limit (then time_limit_s must be set) */
    double time_limit_s;
    const char *out_dir;        /* NULL: write nothing */
    bool no_shrink;
    bool check_determinism;
    bool allow_alive;
    weft__det_limits limits;
    FILE *progress;             /* progress line, story; NULL = quiet */
    bool progress_tty;          /* redraw the progress line in place */
    const char *replay_cmd;     /* "weft replay %s -- prog args" with %s for the file, or NULL */
    uint64_t shrink_budget;     /* runs the shrinker may use; 0 = 3000 */
} weft__explore_opts;

/* Explore; fills res. 0, or a negative WEFT_E* when exploring could not start. */
int weft__explore(const weft__explore_opts *o, weft__det_runner *runner, weft_explore_result *res);

/* Parse "fifo", "random", "pct[:DEPTH]", "dfs[:BOUND]" for the explorer. */
int weft__explore_parse_strategy(const char *s, weft__explore_opts *o, char *err, size_t size);

/* Shrink `failing` (a failing record) through the runner: fewest preemptions first, then
 * fewest steps. The result goes to `out` (initialised), a record of a real run that fails the
 * same way. Returns the number of runs it used. */
uint64_t weft__shrink(weft__det_runner *runner, const weft__det_config *base,
                      const weft__det_record *failing, weft__det_record *out, uint64_t budget,
                      double time_limit_s);

/* Bounded DFS over the tree of decisions (explore.c). A run is a path: at each decision the
 * index into the runnable set; index 0 is free, any other is a preemption, and a path holds at
 * most `bound` of them. The first run follows no prefix (all index 0). */
typedef struct weft__dfs_frame {
    uint32_t n;      /* runnable tasks at this decision */
    uint32_t chosen; /* index taken on the current path */
    uint32_t pre;    /* preemptions on the path before this decision */
} weft__dfs_frame;

typedef struct weft__dfs {
    weft__dfs_frame *f;
    size_t depth, cap;  /* the current path */
    uint32_t *prefix;   /* its choices, for the next run's configuration */
    size_t prefix_cap;
    unsigned bound;
} weft__dfs;

/* Record run r (which followed prefix[0..depth)) and move to the next path: its choices are
 * then prefix[0..depth). False when every path within the bound has been run. */
bool weft__dfs_next(weft__dfs *t, const weft__det_record *r);
void weft__dfs_free(weft__dfs *t);

/* Print the story of a record: its steps in words, preemptions marked, then the outcome. */
void weft__story(FILE *out, const weft__det_record *r, unsigned max_steps);

/* Same failure, for the shrinker and the determinism check. */
bool weft__same_failure(const weft__det_record *a, const weft__det_record *b);

#endif
