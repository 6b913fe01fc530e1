/* docs/book/gen_events.c - prints the book's event reference from the event table.
 *
 *     book_gen_events > events.txt
 *
 * instrument/events.h declares every event once, as a row of the X-macro table WEFT_EVENTS.
 * This program expands that table into the Markdown table that reference.md shows between
 * its `<!-- begin events -->` and `<!-- end events -->` markers. It needs nothing but the
 * header (no library), so that the book's reference is produced from the same row that
 * produces the ring record, the LTTng tracepoint and the SQLite column. The test
 * tests/book/test_book_reference.sh runs it and fails when the page and the table differ;
 * the fix is to paste this program's output into the page.
 */
#include <stdio.h>
#include <string.h>

#include "../../instrument/events.h"

/* Each field as " name (type)", concatenated at compile time into one string per event. */
#define FIELD_TEXT(type, name) ", `" #name "` " #type

typedef struct row {
    const char *name;
    unsigned id;
    unsigned flags;
    const char *doc;
    const char *fields; /* starts with ", " */
} row;

static const row rows[] = {
#define ROW(name, id, flags, doc, fields) {#name, id, flags, doc, "" fields},
    WEFT_EVENTS(ROW, FIELD_TEXT)
#undef ROW
};

/* Markdown table cells may not hold a bare '|'. */
static void put_cell(const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", stdout);
        else
            putchar(*s);
    }
}

int main(void)
{
    puts("| id | event | fields | what it reports |");
    puts("|---:|---|---|---|");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const row *r = &rows[i];
        printf("| %u | `%s`", r->id, r->name);
        if (r->flags & WEFT_EVF_META)
            fputs(" (meta)", stdout);
        if (r->flags & WEFT_EVF_SNAPSHOT)
            fputs(" (snapshot)", stdout);
        if (r->flags & WEFT_EVF_RING)
            fputs(" (ring only)", stdout);
        fputs(" | ", stdout);
        put_cell(strlen(r->fields) > 2 ? r->fields + 2 : r->fields);
        fputs(" | ", stdout);
        put_cell(r->doc);
        puts(" |");
    }
    return ferror(stdout) ? 1 : 0;
}
