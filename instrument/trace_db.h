/* instrument/trace_db.h - what trace_db.c offers besides reader.h: opening a trace database
 * held in memory (the fuzz target feeds it arbitrary bytes this way, with no file I/O).
 */
#ifndef WEFT_INSTRUMENT_TRACE_DB_H
#define WEFT_INSTRUMENT_TRACE_DB_H

#include <stddef.h>

#include "reader.h"

/* Like weft_reader_open_trace, reading the `size` bytes at `data` (copied) as the file. */
int weft__trace_db_open_mem(const void *data, size_t size, weft_reader **out);

#endif
