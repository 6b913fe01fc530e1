/* runtime/task/coop.c - the cooperative budget (see weft_coop_proceed in weft/task.h).
 *
 * The budget lives in the thread context: the scheduler sets it to WEFT_COOP_BUDGET before each
 * task poll (weft__coop_begin) and to -1 after. Leaf futures spend one unit per ready
 * operation. When it runs out the task is woken by reference, so it goes to the back of the run
 * queue, and the leaf returns PENDING: the task yields without knowing it.
 */
#include "../rt_int.h"

_Thread_local weft__thread_ctx weft__tls = {.budget = -1};

#undef weft_coop_proceed /* rt_int.h's inline alias: here the exported function is defined */

bool weft_coop_proceed(weft_context *cx)
{
    return weft__coop_proceed_inline(cx);
}

int weft_coop_remaining(void)
{
    return weft__tls.budget;
}
