/* cli/cmd_export.c - `weft export`: a recorded run in Chrome's trace format, for Perfetto.
 *
 * Placeholder until issue #10 builds it: the command exists so that `weft --help` lists
 * it, and it says plainly that this build does not have it yet (exit 2, see cli.h).
 */
#include <stdio.h>

#include "cli.h"

static int export_run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "weft export: not in this build yet (issue #10)\n");
    return CLI_USAGE;
}

const cli_cmd cli_cmd_export = {
    .name = "export",
    .args = "--chrome TRACE.db",
    .summary = "a recorded run in Chrome's trace format, for Perfetto",
    .help = "Not in this build yet (issue #10).\n",
    .run = export_run,
};
