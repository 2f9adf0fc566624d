/*  idmap — a zhashx keyed by integers without formatting them as text: node ids
    (int32, folded into a never-NULL pointer value by idmap_key) or any other
    integer that is never 0, such as request ids, cast to a pointer. */
#ifndef MQTREE_IDMAP_H
#define MQTREE_IDMAP_H

#include <czmq.h>
#include <stdint.h>

//  A new map whose keys are pointer values, hashed and compared as integers;
//  values are not owned unless the caller sets a destructor.
zhashx_t *idmap_new(void);

static inline void *idmap_key(int32_t id)
{
    return (void *)(uintptr_t)((1ULL << 32) | (uint32_t)id);
}

//  A request id as a key: ids start at 1, so a key is never NULL (callers check 0).
static inline void *idmap_request_key(uint64_t request_id)
{
    return (void *)(uintptr_t)request_id;
}

static inline int32_t idmap_id(const void *key)
{
    return (int32_t)(uint32_t)(uintptr_t)key;
}

#endif
