/*  pingall — the controller's pingalls in flight, and who did not answer (see
    pingall.h). */
#include "pingall.h"

#include "../common/idmap.h"
#include "../common/nodeset.h"
#include "../node/fold.h"

typedef struct {
    zchunk_t *asked;     //  int32_t ids, the tree's nodes when it was sent
    nodeset_t *answered; //  the ids that answered
} pingall_t;

struct _pingalls_t {
    zhashx_t *table; //  request id -> pingall_t
};

static void s_pingall_destroy(pingall_t **self_p)
{
    pingall_t *self = *self_p;
    if (!self)
        return;
    zchunk_destroy(&self->asked);
    nodeset_destroy(&self->answered);
    free(self);
    *self_p = NULL;
}

pingalls_t *pingalls_new(void)
{
    pingalls_t *self = (pingalls_t *)zmalloc(sizeof(pingalls_t));
    self->table = idmap_new();
    zhashx_set_destructor(self->table, (zhashx_destructor_fn *)s_pingall_destroy);
    return self;
}

void pingalls_destroy(pingalls_t **self_p)
{
    pingalls_t *self = *self_p;
    if (!self)
        return;
    zhashx_destroy(&self->table);
    free(self);
    *self_p = NULL;
}

void pingalls_start(pingalls_t *self, uint64_t request_id, const int32_t *ids,
                    size_t count)
{
    assert(request_id);
    pingall_t *pingall = (pingall_t *)zmalloc(sizeof(pingall_t));
    pingall->asked = zchunk_new(ids, count * sizeof(int32_t));
    pingall->answered = nodeset_new();
    zhashx_update(self->table, idmap_request_key(request_id), pingall);
}

int pingalls_answer(pingalls_t *self, uint64_t request_id, const byte *answer,
                    size_t size)
{
    pingall_t *pingall =
        request_id
            ? (pingall_t *)zhashx_lookup(self->table, idmap_request_key(request_id))
            : NULL;
    const char *reason;
    fold_t *fold = pingall ? fold_decode(answer, size, &reason) : NULL;
    if (!fold)
        return -1;
    nodeset_merge(pingall->answered, fold_ids(fold));
    fold_destroy(&fold);
    return 0;
}

static int s_compare_ids(const void *a, const void *b)
{
    int32_t left = *(const int32_t *)a, right = *(const int32_t *)b;
    return (left > right) - (left < right);
}

int32_t *pingalls_end(pingalls_t *self, uint64_t request_id, size_t *count)
{
    pingall_t *pingall =
        request_id
            ? (pingall_t *)zhashx_lookup(self->table, idmap_request_key(request_id))
            : NULL;
    size_t asked = pingall ? zchunk_size(pingall->asked) / sizeof(int32_t) : 0;
    int32_t *missing = (int32_t *)malloc((asked + 1) * sizeof(int32_t));
    assert(missing);
    *count = 0;
    for (size_t i = 0; i < asked; i++) {
        int32_t id = ((const int32_t *)zchunk_data(pingall->asked))[i];
        if (!nodeset_contains(pingall->answered, id))
            missing[(*count)++] = id;
    }
    qsort(missing, *count, sizeof(int32_t), s_compare_ids);
    if (pingall)
        zhashx_delete(self->table, idmap_request_key(request_id));
    return missing;
}
