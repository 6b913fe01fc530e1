/* console/canvas.c - see canvas.h. */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "canvas.h"

bool canvas_init(canvas *cv, int w, int h, bool ascii)
{
    memset(cv, 0, sizeof *cv);
    if (w < 1 || h < 1)
        return false;
    cv->cells = calloc((size_t)w * (size_t)h, sizeof *cv->cells);
    if (!cv->cells)
        return false;
    cv->w = w;
    cv->h = h;
    cv->ascii = ascii;
    canvas_clear(cv);
    return true;
}

void canvas_free(canvas *cv)
{
    free(cv->cells);
    memset(cv, 0, sizeof *cv);
}

void canvas_clear(canvas *cv)
{
    for (int i = 0; i < cv->w * cv->h; i++)
        cv->cells[i] = (cell){L' ', AT_NORMAL};
    cv->rows_used = 0;
}

/* Decode one UTF-8 sequence; invalid bytes become U+FFFD (or '?'). */
static wchar_t next_char(const unsigned char **p)
{
    const unsigned char *s = *p;
    unsigned c = s[0];
    int n = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : -1;
    if (n < 0) {
        *p = s + 1;
        return L'?';
    }
    unsigned v = n == 0 ? c : n == 1 ? c & 0x1f : n == 2 ? c & 0x0f : c & 0x07;
    for (int i = 1; i <= n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            *p = s + i;
            return L'?';
        }
        v = (v << 6) | (s[i] & 0x3f);
    }
    *p = s + n + 1;
    return (wchar_t)v;
}

static int char_width(wchar_t c)
{
    if (c < 0x20 || c == 0x7f)
        return 0;
    int w = wcwidth(c);
    return w < 0 ? 1 : w;
}

int text_width(const char *utf8)
{
    const unsigned char *p = (const unsigned char *)utf8;
    int w = 0;
    while (*p)
        w += char_width(next_char(&p));
    return w;
}

int canvas_text(canvas *cv, int y, int x, int attr, int maxw, const char *utf8)
{
    if (y < 0 || y >= cv->h || x >= cv->w || !utf8)
        return 0;
    int limit = cv->w;
    if (maxw >= 0 && x + maxw < limit)
        limit = x + maxw;
    const unsigned char *p = (const unsigned char *)utf8;
    int col = x;
    while (*p) {
        wchar_t c = next_char(&p);
        if (c == L'\t')
            c = L' ';
        int cw = char_width(c);
        if (cw == 0)
            continue;
        if (cv->ascii && c > 0x7e)
            c = L'?', cw = 1;
        if (col + cw > limit)
            break;
        if (col >= 0) {
            cell *ce = &cv->cells[y * cv->w + col];
            ce->ch = c;
            ce->attr = (unsigned char)attr;
            if (cw == 2) {
                ce[1].ch = 0;
                ce[1].attr = (unsigned char)attr;
            }
        }
        col += cw;
    }
    if (col > x && y + 1 > cv->rows_used)
        cv->rows_used = y + 1;
    return col - x;
}

int canvas_printf(canvas *cv, int y, int x, int attr, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return canvas_text(cv, y, x, attr, -1, buf);
}

void canvas_row_attr(canvas *cv, int y, int x, int attr)
{
    if (y < 0 || y >= cv->h)
        return;
    for (int i = x < 0 ? 0 : x; i < cv->w; i++)
        cv->cells[y * cv->w + i].attr = (unsigned char)attr;
    if (y + 1 > cv->rows_used)
        cv->rows_used = y + 1;
}

const char *canvas_glyph(const canvas *cv, const char *uni, const char *ascii)
{
    return cv->ascii ? ascii : uni;
}

static void put_utf8(FILE *out, wchar_t c)
{
    unsigned v = (unsigned)c;
    if (v < 0x80) {
        fputc((int)v, out);
    } else if (v < 0x800) {
        fputc((int)(0xc0 | (v >> 6)), out);
        fputc((int)(0x80 | (v & 0x3f)), out);
    } else if (v < 0x10000) {
        fputc((int)(0xe0 | (v >> 12)), out);
        fputc((int)(0x80 | ((v >> 6) & 0x3f)), out);
        fputc((int)(0x80 | (v & 0x3f)), out);
    } else {
        fputc((int)(0xf0 | (v >> 18)), out);
        fputc((int)(0x80 | ((v >> 12) & 0x3f)), out);
        fputc((int)(0x80 | ((v >> 6) & 0x3f)), out);
        fputc((int)(0x80 | (v & 0x3f)), out);
    }
}

void canvas_print(const canvas *cv, FILE *out)
{
    for (int y = 0; y < cv->rows_used; y++) {
        const cell *row = &cv->cells[y * cv->w];
        int end = cv->w;
        while (end > 0 && (row[end - 1].ch == L' '))
            end--;
        for (int x = 0; x < end; x++)
            if (row[x].ch)
                put_utf8(out, row[x].ch);
        fputc('\n', out);
    }
}
