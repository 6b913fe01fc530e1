/* cli/cmd_console.c - `weft console`: watch a weft program's tasks and resources, live or recorded.
 *
 * Placeholder until issue #5 builds it: the command exists so that `weft --help` lists
 * it, and it says plainly that this build does not have it yet (exit 2, see cli.h).
 */
#include <stdio.h>

#include "cli.h"

static int console_run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "weft console: not in this build yet (issue #5)\n");
    return CLI_USAGE;
}

const cli_cmd cli_cmd_console = {
    .name = "console",
    .args = "[-- PROGRAM ARGS | PID | TRACE.db]",
    .summary = "watch a weft program's tasks and resources, live or recorded",
    .help = "Not in this build yet (issue #5).\n",
    .run = console_run,
};
