/* cli/lab_files.c - where `weft lab` finds things, and the small files it keeps.
 *
 * The build tree is found from this executable (BUILD/cli/weft) and the source tree from what
 * BUILD/meson-info/meson-info.json names; a lab is a SOURCE/labs/NN-name folder and its results
 * go to BUILD/labs/results/NN. Every other lab_*.c file goes through these functions, so the
 * layout is decided in one place. Also here: reading and writing the small text files of the
 * results directory (scores, hint counts, logs).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "lab_int.h"

/* ---------------------------------------------------------------- where things are */

static char cwd[PATH_MAX];

/* snprintf for paths: false when the result did not fit (the caller reports it). A function
 * of its own so that the compiler does not warn about every path that *could* be long. */
bool lab_fmt_path(char *out, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, size, fmt, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < size;
}

/* `path` relative to the current directory when it lies below it (shorter commands to copy). */
const char *lab_shown(const char *path)
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

int lab_find_paths(lab_paths *lp)
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
    const char *rel = lab_shown(weft);
    snprintf(lp->weft, sizeof lp->weft, "%s%s", strchr(rel, '/') ? "" : "./", rel);
    return CLI_OK;
}

bool lab_is_number(const char *s)
{
    return isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) && s[2] == '\0';
}

/* Make every directory of `path` (mkdir -p). */
int lab_make_dirs(const char *path)
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
size_t lab_list_folders(const lab_paths *lp, char ***out)
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

void lab_free_folders(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

int lab_find(const lab_paths *lp, const char *num, lab_ref *lab)
{
    char **names;
    size_t n = lab_list_folders(lp, &names);
    int rc = CLI_USAGE;
    for (size_t i = 0; i < n; i++) {
        if (strncmp(names[i], num, 2) == 0) {
            snprintf(lab->num, sizeof lab->num, "%s", num);
            snprintf(lab->folder, sizeof lab->folder, "%s", names[i]);
            /* lab_fmt_path for dir too: out of line, the compiler cannot see that the source
             * path is short enough and would warn about a truncation here. */
            if (lab_fmt_path(lab->dir, sizeof lab->dir, "%s/labs/%s", lp->source, names[i]) &&
                lab_fmt_path(lab->results, sizeof lab->results, "%s/labs/results/%s", lp->build,
                             num))
                rc = CLI_OK;
            break;
        }
    }
    lab_free_folders(names, n);
    if (rc != CLI_OK)
        fprintf(stderr, "weft lab: there is no lab %s (see: weft lab list)\n", num);
    return rc;
}

/* ---------------------------------------------------------------- small files */

char *lab_read_text(const char *path)
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

long lab_read_number_file(const char *path, long fallback)
{
    char *t = lab_read_text(path);
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

void lab_write_text_file(const char *path, const char *fmt, ...)
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
