/* runtime/net/stream.h - what tcp.c and unix.c share: a connected stream socket as a
 * weft_io_stream, its split halves, and the connect and accept machinery.
 *
 * Layout of a stream (one allocation; the backend's socket is a second one):
 *
 *     weft__stream ─┬─ io          the whole stream's weft_io_stream (first member)
 *                   ├─ read_half   weft_io_stream handed out by split (read side only)
 *                   ├─ write_half  weft_io_stream handed out by split (write side only)
 *                   └─ sock ──────▶ weft__net_sock of the backend
 *
 * refs counts the owners of the allocation: 1 (the stream) before a split, 2 (the halves)
 * after; the socket is closed and the memory freed when it reaches 0.
 */
#ifndef WEFT_NET_STREAM_H
#define WEFT_NET_STREAM_H

#include "backend.h"

typedef struct weft__stream {
    weft_io_stream io;          /* [fixed] must be first: the stream is its io */
    weft_io_stream read_half;   /* [fixed] */
    weft_io_stream write_half;  /* [fixed] */
    weft__net_sock *sock;       /* [fixed] */
    _Atomic int refs;           /* owners, see above */
    bool split;                 /* [owner] halves handed out: the whole stream is gone */
    bool read_waiting;          /* [reading task] a read wait is reported to the tools */
    bool write_waiting;         /* [writing task] a write wait is reported */
} weft__stream;

struct weft_tcp_stream {
    weft__stream s;
};

struct weft_unix_stream {
    weft__stream s;
};

/* Wrap a connected socket; takes it (closes it on failure). NULL on allocation failure. */
weft__stream *weft__stream_new(weft__net_sock *sock);
/* Close a stream that was not split. */
void weft__stream_close(weft__stream *s);
int weft__stream_split(weft__stream *s, weft_io_stream **rd, weft_io_stream **wr);

/* The connect machinery shared by TCP (with a timeout) and Unix connects. */
typedef struct weft__connecting {
    const weft_sockaddr *addr;
    weft__sock_kind kind;
    weft_location where;
    weft__net_sock **sock;
    uint8_t *state;             /* 0 start, 1 connecting, 2 done */
    weft_sleep *timer;          /* NULL: no timeout */
    bool *timer_on;
    weft__stream **stream;
    int *status;
} weft__connecting;

weft_poll weft__connect_poll(const weft__connecting *c, weft_context *cx);
void weft__connect_drop(const weft__connecting *c);

/* Accept on a listener: READY with *stream or *status. `waiting` tracks the tools' report. */
weft_poll weft__accept_poll(weft__net_sock *l, weft_context *cx, weft_location where,
                            bool *waiting, weft__stream **stream, weft_sockaddr *peer,
                            int *status);
void weft__accept_drop(weft__net_sock *l, bool *waiting);

#endif
