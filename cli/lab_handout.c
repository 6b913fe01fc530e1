/* cli/lab_handout.c - the handouts: `weft lab list`, `weft lab show NN`, `weft lab hint NN`.
 *
 * A lab's README.md is its handout: a "# Lab NN: title" heading, the story, and a "## Hints"
 * section with one "### " heading per hint. `show` prints it without the hints; `hint` reveals
 * them one at a time and remembers how many were shown (BUILD/labs/results/NN/hints-shown), so
 * that a learner asks for help a step at a time rather than reading the answer at once.
 */
#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lab_int.h"

/* The title of a handout: its first "# " line without "Lab NN: ". Into buf. */
const char *lab_handout_title(const char *readme, char *buf, size_t size)
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

int lab_verb_list(const lab_paths *lp)
{
    char **names;
    size_t n = lab_list_folders(lp, &names);
    if (n == 0) {
        fprintf(stderr, "weft lab: no labs in %s/labs\n", lp->source);
        return CLI_FAILED;
    }
    printf("%-4s %-36s %s\n", "lab", "title", "your last score");
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX + 300], title[200];
        snprintf(path, sizeof path, "%s/labs/%s/README.md", lp->source, names[i]);
        char *readme = lab_read_text(path);
        lab_handout_title(readme, title, sizeof title);
        free(readme);
        snprintf(path, sizeof path, "%s/labs/results/%.2s/last-score-starter", lp->build,
                 names[i]);
        char *score = lab_read_text(path);
        if (score)
            score[strcspn(score, "\n")] = '\0';
        printf("%.2s   %-36s %s\n", names[i], title, score ? score : "-");
        free(score);
    }
    printf("\nStart with: %s lab run 01\n", lp->weft);
    lab_free_folders(names, n);
    return CLI_OK;
}

char *lab_load_readme(const lab_ref *lab)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/README.md", lab->dir);
    char *readme = lab_read_text(path);
    if (!readme)
        fprintf(stderr, "weft lab: cannot read %s\n", path);
    return readme;
}

int lab_verb_show(const lab_paths *lp, const lab_ref *lab)
{
    char *readme = lab_load_readme(lab);
    if (!readme)
        return CLI_FAILED;
    const char *hints = hints_section(readme);
    const char *start[32];
    int len[32];
    int nh = split_hints(readme, start, len, 32);
    fwrite(readme, 1, hints ? (size_t)(hints - readme) : strlen(readme), stdout);
    printf("---\nThe starter you edit: %s/starter.c\nGrade it:   %s lab check %s\n",
           lab_shown(lab->dir), lp->weft, lab->num);
    if (nh)
        printf("Hints (%d, one at a time): %s lab hint %s\n", nh, lp->weft, lab->num);
    free(readme);
    return CLI_OK;
}

int lab_verb_hint(const lab_paths *lp, const lab_ref *lab, bool reset)
{
    char state[PATH_MAX + 16];
    snprintf(state, sizeof state, "%s/hints-shown", lab->results);
    if (reset) {
        unlink(state);
        printf("lab %s: hints hidden again\n", lab->num);
        return CLI_OK;
    }
    char *readme = lab_load_readme(lab);
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
    long shown_before = lab_read_number_file(state, 0);
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
    if (lab_make_dirs(lab->results) == 0)
        lab_write_text_file(state, "%d\n", now);
    free(readme);
    return CLI_OK;
}
