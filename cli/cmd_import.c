/* cli/cmd_import.c - `weft import LTTNG_TRACE_DIR -o TRACE.db`: an LTTng trace of weft:* events
 * as a trace database that `weft console` and `weft report` open
 * (instrument/profile/import_lttng.c). Exit status: 0, 1 when the trace cannot be read or the
 * database written, 2 bad usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../instrument/profile/profile.h"
#include "cli.h"

static int import_run(int argc, char **argv)
{
    const char *dir = NULL, *out = NULL;
    bool quiet = false;
    uint64_t pid = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            if (++i == argc)
                return cli_usage_error(&cli_cmd_import, "%s needs a file name", a);
            out = argv[i];
        } else if (strcmp(a, "--pid") == 0) {
            char *end;
            if (++i == argc)
                return cli_usage_error(&cli_cmd_import, "--pid needs a process id");
            errno = 0;
            unsigned long long v = strtoull(argv[i], &end, 10);
            if (errno || *end || end == argv[i] || v == 0)
                return cli_usage_error(&cli_cmd_import, "--pid: not a process id: %s", argv[i]);
            pid = v;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            quiet = true;
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error(&cli_cmd_import, "unknown option %s", a);
        } else if (dir) {
            return cli_usage_error(&cli_cmd_import, "one trace at a time (%s and %s)", dir, a);
        } else {
            dir = a;
        }
    }
    if (!dir)
        return cli_usage_error(&cli_cmd_import, "which LTTng trace directory?");
    if (!out)
        return cli_usage_error(&cli_cmd_import, "where to? (-o TRACE.db)");
    char err[PROF_ERR_LEN];
    prof_import_stats st;
    if (prof_import_lttng(dir, out, pid, &st, err) < 0) {
        fprintf(stderr, "weft import: %s\n", err);
        return CLI_FAILED;
    }
    if (!quiet)
        fprintf(stderr, "weft import: %llu events from %llu threads in %s (%llu other events "
                        "skipped)\n",
                (unsigned long long)st.events, (unsigned long long)st.threads, out,
                (unsigned long long)st.skipped);
    return CLI_OK;
}

const cli_cmd cli_cmd_import = {
    .name = "import",
    .args = "LTTNG_TRACE_DIR -o TRACE.db [--pid PID] [-q]",
    .summary = "an LTTng trace as a weft trace database",
    .help = "Reads an LTTng trace of weft:* events (the directory `lttng create --output`\n"
            "named, or any directory above the CTF trace) with libbabeltrace2 and writes a\n"
            "trace database that `weft console` and `weft report` open, as if `weft record`\n"
            "had made it. Record the thread ids with the events, or threads cannot be told\n"
            "apart:\n"
            "\n"
            "  lttng create s --output=DIR && lttng enable-event -u 'weft:*'\n"
            "  lttng add-context -u -t vtid -t vpid -t procname && lttng start\n"
            "  LD_PRELOAD=libweft-lttng.so ./program; lttng destroy\n"
            "  weft import DIR -o trace.db\n"
            "\n"
            "A trace of several weft processes (a system-wide session) needs --pid to say\n"
            "which one to import; without it the command lists them.\n",
    .run = import_run,
};
