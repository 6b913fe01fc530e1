/* runtime/io/io_int.h - what the io files share and nobody else may use.
 *
 * The await location of the I/O operation in flight (weft_io_current_location): every leaf
 * future of weft/io.h, io_buf.h and codec.h brackets its calls into streams with enter/leave.
 * enter keeps an outer operation's location if one is already published (a frame_next calling
 * a buffered reader calling a socket reports the frame_next), and returns what leave restores.
 */
#ifndef WEFT_IO_INT_H
#define WEFT_IO_INT_H

#include <weft/io.h>

weft_location weft__io_enter(weft_location where);
void weft__io_leave(weft_location outer);

#endif
