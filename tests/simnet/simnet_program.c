/* tests/simnet/simnet_program.c - the simulated-network programs of
 * tests/unit/simnet_programs.c as one standalone weft program, for `weft explore` and
 * `weft replay` (explore_simnet.sh).
 *
 *     simnet_program NAME [fixed]
 *
 * NAME is frames or select_frame; "fixed" runs select_frame's cancel-safe reader. Nothing in
 * it knows about exploration or the simulation: under `weft explore` (or WEFT_SCHED) the
 * runtime it builds is deterministic, and its sockets are then the simulated network's. It
 * serves `weft explore` in persistent mode (weft_sched_main).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <weft/sched.h>

#include "../unit/simnet_programs.h"

int main(int argc, char **argv)
{
    static int variant = 0;
    bool ok = argc == 2 || (argc == 3 && strcmp(argv[2], "fixed") == 0);
    if (ok && argc == 3)
        variant = 1;
    int (*run)(void *) = NULL;
    if (ok && strcmp(argv[1], "frames") == 0)
        run = simnet_prog_frames;
    else if (ok && strcmp(argv[1], "select_frame") == 0)
        run = simnet_prog_select_frame;
    if (!run) {
        fprintf(stderr, "usage: simnet_program frames|select_frame [fixed]\n");
        return 2;
    }
    int rc = weft_sched_main(run, &variant);
    printf("simnet_program %s%s: done\n", argv[1], variant ? " (fixed)" : "");
    return rc;
}
