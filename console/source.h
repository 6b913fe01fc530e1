/* console/source.h - where the console's events come from: a live program or a recording.
 *
 *   live    the shared-memory rings of a running weft program (reader.h), attached by pid or
 *           by launching the program ourselves with tracing on; events are applied to the
 *           model as they arrive (source_pump). When the program ends the source says so and
 *           the model keeps the last state.
 *   trace   a trace database (`weft record`, `weft explore`): every event is loaded into
 *           memory once, and the model is the state after the first `cursor` events
 *           (source_seek). Stepping back rebuilds the model from the start, which costs a
 *           pass over the events before the cursor (about 20 ns each).
 *
 * Errors: functions return 0 or a negative WEFT_E*, with a one-line message in s->error.
 */
#ifndef WEFT_CONSOLE_SOURCE_H
#define WEFT_CONSOLE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../instrument/reader.h"
#include "model.h"

#define SOURCE_MAX_EVENTS 20000000u /* a recording's events kept in memory (~2 GB at most) */

typedef enum source_kind { SOURCE_NONE, SOURCE_LIVE, SOURCE_TRACE } source_kind;

typedef struct source {
    source_kind kind;
    weft_reader *r;
    char label[400];       /* "pid 1234 ./prog" or the trace's path */
    char error[600];
    /* live */
    int pid;
    pid_t child;           /* > 0 when we launched it */
    bool ended;            /* the program exited and its rings are drained */
    char end_reason[160];  /* "exited with status 0", "killed by signal 11 (Segmentation fault)" */
    char log_path[128];    /* where a launched program's output goes */
    /* trace */
    weft_event *evs;
    size_t nev;
    size_t cursor;         /* events applied to the model */
    bool truncated;        /* the recording had more than SOURCE_MAX_EVENTS */
} source;

int source_open_trace(source *s, const char *path);
/* takeover: attach even if another reader (a console, weft record) holds the rings. */
int source_attach(source *s, int pid, bool takeover);
/* Start argv[0] with tracing on (its output to a log file) and attach to it. */
int source_launch(source *s, char *const *argv);
void source_close(source *s);

/* Live: apply the events available now to m, for at most budget_ms. Returns how many. */
size_t source_pump(source *s, model *m, int budget_ms);

/* Trace: make m the state after the first `cursor` events (clamped to the recording). */
void source_seek(source *s, model *m, size_t cursor);

/* Trace: index of the next / previous event of `type` from the cursor; (size_t)-1 if none. */
size_t source_find(const source *s, size_t from, int dir, int type);

/* The first cursor at which m has a deadlock (cycle), scanning from the start; (size_t)-1
 * if none. Leaves m at the end of the scan's position: callers seek afterwards. */
size_t source_first_deadlock(source *s, model *m);

/* Where a run of the deterministic scheduler stopped: the cursor just before the first task
 * cancelled after its last schedule decision (the teardown that follows a failure), else the
 * end. (size_t)-1 if the recording has no schedule decision. */
size_t source_failure_point(const source *s);

#endif
