/*  idmap — a zhashx keyed by node id (int32) without formatting ids as text.
    Keys are the id folded into a never-NULL pointer value. */
#ifndef MQTREE_IDMAP_H
#define MQTREE_IDMAP_H

#include <czmq.h>
#include <stdint.h>

//  A new map; values are not owned unless the caller sets a destructor.
zhashx_t *idmap_new(void);

static inline void *idmap_key(int32_t id)
{
    return (void *)(uintptr_t)((1ULL << 32) | (uint32_t)id);
}

static inline int32_t idmap_id(const void *key)
{
    return (int32_t)(uint32_t)(uintptr_t)key;
}

#endif
