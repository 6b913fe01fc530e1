/* replay/simnet/simnet.h - how the runtime reaches the simulated network.
 *
 * Two callers only: weft__net_init (runtime/net/net.c) picks the simulated network for a
 * runtime driven by the deterministic scheduler, and the scheduler (det_sched.c) lets go of
 * it when it is freed. Everything else goes through the backend (runtime/net/backend.h).
 */
#ifndef WEFT_SIMNET_SEAM_H
#define WEFT_SIMNET_SEAM_H

#include "rt_int.h"

struct weft__simnet;

/* Create rt's simulated network and make it rt's backend (rt->det must be set): 0,
 * WEFT_ENOMEM, or WEFT_EINVAL for a malformed WEFT_SIMNET (the reason went to stderr). */
int weft__simnet_init(weft_runtime *rt);

/* The scheduler lets go of its network (NULL is fine). Sockets still open keep it alive
 * until they are closed. */
void weft__simnet_release(struct weft__simnet *net);

#endif
