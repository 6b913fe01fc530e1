/* console/tui.c - the console on a terminal: ncurses (wide characters), ten frames a second.
 *
 * Each frame pulls events (app_update, at most FRAME_BUDGET_MS of work so that keys stay
 * responsive under a flood of events), renders the app into a canvas the size of the screen
 * and copies the canvas to the screen; ncurses sends only what changed. Keys are read with a
 * timeout of one frame. Colours come from the terminal's default palette when it has colours;
 * without them the attributes fall back to reverse, bold, dim and underline.
 */
#define _XOPEN_SOURCE_EXTENDED 1
#include <curses.h>
#include <locale.h>
#include <stdio.h>

#include "tui.h"

#define FRAME_MS 100
#define FRAME_BUDGET_MS 40

static attr_t attrs[AT_COUNT];
static short pairs[AT_COUNT];

static void setup_colours(void)
{
    bool colour = has_colors() && start_color() == OK;
    if (colour)
        use_default_colors();
    static const struct {
        short fg, bg;
        attr_t with, without;
    } map[AT_COUNT] = {
        [AT_NORMAL] = {-1, -1, A_NORMAL, A_NORMAL},
        [AT_TITLE] = {COLOR_WHITE, COLOR_BLUE, A_BOLD, A_REVERSE},
        [AT_HEAD] = {-1, -1, A_BOLD | A_UNDERLINE, A_BOLD | A_UNDERLINE},
        [AT_SELECTED] = {-1, -1, A_REVERSE, A_REVERSE},
        [AT_WARN] = {COLOR_YELLOW, -1, A_NORMAL, A_BOLD},
        [AT_ERROR] = {COLOR_RED, -1, A_BOLD, A_BOLD | A_UNDERLINE},
        [AT_DIM] = {-1, -1, A_DIM, A_DIM},
        [AT_GOOD] = {COLOR_GREEN, -1, A_NORMAL, A_NORMAL},
        [AT_ACCENT] = {COLOR_CYAN, -1, A_NORMAL, A_BOLD},
    };
    for (int i = 0; i < AT_COUNT; i++) {
        pairs[i] = 0;
        attrs[i] = colour ? map[i].with : map[i].without;
        if (colour && (map[i].fg != -1 || map[i].bg != -1) && i < COLOR_PAIRS - 1) {
            init_pair((short)(i + 1), map[i].fg, map[i].bg);
            pairs[i] = (short)(i + 1);
        }
    }
}

static void blit(const canvas *cv)
{
    for (int y = 0; y < cv->h && y < LINES; y++) {
        for (int x = 0; x < cv->w && x < COLS; x++) {
            const cell *c = &cv->cells[y * cv->w + x];
            if (c->ch == 0)
                continue; /* right half of a wide character */
            wchar_t wc[2] = {c->ch, 0};
            cchar_t cc;
            int at = c->attr < AT_COUNT ? c->attr : AT_NORMAL;
            setcchar(&cc, wc, attrs[at], pairs[at], NULL);
            mvadd_wch(y, x, &cc); /* the bottom-right cell reports an error: harmless */
        }
    }
}

int tui_run(app *a)
{
    if (!initscr()) {
        fprintf(stderr, "weft console: cannot initialise the terminal\n");
        return 1;
    }
    cbreak();
    noecho();
    keypad(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    timeout(FRAME_MS);
    setup_colours();
    canvas cv = {0};
    bool running = true;
    while (running) {
        app_update(a, FRAME_BUDGET_MS);
        if (cv.w != COLS || cv.h != LINES) {
            canvas_free(&cv);
            if (!canvas_init(&cv, COLS > 0 ? COLS : 1, LINES > 0 ? LINES : 1, a->ascii))
                break;
            clear();
        }
        app_render(a, &cv);
        blit(&cv);
        refresh();
        int key = getch();
        while (key != ERR && running) {
            if (key != KEY_RESIZE)
                running = app_key(a, key);
            if (!running)
                break;
            /* Render between keys only when more are queued (pasted input, key repeat). */
            timeout(0);
            key = getch();
        }
        timeout(FRAME_MS);
    }
    canvas_free(&cv);
    endwin();
    return 0;
}
