/*  fanout — gathering the answers of a node's children (see fanout.h). */
#include "fanout.h"

#include "idmap.h"
#include "wire.h"

//  The most a level keeps for itself: a reply's hop up takes well under a
//  millisecond; 10 ms covers a loaded machine.
#define MARGIN_MAX_MS 10
#define MARGIN_MIN_MS 1

fanout_t *fanout_new(uint64_t request_id, int64_t deadline_ms)
{
    fanout_t *self = (fanout_t *)zmalloc(sizeof(fanout_t));
    self->request_id = request_id;
    self->deadline_ms = deadline_ms;
    self->waiting = zlistx_new();
    self->ids = zchunk_new(NULL, 64);
    return self;
}

void fanout_destroy(fanout_t **self_p)
{
    fanout_t *self = *self_p;
    if (!self)
        return;
    zlistx_destroy(&self->waiting);
    zchunk_destroy(&self->ids);
    free(self);
    *self_p = NULL;
}

void fanout_expect(fanout_t *self, int32_t child)
{
    zlistx_add_end(self->waiting, idmap_key(child));
}

void fanout_add_id(fanout_t *self, int32_t id)
{
    byte encoded[4];
    wire_put_u32(encoded, (uint32_t)id);
    zchunk_extend(self->ids, encoded, 4);
}

static void *s_waiting_handle(fanout_t *self, int32_t child)
{
    //  Pointers compare as the ids they carry: zlistx's default comparator would
    //  compare them as strings.
    for (void *item = zlistx_first(self->waiting); item;
         item = zlistx_next(self->waiting))
        if (idmap_id(item) == child)
            return zlistx_cursor(self->waiting);
    return NULL;
}

bool fanout_answer(fanout_t *self, int32_t child, const byte *ids, size_t size)
{
    void *handle = s_waiting_handle(self, child);
    if (!handle || size % 4 != 0)
        return false;
    zlistx_delete(self->waiting, handle);
    zchunk_extend(self->ids, ids, size);
    return true;
}

bool fanout_forget(fanout_t *self, int32_t child)
{
    void *handle = s_waiting_handle(self, child);
    if (handle)
        zlistx_delete(self->waiting, handle);
    return handle != NULL;
}

bool fanout_done(fanout_t *self)
{
    return zlistx_size(self->waiting) == 0;
}

int64_t fanout_child_deadline(int64_t deadline_ms, int64_t now_ms)
{
    int64_t left = deadline_ms - now_ms;
    int64_t margin = left / 16;
    if (margin > MARGIN_MAX_MS)
        margin = MARGIN_MAX_MS;
    if (margin < MARGIN_MIN_MS)
        margin = MARGIN_MIN_MS;
    return deadline_ms - margin;
}
