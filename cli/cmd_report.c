/* cli/cmd_report.c - `weft report`: where the time went in a recorded run.
 *
 * Placeholder until issue #10 builds it: the command exists so that `weft --help` lists
 * it, and it says plainly that this build does not have it yet (exit 2, see cli.h).
 */
#include <stdio.h>

#include "cli.h"

static int report_run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "weft report: not in this build yet (issue #10)\n");
    return CLI_USAGE;
}

const cli_cmd cli_cmd_report = {
    .name = "report",
    .args = "TRACE.db",
    .summary = "where the time went in a recorded run",
    .help = "Not in this build yet (issue #10).\n",
    .run = report_run,
};
