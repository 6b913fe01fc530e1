/* tests/integration/det_program.c - the classic-bug programs of tests/unit/test_det_programs.c
 * as one standalone weft program, for `weft explore` and `weft replay` (explore_cli.sh).
 *
 *     det_program NAME [fixed]
 *
 * NAME is race, two_lock, lost_wakeup, bounded_buffer, reentrant_read, select_frame or
 * two_tasks; "fixed" runs the corrected version. Nothing in it knows about exploration: the
 * runtime it builds becomes deterministic under WEFT_SCHED or `weft explore`. It prints one
 * line when it ends, so that tests can see the program's own output too.
 */
#include <stdio.h>
#include <string.h>

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
    if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "fixed") != 0)) {
        fprintf(stderr, "usage: det_program NAME [fixed]\n");
        return 2;
    }
    int variant = argc == 3;
    for (size_t i = 0; i < sizeof progs / sizeof progs[0]; i++) {
        if (strcmp(progs[i].name, argv[1]) == 0) {
            int rc = progs[i].run(&variant);
            printf("det_program %s%s: done\n", argv[1], variant ? " (fixed)" : "");
            return rc;
        }
    }
    fprintf(stderr, "det_program: no program '%s'\n", argv[1]);
    return 2;
}
