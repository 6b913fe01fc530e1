/* replay/explore_program.c - exploring a whole program through the fork server, and reading a
 * schedule's header: what the `weft explore` and `weft replay` commands call.
 *
 * The runner here adapts forkserver.c's client to the explorer (explore_int.h): each run is a
 * request to the program serving under WEFT_FORKSERVER, and the captured output of the last
 * run is shown with a failure.
 */
#include <string.h>
#include <unistd.h>

#include "explore_int.h"

/* Copy as much of src as fits. */
static void copy_str(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static int fs_runner_run(void *self, const weft__det_config *cfg, bool want_record,
                         weft__det_record *rec)
{
    return weft__fs_run(self, cfg, want_record, rec);
}

static char *fs_runner_output(void *self, size_t *len)
{
    return weft__fs_output(self, len);
}

int weft_explore_program(const weft_explore_opts *opts, char *const *argv,
                         weft_explore_result *res)
{
    if (!opts || !argv || !argv[0] || !res)
        return WEFT_EINVAL;
    memset(res, 0, sizeof *res);
    weft__explore_opts o = {0};
    char err[2560];
    int rc = weft__explore_parse_strategy(opts->strategy ? opts->strategy : "random", &o, err,
                                          sizeof err);
    if (rc) {
        copy_str(res->summary, sizeof res->summary, err);
        return rc;
    }
    weft__fs_client client;
    if (weft__fs_start(&client, argv, err, sizeof err) != 0) {
        copy_str(res->summary, sizeof res->summary, err);
        return WEFT_EIO;
    }
    if (opts->run_timeout_s > 0)
        client.timeout_s = opts->run_timeout_s;
    o.program = opts->program ? opts->program : client.program;
    o.seed = opts->seed;
    o.iterations = opts->iterations;
    o.time_limit_s = opts->time_limit_s;
    o.out_dir = opts->out_dir;
    o.no_shrink = opts->no_shrink;
    o.check_determinism = opts->check_determinism;
    o.allow_alive = opts->allow_alive;
    o.limits.max_steps = opts->max_steps;
    o.limits.max_vtime = opts->max_vtime;
    o.limits.starvation = opts->starvation;
    o.progress = opts->progress;
    o.progress_tty = opts->progress && isatty(fileno(opts->progress));
    o.replay_cmd = opts->replay_command;
    weft__det_runner runner = {.run = fs_runner_run, .output = fs_runner_output, .self = &client};
    rc = weft__explore(&o, &runner, res);
    weft__fs_stop(&client);
    return rc;
}

int weft_schedule_read_info(const char *path, const char *program, weft_schedule_info *out,
                            char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    weft__det_record r;
    if (weft__det_record_init(&r)) {
        snprintf(err, err_size, "out of memory");
        return WEFT_ENOMEM;
    }
    int rc = weft__det_parse_path(&r, path, program, err, err_size);
    if (rc == 0) {
        snprintf(out->program, sizeof out->program, "%s", weft__det_str(&r, r.program));
        snprintf(out->strategy, sizeof out->strategy, "%s", weft__det_str(&r, r.strategy));
        out->seed = r.seed;
        out->steps = r.nsteps;
        out->preemptions = r.preemptions;
        out->vtime = r.vtime;
        snprintf(out->outcome, sizeof out->outcome, "%s", weft__det_outcome_name(r.outcome));
        snprintf(out->message, sizeof out->message, "%s", weft__det_str(&r, r.message));
    }
    weft__det_record_free(&r);
    return rc;
}
