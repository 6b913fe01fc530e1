/* console/idmap.h - a hash map from 64-bit ids (task, resource) to array indices.
 *
 * Open addressing with linear probing and backward-shift deletion (no tombstones), so lookups
 * stay short however many tasks come and go. Keys are never 0 (weft ids start at 1). The
 * model keeps its objects in dense arrays and this map says where each id is.
 */
#ifndef WEFT_CONSOLE_IDMAP_H
#define WEFT_CONSOLE_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct idmap idmap;

idmap *idmap_new(void);
void idmap_free(idmap *m);
/* Index of id, or -1. */
long idmap_get(const idmap *m, uint64_t id);
/* Set id -> index (insert or replace). false on out of memory. */
bool idmap_put(idmap *m, uint64_t id, size_t index);
void idmap_del(idmap *m, uint64_t id);

#endif
