/* cli/cmd_report.c - `weft report [--html] [-o FILE] [--top N] [--ns] TRACE.db`: where the
 * time went in a recorded run.
 *
 * Loads the trace database into the profiler's model (instrument/profile/load.c) and prints
 * it as text tables or as one self-contained HTML page with SVG charts
 * (instrument/profile/report_*.c). Exit status: 0, 1 when the trace cannot be read or the
 * output written, 2 bad usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../instrument/profile/profile.h"
#include "cli.h"

#define DEFAULT_TOP 20

/* --svg DIR: each chart of the HTML report as its own file. 0, or -1 with a message. */
static int write_charts(const prof_model *m, const char *dir)
{
    static const struct {
        prof_chart which;
        const char *file;
    } charts[] = {
        {PROF_CHART_TIMELINE, "timeline.svg"},
        {PROF_CHART_POLL_HISTOGRAM, "poll-histogram.svg"},
        {PROF_CHART_CONTENTION, "contention.svg"},
    };
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "weft report: cannot create %s: %s\n", dir, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < sizeof charts / sizeof charts[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, charts[i].file);
        FILE *f = fopen(path, "w");
        if (!f) {
            fprintf(stderr, "weft report: cannot write %s: %s\n", path, strerror(errno));
            return -1;
        }
        int rc = prof_chart_svg(m, charts[i].which, f);
        if (fclose(f) != 0 || rc < 0) {
            fprintf(stderr, "weft report: writing %s failed\n", path);
            return -1;
        }
    }
    return 0;
}

static int report_run(int argc, char **argv)
{
    const char *path = NULL, *out_path = NULL, *svg_dir = NULL;
    bool html = false, raw = false;
    unsigned top = DEFAULT_TOP;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--html") == 0) {
            html = true;
        } else if (strcmp(a, "--ns") == 0) {
            raw = true;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            if (++i == argc)
                return cli_usage_error(&cli_cmd_report, "%s needs a file name", a);
            out_path = argv[i];
        } else if (strcmp(a, "--svg") == 0) {
            if (++i == argc)
                return cli_usage_error(&cli_cmd_report, "--svg needs a directory");
            svg_dir = argv[i];
        } else if (strcmp(a, "--top") == 0) {
            char *end;
            if (++i == argc)
                return cli_usage_error(&cli_cmd_report, "--top needs a number");
            errno = 0;
            unsigned long n = strtoul(argv[i], &end, 10);
            if (errno || *end || end == argv[i] || n > 1000000)
                return cli_usage_error(&cli_cmd_report, "--top: not a number: %s", argv[i]);
            top = (unsigned)n;
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error(&cli_cmd_report, "unknown option %s", a);
        } else if (path) {
            return cli_usage_error(&cli_cmd_report, "one trace at a time (%s and %s)", path, a);
        } else {
            path = a;
        }
    }
    if (!path)
        return cli_usage_error(&cli_cmd_report, "which trace? (a file written by weft record)");

    char err[PROF_ERR_LEN];
    prof_model *m;
    if (prof_load(path, top ? top : 10, &m, err) < 0) {
        fprintf(stderr, "weft report: %s\n", err);
        return CLI_FAILED;
    }
    if (svg_dir) {
        int rc = write_charts(m, svg_dir);
        prof_free(m);
        return rc < 0 ? CLI_FAILED : CLI_OK;
    }
    FILE *out = stdout;
    if (out_path && !(out = fopen(out_path, "w"))) {
        fprintf(stderr, "weft report: cannot write %s: %s\n", out_path, strerror(errno));
        prof_free(m);
        return CLI_FAILED;
    }
    int rc;
    if (html) {
        rc = prof_report_html(m, top, out);
    } else {
        prof_text_opts o = {top, raw};
        rc = prof_report_text(m, &o, out);
    }
    if (fflush(out) != 0)
        rc = -1;
    if (out != stdout && fclose(out) != 0)
        rc = -1;
    prof_free(m);
    if (rc < 0) {
        fprintf(stderr, "weft report: writing %s failed\n", out_path ? out_path : "the report");
        return CLI_FAILED;
    }
    return CLI_OK;
}

const cli_cmd cli_cmd_report = {
    .name = "report",
    .args = "[--html | --svg DIR] [-o FILE] [--top N] [--ns] TRACE.db",
    .summary = "where the time went in a recorded run",
    .help = "Reads a trace database written by `weft record` (or `weft import`) and prints, per\n"
            "task, its busy, scheduled and idle time and its poll-time percentiles; the\n"
            "slowest polls with the await where each ended; per resource the waits and the\n"
            "tasks that held it longest; per worker its utilisation; and a histogram of poll\n"
            "durations.\n"
            "\n"
            "  --html     one self-contained HTML page with SVG charts (timeline per worker,\n"
            "             poll-time histograms, contention) instead of text\n"
            "  --svg DIR  the HTML report's charts as standalone SVG files in DIR\n"
            "             (timeline.svg, poll-histogram.svg, contention.svg), for a\n"
            "             document or a bug report\n"
            "  -o FILE    write there instead of standard output\n"
            "  --top N    rows in the task, slowest-poll and resource tables (default 20;\n"
            "             0: every task and resource, 10 slowest polls)\n"
            "  --ns       durations as integer nanoseconds (for scripts)\n",
    .run = report_run,
};
