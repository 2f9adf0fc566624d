/*  requests — in-flight request table with deadline order (see requests.h). */
#include "requests.h"

#include <czmq.h>

#include "../common/idmap.h"
#include "../common/wire.h"

struct _requests_t {
    zhashx_t *by_id;       //  id (as the key pointer's value) -> request_t
    zlistx_t *by_deadline; //  request_t *, ascending deadline
    zhashx_t *per_target;  //  target node id -> requests in flight to it (as a pointer)
    size_t per_kind[REQUESTS_KINDS]; //  requests in flight of each kind
    uint64_t last_id;
};

static int s_compare_deadlines(const void *a, const void *b)
{
    int64_t left = ((const request_t *)a)->deadline_us;
    int64_t right = ((const request_t *)b)->deadline_us;
    return (left > right) - (left < right);
}

requests_t *requests_new(void)
{
    requests_t *self = (requests_t *)zmalloc(sizeof(requests_t));
    self->by_id = idmap_new();
    self->by_deadline = zlistx_new();
    self->per_target = idmap_new();
    zlistx_set_comparator(self->by_deadline, s_compare_deadlines);
    return self;
}

void requests_destroy(requests_t **self_p)
{
    requests_t *self = *self_p;
    if (!self)
        return;
    request_t *request;
    while ((request = (request_t *)zlistx_first(self->by_deadline)))
        requests_remove(self, request);
    zhashx_destroy(&self->by_id);
    zlistx_destroy(&self->by_deadline);
    zhashx_destroy(&self->per_target);
    free(self);
    *self_p = NULL;
}

//  Ids start at 1, so as pointers they are never NULL; no text, no allocation.
static void *s_key(uint64_t id)
{
    return (void *)(uintptr_t)id;
}

request_t *requests_add(requests_t *self, int kind, uint64_t seq, int32_t node,
                        int32_t target, int64_t deadline_us)
{
    request_t *request = (request_t *)zmalloc(sizeof(request_t));
    request->id = ++self->last_id;
    request->seq = seq;
    request->kind = kind;
    request->node = node;
    request->target = target;
    request->deadline_us = deadline_us;
    //  Deadlines mostly grow with time, so the sorted insert scans from the tail.
    request->handle = zlistx_insert(self->by_deadline, request, false);
    zhashx_insert(self->by_id, s_key(request->id), request);
    void *key = idmap_key(target);
    uintptr_t count = (uintptr_t)zhashx_lookup(self->per_target, key);
    zhashx_update(self->per_target, key, (void *)(count + 1));
    if (kind >= 0 && kind < REQUESTS_KINDS)
        self->per_kind[kind]++;
    return request;
}

void request_end(request_t *request, void *arg, int status, const char *text)
{
    const request_behaviour_t *behaviour = request->behaviour;
    if (status == REQUEST_TIMED_OUT)
        behaviour->on_timeout(arg, request);
    else if (status == WIRE_OK || status == WIRE_ERROR)
        behaviour->on_reply(arg, request, status, text);
    else
        behaviour->on_unavailable(arg, request);
}

request_t *requests_find(requests_t *self, uint64_t id)
{
    //  0 is "no request" (a child with no create to answer, a foreign reply): it
    //  would be the NULL key, which zhashx asserts on.
    if (id == 0)
        return NULL;
    return (request_t *)zhashx_lookup(self->by_id, s_key(id));
}

void requests_remove(requests_t *self, request_t *request)
{
    zhashx_delete(self->by_id, s_key(request->id));
    zlistx_delete(self->by_deadline, request->handle);
    void *key = idmap_key(request->target);
    uintptr_t count = (uintptr_t)zhashx_lookup(self->per_target, key);
    if (count > 1)
        zhashx_update(self->per_target, key, (void *)(count - 1));
    else
        zhashx_delete(self->per_target, key);
    if (request->kind >= 0 && request->kind < REQUESTS_KINDS)
        self->per_kind[request->kind]--;
    free(request);
}

size_t requests_in_flight(requests_t *self, int32_t target)
{
    return (size_t)(uintptr_t)zhashx_lookup(self->per_target, idmap_key(target));
}

size_t requests_of_kind(requests_t *self, int kind)
{
    return kind >= 0 && kind < REQUESTS_KINDS ? self->per_kind[kind] : 0;
}

size_t requests_size(requests_t *self)
{
    return zhashx_size(self->by_id);
}

int64_t requests_next_deadline(requests_t *self)
{
    request_t *first = (request_t *)zlistx_first(self->by_deadline);
    return first ? first->deadline_us : -1;
}

request_t *requests_expired(requests_t *self, int64_t now)
{
    request_t *first = (request_t *)zlistx_first(self->by_deadline);
    return first && first->deadline_us <= now ? first : NULL;
}

zlist_t *requests_snapshot(requests_t *self)
{
    zlist_t *list = zlist_new();
    for (request_t *request = (request_t *)zlistx_first(self->by_deadline); request;
         request = (request_t *)zlistx_next(self->by_deadline))
        zlist_append(list, request);
    return list;
}
