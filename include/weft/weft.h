/* weft/weft.h - the umbrella header: everything a weft program uses. */
#ifndef WEFT_H
#define WEFT_H

#include <weft/error.h>
#include <weft/future.h>
#include <weft/runtime.h>
#include <weft/task.h>
#include <weft/resource.h>
#include <weft/time.h>

/* sync: notify, barrier, cancellation token; combinators */
#include <weft/notify.h>
#include <weft/barrier.h>
#include <weft/cancel.h>
#include <weft/select.h>

/* sync: semaphore, mutex, rwlock, blocking mutex */
#include <weft/semaphore.h>
#include <weft/mutex.h>
#include <weft/rwlock.h>
#include <weft/blocking_mutex.h>

/* channels: mpsc, oneshot, broadcast, watch */
#include <weft/mpsc.h>
#include <weft/oneshot.h>
#include <weft/broadcast.h>
#include <weft/watch.h>

/* I/O: the stream interface, buffered streams, codecs, files; sockets and signals */
#include <weft/io.h>
#include <weft/io_buf.h>
#include <weft/codec.h>
#include <weft/fs.h>
#include <weft/net.h>
#include <weft/signal.h>

/* the deterministic scheduler and its simulated network; runtime metrics */
#include <weft/sched.h>
#include <weft/simnet.h>
#include <weft/metrics.h>

#endif
