/* weft/weft.h - the umbrella header: everything a weft program uses. */
#ifndef WEFT_H
#define WEFT_H

#include <weft/error.h>
#include <weft/future.h>
#include <weft/runtime.h>
#include <weft/task.h>
#include <weft/resource.h>
#include <weft/time.h>

#endif
