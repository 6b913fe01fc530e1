/* cli/lab_build.c - running the tools `weft lab` needs: ninja for a lab's programs, and any
 * command with its output sent to a log.
 *
 * The grader rebuilds the starter before it grades it (the learner's edits are what is graded),
 * and `run` records the failing schedule with `weft record`: both run a child process whose
 * output belongs in a log under BUILD/labs/results/NN, shown only when it matters.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lab_int.h"

/* Run argv with stdout and stderr into `log`; the exit status, or -1. */
int lab_run_logged(char *const *argv, const char *log, const char *env_name,
                   const char *env_value)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (log) {
            int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
                close(fd);
            }
        } else {
            dup2(1, 2); /* one stream, in order: the scheduler's verdict after the story */
        }
        if (env_name)
            setenv(env_name, env_value, 1);
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int ws;
    while (waitpid(pid, &ws, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

/* Rebuild labNN-<which>; on failure print the log (the compiler's words are what the learner
 * needs) and return false. ninja, not `meson compile TARGET`: meson resolves target names
 * from its introspection files before anything regenerates them, so a lab added to
 * labs/meson.build since the last build would be "not found"; ninja regenerates first. */
bool lab_build_program(const lab_paths *lp, const lab_ref *lab, const char *which)
{
    char target[64], log[PATH_MAX + 16];
    snprintf(target, sizeof target, "labs/lab%s-%s", lab->num, which);
    snprintf(log, sizeof log, "%s/build.log", lab->results);
    char *argv[] = {"ninja", "-C", (char *)lp->build, target, NULL};
    int rc = lab_run_logged(argv, log, NULL, NULL);
    if (rc == 0)
        return true;
    fprintf(stderr, "weft lab: building %s failed (ninja -C %s %s, exit %d):\n\n", target,
            lab_shown(lp->build), target, rc);
    char *text = lab_read_text(log);
    if (text) {
        fputs(text, stderr);
        free(text);
    }
    return false;
}
