/* cli/lab_int.h - what the files of `weft lab` share (cmd_lab.c and the lab_*.c files).
 *
 * Nothing outside the lab command uses these: the command's entry point is cli_cmd_lab in
 * cli.h. A lab is addressed by its two-digit number; lab_find turns that into a lab_ref, which
 * every verb takes along with the lab_paths of this build.
 */
#ifndef WEFT_CLI_LAB_INT_H
#define WEFT_CLI_LAB_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/* ---------------------------------------------------------------- where things are
 * (lab_files.c) */

typedef struct lab_paths {
    char build[PATH_MAX];  /* the meson build directory */
    char source[PATH_MAX]; /* the source tree */
    char weft[PATH_MAX];   /* how to name this command in printed commands */
} lab_paths;

typedef struct lab_ref {
    char num[3];           /* "01" */
    char folder[256];      /* "01-stalled-heartbeat" */
    char dir[PATH_MAX];    /* SOURCE/labs/01-stalled-heartbeat */
    char results[PATH_MAX]; /* BUILD/labs/results/01 */
} lab_ref;

/* snprintf for paths: false when the result did not fit (the caller reports it). */
bool lab_fmt_path(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* `path` relative to the current directory when it lies below it (shorter commands to copy).
 * Borrows path; the result points into it. Relative to the directory lab_find_paths saw. */
const char *lab_shown(const char *path);
/* Find the build and source trees from this executable: CLI_OK, or CLI_USAGE (said why). */
int lab_find_paths(lab_paths *lp);
/* Two digits, such as "01". */
bool lab_is_number(const char *s);
/* Make every directory of `path` (mkdir -p): 0 or -1 (errno). */
int lab_make_dirs(const char *path);
/* The lab folders (NN-name) of SOURCE/labs, sorted; free with lab_free_folders. */
size_t lab_list_folders(const lab_paths *lp, char ***out);
void lab_free_folders(char **names, size_t n);
/* The lab numbered `num`: CLI_OK, or CLI_USAGE when there is none (said so). */
int lab_find(const lab_paths *lp, const char *num, lab_ref *lab);

/* Small files: the whole text (caller frees) or NULL; a number in a file, or `fallback`;
 * write a file from a format (errors ignored: these files are conveniences). */
char *lab_read_text(const char *path);
long lab_read_number_file(const char *path, long fallback);
void lab_write_text_file(const char *path, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---------------------------------------------------------------- building (lab_build.c) */

/* Run argv with stdout and stderr into `log` (NULL: stderr joins stdout), with env_name set to
 * env_value when env_name is not NULL. The exit status (128 + signal), or -1. */
int lab_run_logged(char *const *argv, const char *log, const char *env_name,
                   const char *env_value);
/* Rebuild labNN-<which> ("starter" or "solution"); on failure print the build log and
 * return false. */
bool lab_build_program(const lab_paths *lp, const lab_ref *lab, const char *which);

/* ---------------------------------------------------------------- grading (lab_grade.c) */

/* The first failing test of a grading, for `run` to show in the console. */
typedef struct lab_finding {
    bool found;
    char schedule[PATH_MAX]; /* the shrunk (or failing) schedule */
    char kind[32];           /* the failure's kind: "deadlock", "assertion", ... */
    char checks[256];        /* the test's judged checks ("" = all) */
    char args[256];          /* the test's lab arguments, space-separated */
} lab_finding;

typedef struct check_opts {
    lab_finding *finding; /* filled with the first failure, when not NULL */
    bool json;
    bool no_build;
    bool solution;
    const char *program; /* explicit program (tests) */
    const char *spec;    /* explicit grade.spec (tests of the parser) */
    int expect;          /* 0 none, 1 pass (full score), -1 fail (points lost) */
    bool stop_at_first;  /* `run`: stop after the first failing test */
} check_opts;

/* Grade lab `lab`; prints the report; returns the exit status. */
int lab_grade(const lab_paths *lp, const lab_ref *lab, const check_opts *co);

/* ---------------------------------------------------------------- the verbs */

/* lab_handout.c: the title of a handout (its first "# " line without "Lab NN: ") into buf;
 * the handout's text (caller frees) or NULL (said so); and the verbs that read handouts. */
const char *lab_handout_title(const char *readme, char *buf, size_t size);
char *lab_load_readme(const lab_ref *lab);
int lab_verb_list(const lab_paths *lp);
int lab_verb_show(const lab_paths *lp, const lab_ref *lab);
int lab_verb_hint(const lab_paths *lp, const lab_ref *lab, bool reset);

/* lab_run.c */
int lab_verb_run(const lab_paths *lp, const lab_ref *lab);

#endif
