/* console/canvas.h - a grid of wide characters with attributes that every view draws into.
 *
 * The views never call ncurses: they write text into a canvas, and then either the TUI copies
 * it to the screen (tui.c) or snapshot mode prints it as plain UTF-8 text (snapshot.c). So a
 * snapshot shows exactly what a person sees, and views are testable without a terminal.
 *
 * Text goes in as UTF-8 and is clipped at the right edge; a character that takes two columns
 * (wcwidth) takes two cells, the second holding WEOF-like 0. With `ascii` set, the views ask
 * for ASCII stand-ins of their line-drawing glyphs (canvas_glyph).
 */
#ifndef WEFT_CONSOLE_CANVAS_H
#define WEFT_CONSOLE_CANVAS_H

#include <stdbool.h>
#include <stdio.h>
#include <wchar.h>

/* Attributes: what a cell means; the TUI maps them to colours and styles. */
enum {
    AT_NORMAL = 0,
    AT_TITLE,    /* header bar */
    AT_HEAD,     /* column headings */
    AT_SELECTED, /* the selected row */
    AT_WARN,     /* a warning */
    AT_ERROR,    /* a deadlock, a crash */
    AT_DIM,      /* done tasks, secondary text */
    AT_GOOD,     /* running */
    AT_ACCENT,   /* keys in help, the cursor */
    AT_COUNT
};

typedef struct cell {
    wchar_t ch;   /* 0: the right half of a wide character */
    unsigned char attr;
} cell;

typedef struct canvas {
    int w, h;
    cell *cells;
    bool ascii;
    int rows_used; /* 1 + the last row written */
} canvas;

bool canvas_init(canvas *cv, int w, int h, bool ascii);
void canvas_free(canvas *cv);
void canvas_clear(canvas *cv);

/* Write UTF-8 text at (y, x), clipped to the canvas and to `maxw` columns (-1: to the edge).
 * Returns the columns written. */
int canvas_text(canvas *cv, int y, int x, int attr, int maxw, const char *utf8);
int canvas_printf(canvas *cv, int y, int x, int attr, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Set the attribute of a whole row (selection bar) from column x to the end. */
void canvas_row_attr(canvas *cv, int y, int x, int attr);
/* A glyph: `uni` (UTF-8) or, on an ASCII canvas, `ascii`. */
const char *canvas_glyph(const canvas *cv, const char *uni, const char *ascii);
/* Columns the UTF-8 text takes. */
int text_width(const char *utf8);

/* Print rows [0, rows_used) as UTF-8 lines with trailing blanks removed. */
void canvas_print(const canvas *cv, FILE *out);

#endif
