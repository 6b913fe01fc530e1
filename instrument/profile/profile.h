/* instrument/profile/profile.h - the profiler: where the time went in a trace database, and
 * the trace in the formats of the tools users already have.
 *
 *   load.c          a trace database (docs/book/trace-database.md) -> prof_model: per task
 *                   busy / scheduled / idle time and poll percentiles, the slowest polls with
 *                   where they suspended, per resource waits and holders, per worker
 *                   utilisation, a poll-time histogram and a per-worker timeline
 *   report_text.c   the model as plain text (`weft report`)
 *   report_html.c   the model as one self-contained HTML page with SVG charts
 *                   (`weft report --html`): no scripts, no external links
 *   export_chrome.c the trace as Chrome trace-event JSON for Perfetto (`weft export --chrome`)
 *   import_lttng.c  an LTTng trace of weft:* events -> a trace database (`weft import`),
 *                   with libbabeltrace2
 *
 * Errors: functions return 0 or a negative WEFT_E* and put a sentence in `err` (a caller
 * buffer of PROF_ERR_LEN bytes): WEFT_EIO a file could not be opened or written, WEFT_EFORMAT
 * not a weft trace (or not an LTTng trace with weft events), WEFT_ENOMEM.
 *
 * Durations are nanoseconds; timestamps are the traced machine's CLOCK_MONOTONIC.
 */
#ifndef WEFT_PROFILE_H
#define WEFT_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PROF_ERR_LEN 512
#define PROF_HIST_BUCKETS 40   /* log2 buckets of durations: [2^i, 2^(i+1)) ns */
#define PROF_TIMELINE_BINS 600 /* columns of a worker's timeline */

typedef struct prof_task {
    uint64_t id, parent;
    char *name;                /* owned */
    char *spawned_at;          /* "file:line", owned */
    char kind[12];             /* "async" / "blocking" */
    char outcome[16];          /* "ok", "cancelled", "failed", "running" */
    uint64_t spawn_ts, end_ts; /* end_ts 0: had not ended when the recording stopped */
    uint64_t polls;
    uint64_t busy_ns;          /* sum of its polls */
    uint64_t scheduled_ns;     /* woken (or spawned) and waiting for a worker */
    uint64_t idle_ns;          /* waiting to be woken */
    uint64_t p50_ns, p90_ns, p99_ns, max_ns; /* poll durations, nearest rank */
    uint32_t hist[PROF_HIST_BUCKETS];        /* its poll durations */
} prof_task;

typedef struct prof_poll {
    uint64_t task;
    const prof_task *t;        /* borrowed from the model, NULL if the task is unknown */
    int64_t thread, worker;
    uint64_t begin_ts, duration_ns;
    bool ready;
    char *suspended_at;        /* "file:line" of the await it went to sleep on, or NULL */
} prof_poll;

typedef struct prof_holder {
    uint64_t task;
    uint64_t holds, held_ns, max_ns;
} prof_holder;

#define PROF_HOLDERS 3

typedef struct prof_resource {
    uint64_t id;
    char *kind, *name, *created_at; /* owned */
    uint64_t waits, wait_ns, max_wait_ns, p90_wait_ns;
    uint64_t holds;            /* lock holds recorded */
    prof_holder holders[PROF_HOLDERS]; /* the tasks that held it longest in total */
    unsigned nholders;
} prof_resource;

typedef struct prof_worker {
    int64_t thread;            /* the database's thread number */
    char kind[16];             /* "worker" / "block_on" */
    int64_t worker;            /* index */
    uint64_t first_ts, last_ts;
    uint64_t polls, busy_ns, parks, parked_ns;
    float timeline[PROF_TIMELINE_BINS]; /* busy fraction of each bin of [start, end) */
} prof_worker;

typedef struct prof_model {
    char *path, *program;      /* owned */
    int64_t pid;
    bool complete;             /* meta.complete */
    uint64_t events, dropped;
    uint64_t start_ts, end_ts; /* first and last event */
    uint64_t total_polls, total_busy_ns;
    uint32_t hist[PROF_HIST_BUCKETS]; /* every poll's duration */
    prof_task *tasks;          /* by busy time, descending */
    prof_task **by_id;         /* the same tasks by id, for prof_find_task */
    size_t ntasks;
    prof_poll *slowest;        /* the slowest polls, descending */
    size_t nslowest;
    prof_resource *resources;  /* by total wait, descending */
    size_t nresources;
    prof_worker *workers;      /* by thread number */
    size_t nworkers;
} prof_model;

/* Load `path` (a weft trace database). `top`: how many slowest polls to keep. */
int prof_load(const char *path, unsigned top, prof_model **out, char *err);
void prof_free(prof_model *m);
const prof_task *prof_find_task(const prof_model *m, uint64_t id);

/* The histogram bucket of a duration, and the lower bound of a bucket. */
unsigned prof_bucket(uint64_t ns);
uint64_t prof_bucket_low(unsigned b);

/* "1.23 ms": a duration for people, into buf (at least 16 bytes); returns buf. With
 * `raw`, the integer nanoseconds instead (for scripts and tests). */
const char *prof_dur(char *buf, size_t len, uint64_t ns, bool raw);

/* Text and HTML reports. `top`: rows of the task and resource tables (0: all). */
typedef struct prof_text_opts {
    unsigned top;
    bool raw_ns;               /* durations as integer nanoseconds */
} prof_text_opts;

int prof_report_text(const prof_model *m, const prof_text_opts *o, FILE *out);
int prof_report_html(const prof_model *m, unsigned top, FILE *out);

/* One chart of the HTML report as a standalone SVG document (for a book, a slide, a bug). */
typedef enum prof_chart {
    PROF_CHART_TIMELINE,       /* timeline.svg: busy share per worker over time */
    PROF_CHART_POLL_HISTOGRAM, /* poll-histogram.svg: every poll's duration, log2 buckets */
    PROF_CHART_CONTENTION,     /* contention.svg: total wait per resource */
} prof_chart;

int prof_chart_svg(const prof_model *m, prof_chart which, FILE *out);

/* Chrome trace-event JSON of the trace database at `path`. */
typedef struct prof_export_stats {
    uint64_t slices;           /* poll slices on worker tracks (each is also on its task's) */
    uint64_t flows;            /* wake -> poll arrows */
    uint64_t counters;         /* counter samples of resources */
    uint64_t parks;            /* park slices */
} prof_export_stats;

int prof_export_chrome(const char *path, FILE *out, prof_export_stats *st, char *err);

/* An LTTng trace directory (searched for the CTF trace inside) -> a new trace database. A
 * trace of several weft processes needs `pid` to say which (0: the only one; WEFT_EINVAL
 * with the list of pids in err otherwise). */
typedef struct prof_import_stats {
    uint64_t events;           /* weft events written */
    uint64_t skipped;          /* events of other providers, or weft events this build's
                                  table does not know */
    uint64_t threads;          /* threads seen (by vtid, or by stream without it) */
} prof_import_stats;

int prof_import_lttng(const char *dir, const char *db_path, uint64_t pid, prof_import_stats *st,
                      char *err);

#endif
