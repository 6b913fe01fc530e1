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
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dirent.h>

#include <weft/error.h>
#include <weft/sched.h>

#include "cli.h"
#include "lab_spec.h"

/* ---------------------------------------------------------------- where things are */

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

static char cwd[PATH_MAX];

/* snprintf for paths: false when the result did not fit (the caller reports it). A function
 * of its own so that the compiler does not warn about every path that *could* be long. */
static bool fmt_path(char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fmt_path(char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, size, fmt, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < size;
}

/* `path` relative to the current directory when it lies below it (shorter commands to copy). */
static const char *shown(const char *path)
{
    size_t n = strlen(cwd);
    if (n > 1 && strncmp(path, cwd, n) == 0 && path[n] == '/')
        return path + n + 1;
    return path;
}

/* The value of "source": "..." in meson-info.json (meson writes it with JSON escapes). */
static bool read_source_dir(const char *build, char *out, size_t size)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/meson-info/meson-info.json", build);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strstr(buf, "\"source\": \"");
    if (!p)
        return false;
    p += strlen("\"source\": \"");
    size_t k = 0;
    for (; *p && *p != '"' && k + 1 < size; p++) {
        if (*p == '\\' && p[1])
            p++;
        out[k++] = *p;
    }
    out[k] = '\0';
    return *p == '"' && k > 0;
}

static int find_paths(lab_paths *lp)
{
    if (!getcwd(cwd, sizeof cwd))
        cwd[0] = '\0';
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        fprintf(stderr, "weft lab: cannot find my own executable (/proc/self/exe)\n");
        return CLI_USAGE;
    }
    self[n] = '\0';
    char *slash = strrchr(self, '/'); /* BUILD/cli/weft -> BUILD/cli */
    if (slash)
        *slash = '\0';
    slash = strrchr(self, '/');
    if (!slash || strcmp(slash, "/cli") != 0) {
        fprintf(stderr, "weft lab: the labs are used from a build tree (this weft is %s/weft): "
                        "run build/weft lab ... from a checkout built with "
                        "scripts/bootstrap.sh\n",
                self);
        return CLI_USAGE;
    }
    *slash = '\0';
    snprintf(lp->build, sizeof lp->build, "%s", self);
    if (!read_source_dir(lp->build, lp->source, sizeof lp->source)) {
        fprintf(stderr, "weft lab: %s does not look like a meson build directory "
                        "(no readable meson-info/meson-info.json)\n",
                lp->build);
        return CLI_USAGE;
    }
    char weft[PATH_MAX + 8];
    snprintf(weft, sizeof weft, "%s/weft", lp->build);
    /* A command typed as printed: "./weft" when the build directory is the current one. */
    const char *rel = shown(weft);
    snprintf(lp->weft, sizeof lp->weft, "%s%s", strchr(rel, '/') ? "" : "./", rel);
    return CLI_OK;
}

static bool is_lab_number(const char *s)
{
    return isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) && s[2] == '\0';
}

/* Make every directory of `path` (mkdir -p). */
static int make_dirs(const char *path)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lab folders (NN-name) of SOURCE/labs, sorted; the caller frees each and the array. */
static size_t list_folders(const lab_paths *lp, char ***out)
{
    char path[PATH_MAX + 8];
    snprintf(path, sizeof path, "%s/labs", lp->source);
    *out = NULL;
    DIR *d = opendir(path);
    if (!d)
        return 0;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *s = e->d_name;
        if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2] != '-')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **grown = realloc(names, cap * sizeof *names);
            if (!grown)
                break;
            names = grown;
        }
        if (!(names[n] = strdup(s)))
            break;
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_names);
    *out = names;
    return n;
}

static void free_folders(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static int find_lab(const lab_paths *lp, const char *num, lab_ref *lab)
{
    char **names;
    size_t n = list_folders(lp, &names);
    int rc = CLI_USAGE;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(names[i], num, 2) == 0) {
            snprintf(lab->num, sizeof lab->num, "%s", num);
            snprintf(lab->folder, sizeof lab->folder, "%s", names[i]);
            snprintf(lab->dir, sizeof lab->dir, "%s/labs/%s", lp->source, names[i]);
            if (fmt_path(lab->results, sizeof lab->results, "%s/labs/results/%s", lp->build, num))
                rc = CLI_OK;
            break;
        }
    }
    free_folders(names, n);
    if (rc != CLI_OK)
        fprintf(stderr, "weft lab: there is no lab %s (see: weft lab list)\n", num);
    return rc;
}

/* ---------------------------------------------------------------- small files */

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (n + 1 < cap)
            break;
        char *grown = realloc(buf, cap * 2);
        if (!grown) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = grown;
        cap *= 2;
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

static long read_number_file(const char *path, long fallback)
{
    char *t = read_text(path);
    long v = fallback;
    if (t) {
        char *end;
        long x = strtol(t, &end, 10);
        if (end != t)
            v = x;
        free(t);
    }
    return v;
}

static void write_text_file(const char *path, const char *fmt, ...)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fclose(f);
}

/* ---------------------------------------------------------------- the handout */

/* The title of a handout: its first "# " line without "Lab NN: ". Into buf. */
static const char *handout_title(const char *readme, char *buf, size_t size)
{
    snprintf(buf, size, "(no README.md)");
    if (!readme)
        return buf;
    for (const char *p = readme; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p)) {
        if (p[0] == '#' && p[1] == ' ') {
            const char *t = p + 2;
            const char *colon = strchr(t, ':');
            const char *nl = strchr(t, '\n');
            if (colon && (!nl || colon < nl) && strncmp(t, "Lab", 3) == 0)
                t = colon + 1;
            while (*t == ' ')
                t++;
            int len = (int)(nl ? nl - t : (long)strlen(t));
            snprintf(buf, size, "%.*s", len, t);
            return buf;
        }
    }
    return buf;
}

/* Where "## Hints" starts in a handout, or NULL. */
static const char *hints_section(const char *readme)
{
    for (const char *p = readme; p && *p;) {
        if (strncmp(p, "## Hints", 8) == 0)
            return p;
        const char *nl = strchr(p, '\n');
        p = nl ? nl + 1 : NULL;
    }
    return NULL;
}

/* The hints: each "### " heading under "## Hints" up to the next heading of level 2 or 3.
 * Fills start/len for up to max hints; returns how many there are. */
static int split_hints(const char *readme, const char **start, int *len, int max)
{
    const char *p = hints_section(readme);
    if (!p)
        return 0;
    p = strchr(p, '\n');
    int n = 0;
    const char *cur = NULL;
    while (p && *p) {
        p++;
        bool h3 = strncmp(p, "### ", 4) == 0, h2 = strncmp(p, "## ", 3) == 0;
        if ((h3 || h2 || !*p) && cur && n <= max) {
            len[n - 1] = (int)(p - cur);
            cur = NULL;
        }
        if (h2 || !*p)
            break;
        if (h3 && n < max) {
            start[n] = cur = p;
            len[n++] = 0;
        }
        p = strchr(p, '\n');
    }
    if (cur)
        len[n - 1] = (int)strlen(cur);
    return n;
}

/* ---------------------------------------------------------------- building */

/* Run argv with stdout and stderr into `log`; the exit status, or -1. */
static int run_logged(char *const *argv, const char *log, const char *env_name,
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
static bool build_program(const lab_paths *lp, const lab_ref *lab, const char *which)
{
    char target[64], log[PATH_MAX + 16];
    snprintf(target, sizeof target, "labs/lab%s-%s", lab->num, which);
    snprintf(log, sizeof log, "%s/build.log", lab->results);
    char *argv[] = {"ninja", "-C", (char *)lp->build, target, NULL};
    int rc = run_logged(argv, log, NULL, NULL);
    if (rc == 0)
        return true;
    fprintf(stderr, "weft lab: building %s failed (ninja -C %s %s, exit %d):\n\n", target,
            shown(lp->build), target, rc);
    char *text = read_text(log);
    if (text) {
        fputs(text, stderr);
        free(text);
    }
    return false;
}

/* ---------------------------------------------------------------- grading */

typedef struct test_result {
    bool ran;                   /* exploration ran (else `error` says why) */
    bool passed;
    weft_explore_result res;
    char replay[2 * PATH_MAX + 512];
    char error[512];
} test_result;

/* Explore one test. Output of the program and of the explorer goes to the test's run.log. */
static void grade_test(const lab_paths *lp, const lab_ref *lab, const char *program,
                       const lab_test *t, test_result *out)
{
    memset(out, 0, sizeof *out);
    /* results/NN/PROGRAM/TEST: the starter's and the solution's gradings may run at once. */
    const char *base = strrchr(program, '/') ? strrchr(program, '/') + 1 : program;
    char dir[PATH_MAX + 600], log[PATH_MAX + 620];
    if (!fmt_path(dir, sizeof dir, "%s/%s/%s", lab->results, base, t->name) ||
        !fmt_path(log, sizeof log, "%s/run.log", dir) || make_dirs(dir) != 0) {
        snprintf(out->error, sizeof out->error, "cannot create %.400s: %s", dir,
                 strerror(errno));
        return;
    }

    /* argv: PROGRAM --quiet [--checks LIST] [-- ARGS...] */
    char *argv[8 + LAB_MAX_ARGS];
    int k = 0;
    argv[k++] = (char *)program;
    argv[k++] = "--quiet";
    if (t->checks[0]) {
        argv[k++] = "--checks";
        argv[k++] = (char *)t->checks;
    }
    if (t->nargs) {
        argv[k++] = "--";
        for (int i = 0; i < t->nargs; i++)
            argv[k++] = (char *)t->args[i];
    }
    argv[k] = NULL;

    /* The replay command shows the story: the same argv without --quiet. */
    snprintf(out->replay, sizeof out->replay, "%s replay %%s -- %s", lp->weft, shown(program));
    for (int i = 2; i < k; i++) {
        size_t len = strlen(out->replay);
        snprintf(out->replay + len, sizeof out->replay - len, " %s", argv[i]);
    }

    weft_explore_opts o = {0};
    o.program = NULL;
    o.strategy = t->strategy;
    o.seed = t->seed_first;
    o.iterations = t->runs;
    o.out_dir = dir;
    o.max_vtime = t->vtime;
    o.max_steps = t->steps;
    o.starvation = t->starvation;
    o.allow_alive = t->allow_alive;
    o.no_shrink = t->no_shrink;
    o.run_timeout_s = t->timeout_s;
    o.replay_command = out->replay;
    o.progress = NULL;

    /* The program's and the explorer's own output go to the log, not the learner's screen. */
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
    }
    int rc = weft_explore_program(&o, argv, &out->res);
    fflush(stdout);
    fflush(stderr);
    if (saved_out >= 0) {
        dup2(saved_out, 1);
        close(saved_out);
    }
    if (saved_err >= 0) {
        dup2(saved_err, 2);
        close(saved_err);
    }
    if (rc != 0) {
        snprintf(out->error, sizeof out->error, "%s",
                 out->res.summary[0] ? out->res.summary : weft_strerror(rc));
        return;
    }
    out->ran = true;
    out->passed = !out->res.failed;
    /* The replay command names the shrunk schedule. */
    if (out->res.failed) {
        char fmt[sizeof out->replay];
        snprintf(fmt, sizeof fmt, "%s", out->replay);
        const char *sched = out->res.shrunk_path[0] ? out->res.shrunk_path
                                                    : out->res.failing_path;
        char *pct = strstr(fmt, "%s");
        if (pct) {
            *pct = '\0';
            snprintf(out->replay, sizeof out->replay, "%s%s%s", fmt, shown(sched), pct + 2);
        }
    }
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* Print a multi-line explanation indented under its test. */
static void print_indented(const char *text, const char *indent)
{
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        int len = (int)(nl ? nl - p : (long)strlen(p));
        printf("%s%.*s\n", indent, len, p);
        if (!nl)
            break;
        p = nl + 1;
    }
}

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
static int grade(const lab_paths *lp, const lab_ref *lab, const check_opts *co)
{
    char spec_path[PATH_MAX + 16], err[512];
    if (co->spec)
        snprintf(spec_path, sizeof spec_path, "%s", co->spec);
    else
        snprintf(spec_path, sizeof spec_path, "%s/grade.spec", lab->dir);
    lab_spec spec;
    if (lab_spec_load(spec_path, &spec, err, sizeof err) != 0) {
        fprintf(stderr, "weft lab: %s\n", err);
        return CLI_USAGE;
    }
    if (make_dirs(lab->results) != 0) {
        fprintf(stderr, "weft lab: cannot create %s: %s\n", lab->results, strerror(errno));
        return CLI_USAGE;
    }
    const char *which = co->solution ? "solution" : "starter";
    char program[PATH_MAX + 64];
    if (co->program)
        snprintf(program, sizeof program, "%s", co->program);
    else
        snprintf(program, sizeof program, "%s/labs/lab%s-%s", lp->build, lab->num, which);
    if (!co->no_build && !co->program && !build_program(lp, lab, which)) {
        /* A program that does not build earns nothing: say so as a score, too. */
        int max = 0;
        for (int i = 0; i < spec.ntests; i++)
            max += spec.tests[i].points;
        if (co->json) {
            char log[PATH_MAX + 16];
            snprintf(log, sizeof log, "%s/build.log", lab->results);
            char *text = read_text(log);
            printf("{\"lab\": \"%s\", \"title\": ", lab->num);
            json_string(stdout, spec.title);
            printf(", \"built\": false, \"score\": 0, \"max\": %d, \"build_log\": ", max);
            json_string(stdout, text ? text : "");
            printf(", \"tests\": []}\n");
            free(text);
        } else {
            printf("\nScore 0/%d (labs/%s/%s does not build)\n", max, lab->folder,
                   co->solution ? "solution/solution.c" : "starter.c");
        }
        lab_spec_free(&spec);
        return co->expect < 0 ? CLI_OK : CLI_FAILED;
    }
    if (access(program, X_OK) != 0) {
        fprintf(stderr, "weft lab: %s is not there (build it: ninja -C %s labs/lab%s-%s)\n",
                program, shown(lp->build), lab->num, which);
        return CLI_USAGE;
    }

    test_result *results = calloc((size_t)spec.ntests, sizeof *results);
    if (!results) {
        fprintf(stderr, "weft lab: out of memory\n");
        return CLI_USAGE;
    }
    if (!co->json)
        printf("lab %s: %s — grading %s\n\n", lab->num, spec.title, shown(program));
    int score = 0, max = 0, errors = 0, ntests_run = 0;
    for (int i = 0; i < spec.ntests; i++) {
        const lab_test *t = &spec.tests[i];
        test_result *r = &results[i];
        max += t->points;
        if (co->stop_at_first && i > 0 && !results[i - 1].passed)
            continue;
        grade_test(lp, lab, program, t, r);
        ntests_run++;
        if (co->finding && !co->finding->found && r->ran && r->res.failed) {
            lab_finding *fd = co->finding;
            fd->found = fmt_path(fd->schedule, sizeof fd->schedule, "%s",
                                 r->res.shrunk_path[0] ? r->res.shrunk_path
                                                       : r->res.failing_path);
            snprintf(fd->checks, sizeof fd->checks, "%s", t->checks);
            snprintf(fd->kind, sizeof fd->kind, "%s", r->res.kind);
            fd->args[0] = '\0';
            for (int a = 0; a < t->nargs; a++) {
                size_t len = strlen(fd->args);
                snprintf(fd->args + len, sizeof fd->args - len, "%s%s", a ? " " : "", t->args[a]);
            }
        }
        if (!r->ran)
            errors++;
        if (r->passed)
            score += t->points;
        if (co->json)
            continue;
        char runs[64];
        if (strncmp(t->strategy, "dfs", 3) == 0 || t->runs == 1)
            snprintf(runs, sizeof runs, "%s", t->strategy);
        else
            snprintf(runs, sizeof runs, "%s seeds %llu..%llu", t->strategy,
                     (unsigned long long)t->seed_first,
                     (unsigned long long)(t->seed_first + t->runs - 1));
        printf("  %-28s %-24s %s %3d/%-3d\n", t->name, runs,
               !r->ran ? "ERROR" : r->passed ? "  ok " : " FAIL", r->passed ? t->points : 0,
               t->points);
        if (!r->ran) {
            printf("      could not run: %s\n", r->error);
        } else if (!r->passed) {
            if (t->about[0])
                printf("      the test: %s\n", t->about);
            printf("      failed after %llu schedule%s: %s\n",
                   (unsigned long long)r->res.schedules, r->res.schedules == 1 ? "" : "s",
                   r->res.kind);
            print_indented(r->res.summary, "        ");
            printf("      replay it:  %s\n", r->replay);
        }
    }
    if (co->json) {
        printf("{\"lab\": \"%s\", \"folder\": ", lab->num);
        json_string(stdout, lab->folder);
        printf(", \"title\": ");
        json_string(stdout, spec.title);
        printf(", \"program\": ");
        json_string(stdout, program);
        printf(", \"score\": %d, \"max\": %d, \"tests\": [", score, max);
        for (int i = 0; i < spec.ntests; i++) {
            const lab_test *t = &spec.tests[i];
            const test_result *r = &results[i];
            printf("%s\n  {\"name\": ", i ? "," : "");
            json_string(stdout, t->name);
            printf(", \"points\": %d, \"earned\": %d, \"ran\": %s, \"passed\": %s, "
                   "\"strategy\": ",
                   t->points, r->passed ? t->points : 0, r->ran ? "true" : "false",
                   r->passed ? "true" : "false");
            json_string(stdout, t->strategy);
            printf(", \"schedules\": %llu", (unsigned long long)r->res.schedules);
            if (!r->ran) {
                printf(", \"error\": ");
                json_string(stdout, r->error);
            } else if (!r->passed) {
                printf(", \"kind\": ");
                json_string(stdout, r->res.kind);
                printf(", \"explanation\": ");
                json_string(stdout, r->res.summary);
                printf(", \"schedule\": ");
                json_string(stdout, r->res.shrunk_path[0] ? r->res.shrunk_path
                                                          : r->res.failing_path);
                printf(", \"replay\": ");
                json_string(stdout, r->replay);
            }
            printf("}");
        }
        printf("\n]}\n");
    } else if (co->stop_at_first && ntests_run < spec.ntests) {
        printf("\n  (stopped at the first failing test; all %d tests: %s lab check %s)\n",
               spec.ntests, lp->weft, lab->num);
    } else {
        printf("\nScore %d/%d\n", score, max);
    }
    if (!co->program && !co->stop_at_first) {
        char path[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/last-score-%s", lab->results, which);
        write_text_file(path, "%d/%d\n", score, max);
    }
    free(results);
    lab_spec_free(&spec);
    if (errors)
        return CLI_USAGE;
    bool full = score == max;
    if (co->expect)
        return (co->expect > 0) == full ? CLI_OK : CLI_FAILED;
    return full ? CLI_OK : CLI_FAILED;
}

/* ---------------------------------------------------------------- verbs */

static int verb_list(const lab_paths *lp)
{
    char **names;
    size_t n = list_folders(lp, &names);
    if (n == 0) {
        fprintf(stderr, "weft lab: no labs in %s/labs\n", lp->source);
        return CLI_FAILED;
    }
    printf("%-4s %-36s %s\n", "lab", "title", "your last score");
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX + 300], title[200];
        snprintf(path, sizeof path, "%s/labs/%s/README.md", lp->source, names[i]);
        char *readme = read_text(path);
        handout_title(readme, title, sizeof title);
        free(readme);
        snprintf(path, sizeof path, "%s/labs/results/%.2s/last-score-starter", lp->build,
                 names[i]);
        char *score = read_text(path);
        if (score)
            score[strcspn(score, "\n")] = '\0';
        printf("%.2s   %-36s %s\n", names[i], title, score ? score : "-");
        free(score);
    }
    printf("\nStart with: %s lab run 01\n", lp->weft);
    free_folders(names, n);
    return CLI_OK;
}

static char *load_readme(const lab_ref *lab)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/README.md", lab->dir);
    char *readme = read_text(path);
    if (!readme)
        fprintf(stderr, "weft lab: cannot read %s\n", path);
    return readme;
}

static int verb_show(const lab_paths *lp, const lab_ref *lab)
{
    char *readme = load_readme(lab);
    if (!readme)
        return CLI_FAILED;
    const char *hints = hints_section(readme);
    const char *start[32];
    int len[32];
    int nh = split_hints(readme, start, len, 32);
    fwrite(readme, 1, hints ? (size_t)(hints - readme) : strlen(readme), stdout);
    printf("---\nThe starter you edit: %s/starter.c\nGrade it:   %s lab check %s\n",
           shown(lab->dir), lp->weft, lab->num);
    if (nh)
        printf("Hints (%d, one at a time): %s lab hint %s\n", nh, lp->weft, lab->num);
    free(readme);
    return CLI_OK;
}

static int verb_hint(const lab_paths *lp, const lab_ref *lab, bool reset)
{
    char state[PATH_MAX + 16];
    snprintf(state, sizeof state, "%s/hints-shown", lab->results);
    if (reset) {
        unlink(state);
        printf("lab %s: hints hidden again\n", lab->num);
        return CLI_OK;
    }
    char *readme = load_readme(lab);
    if (!readme)
        return CLI_FAILED;
    const char *start[32];
    int len[32];
    int nh = split_hints(readme, start, len, 32);
    if (nh == 0) {
        printf("lab %s has no hints.\n", lab->num);
        free(readme);
        return CLI_OK;
    }
    long shown_before = read_number_file(state, 0);
    if (shown_before < 0 || shown_before > nh)
        shown_before = 0;
    int now = shown_before < nh ? (int)shown_before + 1 : nh;
    for (int i = 0; i < now; i++) {
        /* "### Hint N", marked when it is the one this call unlocked, then its text without
         * the blank lines around it. */
        int n = len[i];
        while (n > 0 && isspace((unsigned char)start[i][n - 1]))
            n--;
        const char *nl = memchr(start[i], '\n', (size_t)n);
        int head = nl ? (int)(nl - start[i]) : n;
        printf("%s%.*s%s\n", i ? "\n" : "", head, start[i],
               i == now - 1 && now > shown_before ? "   (new)" : "");
        if (nl)
            printf("%.*s\n", n - head - 1, nl + 1);
    }
    if (now < nh)
        printf("\n(%d of %d hints shown; the next: %s lab hint %s)\n", now, nh, lp->weft,
               lab->num);
    else
        printf("\n(all %d hints shown; hide them again: %s lab hint %s --reset)\n", nh,
               lp->weft, lab->num);
    if (make_dirs(lab->results) == 0)
        write_text_file(state, "%d\n", now);
    free(readme);
    return CLI_OK;
}

/* Record the replay of the finding's schedule into a trace database (weft record, with the
 * program under WEFT_SCHED=replay:...). When the run stalled (a deadlock, a lost wakeup: what
 * each task waits on is the story), show it: the interactive console when stdout is a
 * terminal, else one snapshot frame; the console opens a recording where a deadlock formed.
 * For other failures it only says where the recording is: the recorder stamps events with
 * real time, so a run's virtual-time polls would look instantaneous there. */
static void show_in_console(const lab_paths *lp, const lab_ref *lab, const char *program,
                            const lab_finding *fd)
{
    char self[PATH_MAX + 16], db[PATH_MAX + 32], log[PATH_MAX + 32], abs_sched[PATH_MAX];
    char spec[PATH_MAX + 16];
    if (!fmt_path(self, sizeof self, "%s/cli/weft", lp->build) ||
        !fmt_path(db, sizeof db, "%s/run.trace.db", lab->results) ||
        !fmt_path(log, sizeof log, "%s/record.log", lab->results) ||
        !realpath(fd->schedule, abs_sched) ||
        !fmt_path(spec, sizeof spec, "replay:%s", abs_sched))
        return;
    unlink(db);
    /* weft record -q -o DB -- PROGRAM --quiet [--checks C] [-- ARGS...] */
    char argbuf[256];
    snprintf(argbuf, sizeof argbuf, "%s", fd->args);
    char *argv[12 + LAB_MAX_ARGS];
    int k = 0;
    argv[k++] = self;
    argv[k++] = "record";
    argv[k++] = "-q";
    argv[k++] = "-o";
    argv[k++] = db;
    argv[k++] = "--";
    argv[k++] = (char *)program;
    argv[k++] = "--quiet";
    if (fd->checks[0]) {
        argv[k++] = "--checks";
        argv[k++] = (char *)fd->checks;
    }
    if (argbuf[0]) {
        argv[k++] = "--";
        for (char *tok = strtok(argbuf, " "); tok && k < 11 + LAB_MAX_ARGS;
             tok = strtok(NULL, " "))
            argv[k++] = tok;
    }
    argv[k] = NULL;
    run_logged(argv, log, "WEFT_SCHED", spec);
    if (access(db, R_OK) != 0) {
        printf("\n(the failing run could not be recorded for the console: see %s)\n",
               shown(log));
        return;
    }
    bool stalled = strcmp(fd->kind, "deadlock") == 0 || strcmp(fd->kind, "lost-wakeup") == 0 ||
                   strcmp(fd->kind, "join-stall") == 0 || strcmp(fd->kind, "stall") == 0 ||
                   strcmp(fd->kind, "timer-stall") == 0;
    if (!stalled) {
        /* nothing more to show here */
    } else if (isatty(STDOUT_FILENO)) {
        printf("\n== the failing run in the console (q quits) ==\n");
        char *cargv[] = {self, "console", db, NULL};
        run_logged(cargv, NULL, NULL, NULL);
    } else {
        printf("\n== the failing run, as the console shows it ==\n\n");
        /* A deadlock is best seen as its cycle; other stalls in the tasks view. */
        const char *view = strcmp(fd->kind, "deadlock") == 0 ? "deadlocks" : "tasks";
        char *cargv[] = {self, "console", "--snapshot", "--view", (char *)view, "--width", "100",
                         db, NULL};
        run_logged(cargv, NULL, NULL, NULL);
    }
    printf("\nThe recording of the failing run: %s console %s\n", lp->weft, shown(db));
}

/* `run`: build, run the starter once (fifo: what a current-thread runtime would do) so the
 * learner sees its story and its checks, grade until the first failing test, and show that
 * failure in the console. */
static int verb_run(const lab_paths *lp, const lab_ref *lab)
{
    char *readme = load_readme(lab);
    char title[200];
    handout_title(readme, title, sizeof title);
    printf("lab %s: %s\n", lab->num, title);
    if (readme) {
        /* The story: the first paragraph after the title. */
        const char *p = strstr(readme, "\n\n");
        while (p && (p[2] == '#' || p[2] == '>' || p[2] == '\n'))
            p = strstr(p + 2, "\n\n");
        if (p) {
            const char *end = strstr(p + 2, "\n\n");
            printf("\n%.*s\n", (int)(end ? end - p - 2 : (long)strlen(p + 2)), p + 2);
        }
        free(readme);
    }
    if (make_dirs(lab->results) != 0 || !build_program(lp, lab, "starter"))
        return CLI_USAGE;

    char program[PATH_MAX + 64];
    snprintf(program, sizeof program, "%s/labs/lab%s-starter", lp->build, lab->num);
    printf("\n== one run of labs/%s/starter.c (deterministic scheduler, fifo) ==\n\n",
           lab->folder);
    char *argv[] = {program, NULL};
    int rc = run_logged(argv, NULL, "WEFT_SCHED", "fifo");
    if (rc < 0 || rc >= 128)
        printf("\n(the program %s)\n", rc < 0 ? "could not be started" : "crashed");

    printf("\n== the grader, across many schedules ==\n\n");
    lab_finding finding = {0};
    check_opts co = {.no_build = true, .stop_at_first = true, .finding = &finding};
    int grc = grade(lp, lab, &co);
    if (finding.found)
        show_in_console(lp, lab, program, &finding);
    printf("\nNext: read the handout (%s lab show %s), fix %s/starter.c,\n"
           "      and grade it (%s lab check %s). Stuck? %s lab hint %s\n",
           lp->weft, lab->num, shown(lab->dir), lp->weft, lab->num, lp->weft, lab->num);
    return grc == CLI_USAGE ? CLI_USAGE : CLI_OK;
}

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
            if (!is_lab_number(a))
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
    int rc = find_paths(&lp);
    if (rc != CLI_OK)
        return rc;
    if (is_list)
        return verb_list(&lp);
    lab_ref lab;
    if ((rc = find_lab(&lp, num, &lab)) != CLI_OK)
        return rc;
    if (strcmp(verb, "show") == 0)
        return verb_show(&lp, &lab);
    if (strcmp(verb, "hint") == 0)
        return verb_hint(&lp, &lab, reset);
    if (strcmp(verb, "run") == 0)
        return verb_run(&lp, &lab);
    return grade(&lp, &lab, &co);
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
