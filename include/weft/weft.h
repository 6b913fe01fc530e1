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

#endif
