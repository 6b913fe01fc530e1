/* instrument/events.c - the descriptors of the event table (events.h), and the compile-time
 * checks that keep every row within the record format.
 *
 * Generic consumers (the ring decoder, the LTTng provider's generator, the recorder's schema,
 * the exporters, the book's reference page) walk weft_event_descs instead of knowing each
 * event by name.
 *
 * Field offsets: a field macro cannot name the struct of its row, so the offsets are computed
 * once, before main, with the rule C applies to a struct of naturally aligned scalars (each
 * field at the next multiple of its size); test_events checks them against offsetof.
 */
#include <stdbool.h>
#include <stddef.h>

#include "events.h"

/* Every row fits the record format. */
#define WEFT__CHECK_ROW(name, id, flags, doc, fields)                                      \
    _Static_assert((id) > 0 && (id) < WEFT_EV_ID_LIMIT, "event id out of range: " #name);  \
    _Static_assert(sizeof(weft_ev_##name) <= WEFT_EV_MAX_PAYLOAD,                          \
                   "payload too large: " #name);
WEFT_EVENTS(WEFT__CHECK_ROW, WEFT__EV_NOFIELD)
#undef WEFT__CHECK_ROW

#define WEFT__DESC_FIELD(t, n) {#n, WEFT__FT_ENUM(t), 0, (uint16_t)sizeof(WEFT__REC_T(t))},
#define WEFT__DESC_ROW(name, id, flags, doc, fields)                                        \
    {#name,                                                                                  \
     doc,                                                                                    \
     id,                                                                                     \
     flags,                                                                                  \
     (uint16_t)sizeof(weft_ev_##name),                                                       \
     (uint16_t)(sizeof((weft_ev_field[]){fields}) / sizeof(weft_ev_field)),                  \
     {fields}},

static weft_event_desc descs[] = {WEFT_EVENTS(WEFT__DESC_ROW, WEFT__DESC_FIELD)};

const weft_event_desc *const weft_event_descs = descs;
const unsigned weft_event_count = sizeof descs / sizeof descs[0];

/* id -> index in descs + 1 (0: not an event). */
static unsigned char by_id[WEFT_EV_ID_LIMIT];

__attribute__((constructor)) static void events_init(void)
{
    for (unsigned i = 0; i < sizeof descs / sizeof descs[0]; i++) {
        weft_event_desc *d = &descs[i];
        unsigned off = 0;
        for (unsigned f = 0; f < d->nfields; f++) {
            unsigned sz = d->fields[f].size;
            off = (off + sz - 1) / sz * sz;
            d->fields[f].offset = (uint16_t)off;
            off += sz;
        }
        by_id[d->id] = (unsigned char)(i + 1);
    }
}

const weft_event_desc *weft_event_desc_of(unsigned id)
{
    if (id >= WEFT_EV_ID_LIMIT || by_id[id] == 0)
        return NULL;
    return &descs[by_id[id] - 1];
}
