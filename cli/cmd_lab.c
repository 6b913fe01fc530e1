/* cli/cmd_lab.c - `weft lab list | show NN | run NN | check NN | hint NN`.
 *
 * The chapter labs (labs/NN-name/: handout, starter, solution, grader spec) arrive with the
 * labs issue (#8). Until then this command knows the verbs and their arguments, so that the
 * README's quick start and scripts written against the final interface get a precise answer,
 * but it does not pretend: every verb says the labs are not there yet and exits 2, except
 * `run 01`, which says so too and then runs `weft demo`, the program lab 01 will build on.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define LABS_ISSUE "#8"

/* A lab number is exactly two digits, as in the folder names labs/NN-name/. */
static bool is_lab_number(const char *s)
{
    return isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) && s[2] == '\0';
}

static int not_yet(const char *verb)
{
    fprintf(stderr,
            "weft lab %s: not available yet: the chapter labs arrive with the labs issue (%s).\n",
            verb, LABS_ISSUE);
    return CLI_USAGE;
}

static int lab_run(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(&cli_cmd_lab, "which verb? list, show, run, check or hint");
    const char *verb = argv[1];

    if (strcmp(verb, "list") == 0) {
        if (argc != 2)
            return cli_usage_error(&cli_cmd_lab, "'list' takes no arguments");
        return not_yet(verb);
    }
    if (strcmp(verb, "show") != 0 && strcmp(verb, "run") != 0 && strcmp(verb, "check") != 0 &&
        strcmp(verb, "hint") != 0)
        return cli_usage_error(&cli_cmd_lab, "unknown verb '%s'", verb);
    if (argc != 3)
        return cli_usage_error(&cli_cmd_lab, "'%s' wants one lab number, such as 01", verb);
    if (!is_lab_number(argv[2]))
        return cli_usage_error(&cli_cmd_lab, "'%s' is not a lab number (two digits, such as 01)",
                               argv[2]);

    if (strcmp(verb, "run") == 0 && strcmp(argv[2], "01") == 0) {
        printf("weft lab run 01: the labs arrive with the labs issue (%s); "
               "running 'weft demo' instead.\n\n",
               LABS_ISSUE);
        fflush(stdout); /* keep this line ahead of the demo's output when stdout is a pipe */
        return cli_demo(2);
    }
    return not_yet(verb);
}

const cli_cmd cli_cmd_lab = {
    .name = "lab",
    .args = "list | show NN | run NN | check NN | hint NN",
    .summary = "the chapter labs (they arrive with the labs issue; 'lab run 01' runs the demo)",
    .help = "Work through a chapter lab: list them, show a handout, run the program, check it\n"
            "with its grader across many schedules, or get a hint.\n"
            "\n"
            "The labs are not part of this build yet: they arrive with the labs issue (" LABS_ISSUE
            ").\n"
            "Until then every verb says so and exits 2, except 'weft lab run 01', which runs\n"
            "'weft demo' (the program the first lab builds on).\n",
    .run = lab_run,
};
