/* console/idmap.c - see idmap.h. Capacity is a power of two, kept at most half full. */
#include <stdlib.h>

#include "idmap.h"

typedef struct slot {
    uint64_t key; /* 0: empty */
    size_t val;
} slot;

struct idmap {
    slot *s;
    size_t cap, n;
};

static size_t hash(uint64_t k, size_t mask)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return (size_t)k & mask;
}

idmap *idmap_new(void)
{
    idmap *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->cap = 64;
    m->s = calloc(m->cap, sizeof *m->s);
    if (!m->s) {
        free(m);
        return NULL;
    }
    return m;
}

void idmap_free(idmap *m)
{
    if (!m)
        return;
    free(m->s);
    free(m);
}

long idmap_get(const idmap *m, uint64_t id)
{
    if (!m || id == 0)
        return -1;
    size_t mask = m->cap - 1;
    for (size_t i = hash(id, mask);; i = (i + 1) & mask) {
        if (m->s[i].key == id)
            return (long)m->s[i].val;
        if (m->s[i].key == 0)
            return -1;
    }
}

static bool grow(idmap *m)
{
    size_t ncap = m->cap * 2;
    slot *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return false;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->s[i].key)
            continue;
        size_t j = hash(m->s[i].key, ncap - 1);
        while (ns[j].key)
            j = (j + 1) & (ncap - 1);
        ns[j] = m->s[i];
    }
    free(m->s);
    m->s = ns;
    m->cap = ncap;
    return true;
}

bool idmap_put(idmap *m, uint64_t id, size_t index)
{
    if (!m || id == 0)
        return false;
    if ((m->n + 1) * 2 > m->cap && !grow(m))
        return false;
    size_t mask = m->cap - 1;
    size_t i = hash(id, mask);
    while (m->s[i].key && m->s[i].key != id)
        i = (i + 1) & mask;
    if (!m->s[i].key)
        m->n++;
    m->s[i].key = id;
    m->s[i].val = index;
    return true;
}

void idmap_del(idmap *m, uint64_t id)
{
    if (!m || id == 0)
        return;
    size_t mask = m->cap - 1;
    size_t i = hash(id, mask);
    while (m->s[i].key != id) {
        if (!m->s[i].key)
            return;
        i = (i + 1) & mask;
    }
    /* Backward-shift: move later entries of the probe run into the hole when their home
     * slot allows it, so that no lookup meets an empty slot before its key. */
    size_t hole = i;
    for (size_t j = (i + 1) & mask; m->s[j].key; j = (j + 1) & mask) {
        size_t home = hash(m->s[j].key, mask);
        bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
        if (movable) {
            m->s[hole] = m->s[j];
            hole = j;
        }
    }
    m->s[hole].key = 0;
    m->n--;
}
