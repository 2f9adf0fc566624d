/*  requests — the requests in flight (see requests.h): owns their ids, the table by
    id, the deadline order, the counts per target and kind, and dispatch by outcome. */
#include "requests.h"
#include <assert.h>

#include <czmq.h>

#include "../common/idmap.h"
#include "../common/wire.h"
#include "../common/mem.h"

//  Requests by id: open addressing over a power-of-two table kept at most half full,
//  probed linearly from the id's Fibonacci hash (ids come in sequence: as their own
//  hash they would make one long run, which every removal walks); a removal moves
//  the entries after it back into place (no tombstones). No allocation per request,
//  unlike a zhashx item.
typedef struct {
    request_t **slots; //  NULL: free
    size_t mask;
    size_t count;
} by_id_t;

static size_t s_home(const by_id_t *table, uint64_t id)
{
    return (size_t)((id * 11400714819323198485ULL) >> 32) & table->mask;
}

static request_t **s_by_id_slot(by_id_t *table, uint64_t id)
{
    size_t at = s_home(table, id);
    while (table->slots[at] && table->slots[at]->id != id)
        at = (at + 1) & table->mask;
    return &table->slots[at];
}

static void s_by_id_grow(by_id_t *table, size_t size)
{
    by_id_t grown = {(request_t **)mem_calloc(size, sizeof(request_t *)), size - 1, 0};
    for (size_t at = 0; table->slots && at <= table->mask; at++)
        if (table->slots[at])
            *s_by_id_slot(&grown, table->slots[at]->id) = table->slots[at];
    grown.count = table->count;
    free(table->slots);
    *table = grown;
}

static void s_by_id_insert(by_id_t *table, request_t *request)
{
    if ((table->count + 1) * 2 > table->mask + 1)
        s_by_id_grow(table, (table->mask + 1) * 2);
    *s_by_id_slot(table, request->id) = request;
    table->count++;
}

static void s_by_id_delete(by_id_t *table, uint64_t id)
{
    request_t **slot = s_by_id_slot(table, id);
    if (!*slot)
        return;
    size_t hole = (size_t)(slot - table->slots);
    table->slots[hole] = NULL;
    table->count--;
    //  Entries after the hole whose probe passed through it move back into it.
    for (size_t at = (hole + 1) & table->mask; table->slots[at];
         at = (at + 1) & table->mask) {
        size_t home = s_home(table, table->slots[at]->id);
        bool passes = hole <= at ? home <= hole || home > at : home <= hole && home > at;
        if (passes) {
            table->slots[hole] = table->slots[at];
            table->slots[at] = NULL;
            hole = at;
        }
    }
}

struct _requests_t {
    by_id_t by_id;
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
    s_by_id_grow(&self->by_id, 64);
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
    free(self->by_id.slots);
    zlistx_destroy(&self->by_deadline);
    zhashx_destroy(&self->per_target);
    free(self);
    *self_p = NULL;
}

request_t *requests_add(requests_t *self, int kind, uint64_t seq, int32_t node,
                        int32_t target, int64_t deadline_us)
{
    //  malloc, not zmalloc: glibc's calloc never takes from the per-thread cache.
    request_t *request = (request_t *)mem_alloc(sizeof(request_t));
    *request = (request_t){.id = ++self->last_id,
                           .seq = seq,
                           .kind = kind,
                           .node = node,
                           .target = target,
                           .deadline_us = deadline_us};
    //  Deadlines mostly grow with time, so the sorted insert scans from the tail.
    request->handle = zlistx_insert(self->by_deadline, request, false);
    s_by_id_insert(&self->by_id, request);
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

void request_made(request_t *request, void *arg, int32_t pid, const char *endpoint)
{
    assert(request->behaviour->on_made);
    request->behaviour->on_made(arg, request, pid, endpoint);
}

request_t *requests_find(requests_t *self, uint64_t id)
{
    //  0 is "no request" (a child with no create to answer, a foreign reply).
    if (id == 0)
        return NULL;
    return *s_by_id_slot(&self->by_id, id);
}

void requests_remove(requests_t *self, request_t *request)
{
    s_by_id_delete(&self->by_id, request->id);
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
    return self->by_id.count;
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
