/* tests/integration/det_program.c - the classic-bug programs of tests/unit/test_det_programs.c
 * as one standalone weft program, for `weft explore` and `weft replay` (explore_cli.sh).
 *
 *     det_program NAME [fixed] [persistent]
 *
 * NAME is race, two_lock, lost_wakeup, bounded_buffer, reentrant_read, select_frame or
 * two_tasks; "fixed" runs the corrected version. Nothing in it knows about exploration: the
 * runtime it builds becomes deterministic under WEFT_SCHED or `weft explore`. With
 * "persistent" it hands its function to weft_sched_main, so that `weft explore` runs many
 * schedules per forked child. It prints one line when it ends, so that tests can see the
 * program's own output too.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <weft/sched.h>

#include "../unit/test_det_programs.h"

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(void *);
    } progs[] = {
        {"race", det_prog_race},
        {"two_lock", det_prog_two_lock},
        {"lost_wakeup", det_prog_lost_wakeup},
        {"bounded_buffer", det_prog_bounded_buffer},
        {"reentrant_read", det_prog_reentrant_read},
        {"select_frame", det_prog_select_frame},
        {"two_tasks", det_prog_two_tasks},
    };
    static int variant = 0;
    bool persistent = false, ok = argc >= 2;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "fixed") == 0)
            variant = 1;
        else if (strcmp(argv[i], "persistent") == 0)
            persistent = true;
        else
            ok = false;
    }
    if (!ok) {
        fprintf(stderr, "usage: det_program NAME [fixed] [persistent]\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof progs / sizeof progs[0]; i++) {
        if (strcmp(progs[i].name, argv[1]) == 0) {
            int rc = persistent ? weft_sched_main(progs[i].run, &variant) : progs[i].run(&variant);
            printf("det_program %s%s: done\n", argv[1], variant ? " (fixed)" : "");
            return rc;
        }
    }
    fprintf(stderr, "det_program: no program '%s'\n", argv[1]);
    return 2;
}
