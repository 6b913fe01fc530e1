/* runtime/builder.c - the runtime builder's defaults (Tokio's runtime::Builder). */
#include "rt_int.h"

static weft_builder defaults(weft_flavor flavor)
{
    return (weft_builder){
        .flavor = flavor,
        .worker_threads = 0,
        .thread_name = "weft-worker",
        .thread_stack_size = 0,
        .max_blocking_threads = 512,
        .thread_keep_alive_ms = 10000,
        .on_thread_start = NULL,
        .on_thread_stop = NULL,
        .hook_arg = NULL,
        .enable_time = true,
        .enable_io = false,
        .event_interval = 61,
    };
}

weft_builder weft_builder_new_current_thread(void)
{
    return defaults(WEFT_CURRENT_THREAD);
}

weft_builder weft_builder_new_multi_thread(void)
{
    return defaults(WEFT_MULTI_THREAD);
}
