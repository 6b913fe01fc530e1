/* cli/cmd_lab.c - `weft lab list | show NN | run NN | check NN | hint NN`.
 *
 * The chapter labs live in the source tree (labs/NN-name/: README.md, starter.c,
 * solution/solution.c, grade.spec; the format is labs/FORMAT.md) and are built by meson into
 * the build tree (BUILD/labs/labNN-starter, labNN-solution). This command finds both from its
 * own executable (BUILD/cli/weft, reached through the BUILD/weft symlink): the build tree is
 * the directory above it and the source tree is what BUILD/meson-info/meson-info.json names.
 *
 * `check` is the grader: it rebuilds the starter with ninja (the learner's edits are
 * theirs: it grades the folder as it is), then runs each test of grade.spec through
 * weft_explore_program, the same exploration as `weft explore`: one forked child per batch of
 * schedules, the failing schedule shrunk and saved, and the command that replays it. Per lab,
 * BUILD/labs/results/NN/ keeps the build log, each test's schedules and run log, the last
 * score (for `list`) and how many hints were shown (for `hint`).
 *
 * Exit status: 0 full score (or, for other verbs, success), 1 points were lost (a starter
 * that does not build scores 0), 2 bad usage, a lab that is not there or a spec that does not
 * parse (with --expect, 0 when the verdict is the expected one and 1 otherwise).
 *
 * The command is in pieces, one concept each (lab_int.h declares what they share):
 *   cmd_lab.c      this file: the verbs and options, dispatched to the pieces below
 *   lab_files.c    where the build tree, the source tree and a lab's folders are; small files
 *   lab_spec.c     the parser of grade.spec
 *   lab_build.c    building a lab's programs with ninja, running a command into a log
 *   lab_grade.c    the grader (check): each test explored across schedules, the score, JSON
 *   lab_handout.c  the handouts: list, show, hint
 *   lab_run.c      run: the story, one fifo run, the first finding shown in the console
 */
#include <stdbool.h>
#include <string.h>

#include "cli.h"
#include "lab_int.h"

static int lab_main_cmd(int argc, char **argv)
{
    const cli_cmd *me = &cli_cmd_lab;
    if (argc < 2)
        return cli_usage_error(me, "which verb? list, show, run, check or hint");
    const char *verb = argv[1];
    bool is_list = strcmp(verb, "list") == 0;
    if (!is_list && strcmp(verb, "show") != 0 && strcmp(verb, "run") != 0 &&
        strcmp(verb, "check") != 0 && strcmp(verb, "hint") != 0)
        return cli_usage_error(me, "unknown verb '%s'", verb);

    check_opts co = {0};
    bool reset = false;
    const char *num = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        bool checking = strcmp(verb, "check") == 0;
        if (checking && strcmp(a, "--json") == 0) {
            co.json = true;
        } else if (checking && strcmp(a, "--no-build") == 0) {
            co.no_build = true;
        } else if (checking && strcmp(a, "--solution") == 0) {
            co.solution = true;
        } else if (checking && strcmp(a, "--program") == 0 && i + 1 < argc) {
            co.program = argv[++i];
        } else if (checking && strcmp(a, "--spec") == 0 && i + 1 < argc) {
            co.spec = argv[++i];
        } else if (checking && strcmp(a, "--expect") == 0 && i + 1 < argc) {
            const char *v = argv[++i];
            if (strcmp(v, "pass") == 0)
                co.expect = 1;
            else if (strcmp(v, "fail") == 0)
                co.expect = -1;
            else
                return cli_usage_error(me, "--expect wants pass or fail, not '%s'", v);
        } else if (strcmp(verb, "hint") == 0 && strcmp(a, "--reset") == 0) {
            reset = true;
        } else if (a[0] == '-') {
            return cli_usage_error(me, "'%s' has no option '%s'", verb, a);
        } else if (!num && !is_list) {
            if (!lab_is_number(a))
                return cli_usage_error(me, "'%s' is not a lab number (two digits, such as 01)",
                                       a);
            num = a;
        } else {
            return cli_usage_error(me, "unexpected argument '%s'", a);
        }
    }
    if (!is_list && !num)
        return cli_usage_error(me, "'%s' wants one lab number, such as 01", verb);

    lab_paths lp;
    int rc = lab_find_paths(&lp);
    if (rc != CLI_OK)
        return rc;
    if (is_list)
        return lab_verb_list(&lp);
    lab_ref lab;
    if ((rc = lab_find(&lp, num, &lab)) != CLI_OK)
        return rc;
    if (strcmp(verb, "show") == 0)
        return lab_verb_show(&lp, &lab);
    if (strcmp(verb, "hint") == 0)
        return lab_verb_hint(&lp, &lab, reset);
    if (strcmp(verb, "run") == 0)
        return lab_verb_run(&lp, &lab);
    return lab_grade(&lp, &lab, &co);
}

const cli_cmd cli_cmd_lab = {
    .name = "lab",
    .args = "list | show NN | run NN | check NN [--json] [--solution] | hint NN [--reset]",
    .summary = "the chapter labs: run one, read its handout, grade your fix, get a hint",
    .help =
        "Work through a chapter lab (labs/NN-name/ in the source tree). Each lab is a small\n"
        "program with a planted bug, a handout, and a grader that runs it under the\n"
        "deterministic scheduler across many schedules.\n"
        "\n"
        "  list            the labs, with your last score\n"
        "  show NN         the handout (without its hints)\n"
        "  run NN          build the starter, run it once, and show the grader's first finding\n"
        "  check NN        rebuild the starter (your edits) and grade it: each test's points,\n"
        "                  Score X/Y, and for a failure what went wrong and the command that\n"
        "                  replays the failing schedule\n"
        "     --json         the report as JSON\n"
        "     --solution     grade the reference solution instead\n"
        "     --no-build     grade what is built (do not run ninja)\n"
        "     --program P    grade program P (tests)\n"
        "     --spec FILE    grade with this spec instead of the lab's grade.spec (tests)\n"
        "     --expect pass|fail  exit 0 when the verdict is this one (tests)\n"
        "  hint NN         the next hint (and the ones already shown); --reset hides them\n"
        "\n"
        "Exit status: 0 success or full score, 1 points lost (a starter that does not build\n"
        "scores 0), 2 bad usage, a missing lab or a bad grade.spec.\n",
    .run = lab_main_cmd,
};
