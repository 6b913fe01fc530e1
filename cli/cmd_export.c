/* cli/cmd_export.c - `weft export --chrome [-o FILE] TRACE.db`: a recorded run in Chrome's
 * trace-event format, which Perfetto (ui.perfetto.dev) and chrome://tracing open: a track per
 * worker and per task, polls as slices, wakes as flow arrows, resources as counters
 * (instrument/profile/export_chrome.c). Exit status: 0, 1 when the trace cannot be read or
 * the output written, 2 bad usage.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../instrument/profile/profile.h"
#include "cli.h"

static int export_run(int argc, char **argv)
{
    const char *path = NULL, *out_path = NULL;
    bool chrome = false, quiet = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--chrome") == 0) {
            chrome = true;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            quiet = true;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            if (++i == argc)
                return cli_usage_error(&cli_cmd_export, "%s needs a file name", a);
            out_path = argv[i];
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error(&cli_cmd_export, "unknown option %s", a);
        } else if (path) {
            return cli_usage_error(&cli_cmd_export, "one trace at a time (%s and %s)", path, a);
        } else {
            path = a;
        }
    }
    if (!chrome)
        return cli_usage_error(&cli_cmd_export, "which format? (--chrome is the one there is)");
    if (!path)
        return cli_usage_error(&cli_cmd_export, "which trace? (a file written by weft record)");

    FILE *out = stdout;
    if (out_path && !(out = fopen(out_path, "w"))) {
        fprintf(stderr, "weft export: cannot write %s: %s\n", out_path, strerror(errno));
        return CLI_FAILED;
    }
    char err[PROF_ERR_LEN];
    prof_export_stats st;
    int rc = prof_export_chrome(path, out, &st, err);
    if (fflush(out) != 0 && rc == 0) {
        snprintf(err, sizeof err, "writing %s failed", out_path ? out_path : "the JSON");
        rc = -1;
    }
    if (out != stdout && fclose(out) != 0 && rc == 0) {
        snprintf(err, sizeof err, "writing %s failed", out_path);
        rc = -1;
    }
    if (rc < 0) {
        fprintf(stderr, "weft export: %s\n", err);
        if (out_path)
            remove(out_path); /* a half-written file would look like a trace */
        return CLI_FAILED;
    }
    if (!quiet)
        fprintf(stderr,
                "weft export: %llu poll slices, %llu wake arrows, %llu counter samples, "
                "%llu parks\n",
                (unsigned long long)st.slices, (unsigned long long)st.flows,
                (unsigned long long)st.counters, (unsigned long long)st.parks);
    return CLI_OK;
}

const cli_cmd cli_cmd_export = {
    .name = "export",
    .args = "--chrome [-o FILE] [-q] TRACE.db",
    .summary = "a recorded run in Chrome's trace format, for Perfetto",
    .help = "Writes the trace as Chrome trace-event JSON (standard output, or -o FILE), which\n"
            "ui.perfetto.dev and chrome://tracing open: a track per worker and one per task,\n"
            "each poll a slice named after its task, each wake an arrow from the waking\n"
            "thread to the poll it caused, parks as slices, and channel lengths, semaphore\n"
            "permits and lock holders as counters. The counts go to standard error (-q: not).\n",
    .run = export_run,
};
