/* console/tui.h - the interactive front end (ncurses, wide-character build). */
#ifndef WEFT_CONSOLE_TUI_H
#define WEFT_CONSOLE_TUI_H

#include "app.h"

/* Run the console on the terminal until the user quits. The terminal is restored on return.
 * Returns 0, or 1 if the terminal could not be set up (message on stderr). */
int tui_run(app *a);

#endif
