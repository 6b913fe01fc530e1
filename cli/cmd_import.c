/* cli/cmd_import.c - `weft import`: an LTTng trace as a weft trace database.
 *
 * Placeholder until issue #10 builds it: the command exists so that `weft --help` lists
 * it, and it says plainly that this build does not have it yet (exit 2, see cli.h).
 */
#include <stdio.h>

#include "cli.h"

static int import_run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "weft import: not in this build yet (issue #10)\n");
    return CLI_USAGE;
}

const cli_cmd cli_cmd_import = {
    .name = "import",
    .args = "LTTNG_TRACE_DIR -o TRACE.db",
    .summary = "an LTTng trace as a weft trace database",
    .help = "Not in this build yet (issue #10).\n",
    .run = import_run,
};
