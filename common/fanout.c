/*  fanout — gathering the answers of a node's children (see fanout.h). */
#include "fanout.h"

#include "idmap.h"
#include "wire.h"

fanout_t *fanout_new(uint64_t request_id, int64_t deadline_us)
{
    fanout_t *self = (fanout_t *)zmalloc(sizeof(fanout_t));
    self->request_id = request_id;
    self->deadline_us = deadline_us;
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

bool fanout_answer(fanout_t *self, int32_t child, const byte *ids, size_t size,
                   bool complete)
{
    void *handle = s_waiting_handle(self, child);
    if (!handle || size % 4 != 0)
        return false;
    if (complete)
        zlistx_delete(self->waiting, handle);
    zchunk_extend(self->ids, ids, size);
    return true;
}

void fanout_sent(fanout_t *self)
{
    zchunk_set(self->ids, NULL, 0);
    self->answered = true;
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

static int64_t s_keep(int64_t deadline_us, int64_t now_us, int64_t share)
{
    //  No deadline stays none; a passed one has nothing left to share.
    int64_t left = deadline_us - now_us;
    if (!deadline_us || left <= 0)
        return deadline_us;
    return deadline_us - left / share;
}

int64_t fanout_child_deadline(int64_t deadline_us, int64_t now_us)
{
    return s_keep(deadline_us, now_us, FANOUT_SHARE);
}

int64_t fanout_root_deadline(int64_t deadline_us, int64_t now_us)
{
    return s_keep(deadline_us, now_us, FANOUT_RESERVE);
}
