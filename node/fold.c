/*  fold — answers grouped by what they say, merged level by level, and their wire
    form (see fold.h). */
#include "fold.h"

#include <czmq.h>
#include <stdlib.h>
#include <string.h>

#include "../common/numbers.h"
#include "../common/strhash.h"
#include "../common/wire.h"
#include "../common/mem.h"

typedef struct {
    uint8_t status;
    uint8_t *text;
    size_t size;
    nodeset_t *ids;
} group_t;

struct _fold_t {
    reduce_t reduce;
    group_t *groups;
    size_t count, capacity;
    //  Groups by answer: open addressing, group index + 1 (0: free), at most half full.
    size_t *index;
    size_t index_mask;
    nodeset_t *all; //  every id answered, wherever it went
    //  The reduction: the ids that gave a number, and what they make.
    nodeset_t *reduced;
    __int128 value; //  a sum of int64s: exact whatever the order (README, reductions)
    bool overflow;
    size_t limit, texts; //  the groups' texts: at most limit bytes (0: any), texts now
};

//  No answer yet.
static void s_start(fold_t *self)
{
    self->all = nodeset_new();
    self->reduced = nodeset_new();
    self->index_mask = 7;
    self->index = (size_t *)zmalloc(8 * sizeof(size_t));
}

fold_t *fold_new(reduce_t reduce)
{
    fold_t *self = (fold_t *)zmalloc(sizeof(fold_t));
    self->reduce = reduce;
    s_start(self);
    return self;
}

//  Frees the groups and their index.
static void s_free_groups(fold_t *self)
{
    for (size_t index = 0; index < self->count; index++) {
        free(self->groups[index].text);
        nodeset_destroy(&self->groups[index].ids);
    }
    free(self->groups);
    free(self->index);
}

void fold_destroy(fold_t **self_p)
{
    fold_t *self = *self_p;
    if (!self)
        return;
    s_free_groups(self);
    nodeset_destroy(&self->all);
    nodeset_destroy(&self->reduced);
    free(self);
    *self_p = NULL;
}

void fold_limit(fold_t *self, size_t bytes)
{
    self->limit = bytes;
}

void fold_clear(fold_t *self)
{
    s_free_groups(self);
    nodeset_destroy(&self->all);
    nodeset_destroy(&self->reduced);
    *self = (fold_t){.reduce = self->reduce, .limit = self->limit};
    s_start(self);
}

//  --- Groups by answer ---------------------------------------------------------------

static size_t s_hash(uint8_t status, const void *text, size_t size)
{
    return strhash_bytes(text, size) * 31 + status;
}

//  The slot of the answer in the index: its group's, or the free one it would take.
static size_t *s_slot(fold_t *self, uint8_t status, const void *text, size_t size)
{
    size_t at = s_hash(status, text, size) & self->index_mask;
    while (self->index[at]) {
        group_t *group = &self->groups[self->index[at] - 1];
        if (group->status == status && group->size == size &&
            (size == 0 || memcmp(group->text, text, size) == 0))
            break;
        at = (at + 1) & self->index_mask;
    }
    return &self->index[at];
}

static bool s_too_large(uint8_t status, const void *text, size_t size)
{
    return status == WIRE_ERROR && size == strlen(FOLD_TOO_LARGE) &&
           memcmp(text, FOLD_TOO_LARGE, size) == 0;
}

//  The group of an answer, made if it is new; FOLD_TOO_LARGE's if it is new and its
//  text would take the groups' texts past the limit.
static group_t *s_group(fold_t *self, uint8_t status, const void *text, size_t size)
{
    size_t *slot = s_slot(self, status, text, size);
    if (*slot)
        return &self->groups[*slot - 1];
    if (!s_too_large(status, text, size)) {
        if (self->limit && self->texts + size > self->limit)
            return s_group(self, WIRE_ERROR, FOLD_TOO_LARGE, strlen(FOLD_TOO_LARGE));
        self->texts += size;
    }
    if (self->count == self->capacity) {
        self->capacity = self->capacity ? self->capacity * 2 : 4;
        self->groups = (group_t *)mem_realloc(self->groups, self->capacity * sizeof(group_t));
    }
    group_t *group = &self->groups[self->count++];
    *group = (group_t){status, (uint8_t *)zmalloc(size ? size : 1), size, nodeset_new()};
    if (size)
        memcpy(group->text, text, size);
    *slot = self->count;
    if (self->count * 2 > self->index_mask + 1) {
        //  Grown: every group indexed again.
        free(self->index);
        self->index_mask = self->index_mask * 2 + 1;
        self->index = (size_t *)zmalloc((self->index_mask + 1) * sizeof(size_t));
        for (size_t index = 0; index < self->count; index++) {
            group_t *old = &self->groups[index];
            *s_slot(self, old->status, old->text, old->size) = index + 1;
        }
        group = &self->groups[self->count - 1];
    }
    return group;
}

//  --- Reductions ----------------------------------------------------------------------

static const char *const s_reduce_names[REDUCE_KINDS] = {[REDUCE_SUM] = "sum",
                                                         [REDUCE_MIN] = "min",
                                                         [REDUCE_MAX] = "max",
                                                         [REDUCE_COUNT] = "count"};

const char *fold_reduce_name(reduce_t reduce)
{
    return reduce < REDUCE_KINDS ? s_reduce_names[reduce] : NULL;
}

reduce_t fold_reduce_named(const char *word, size_t length)
{
    for (int kind = REDUCE_SUM; kind < REDUCE_KINDS; kind++)
        if (strlen(s_reduce_names[kind]) == length &&
            !memcmp(word, s_reduce_names[kind], length))
            return (reduce_t)kind;
    return REDUCE_NONE;
}

//  Combines value into the reduction (count: one more).
static void s_reduce(fold_t *self, __int128 value, bool first)
{
    if (first) {
        self->value = value;
        return;
    }
    switch (self->reduce) {
        case REDUCE_SUM:
        case REDUCE_COUNT:
            if (__builtin_add_overflow(self->value, value, &self->value))
                self->overflow = true;
            break;
        case REDUCE_MIN:
            self->value = value < self->value ? value : self->value;
            break;
        case REDUCE_MAX:
            self->value = value > self->value ? value : self->value;
            break;
        default:
            break;
    }
}

void fold_add(fold_t *self, int32_t id, uint8_t status, const void *text, size_t size)
{
    if (nodeset_contains(self->all, id))
        return; //  one answer per node: the first
    nodeset_add(self->all, id);
    if (self->reduce != REDUCE_NONE && status == WIRE_OK) {
        int64_t number;
        const char *begin = (const char *)text;
        if (self->reduce == REDUCE_COUNT ||
            (size && int64_parse(begin, begin + size, &number) == 0)) {
            s_reduce(self, self->reduce == REDUCE_COUNT ? 1 : number,
                     nodeset_empty(self->reduced));
            nodeset_add(self->reduced, id);
            return;
        }
        status = WIRE_ERROR;
        text = FOLD_NOT_A_NUMBER;
        size = strlen(FOLD_NOT_A_NUMBER);
    }
    nodeset_add(s_group(self, status, text, size)->ids, id);
}

bool fold_merge(fold_t *self, const fold_t *other)
{
    if (other->reduce != self->reduce || nodeset_overlaps(self->all, other->all))
        return false;
    nodeset_merge(self->all, other->all);
    for (size_t index = 0; index < other->count; index++) {
        const group_t *group = &other->groups[index];
        nodeset_merge(s_group(self, group->status, group->text, group->size)->ids,
                      group->ids);
    }
    if (!nodeset_empty(other->reduced)) {
        s_reduce(self, other->value, nodeset_empty(self->reduced));
        self->overflow = self->overflow || other->overflow;
        nodeset_merge(self->reduced, other->reduced);
    }
    return true;
}

reduce_t fold_reduction(const fold_t *self)
{
    return self->reduce;
}

const nodeset_t *fold_ids(const fold_t *self)
{
    return self->all;
}

size_t fold_size(const fold_t *self)
{
    return self->count;
}

static int s_by_first_id(const void *a, const void *b)
{
    int32_t left = nodeset_range(((const fold_group_t *)a)->ids, 0).first;
    int32_t right = nodeset_range(((const fold_group_t *)b)->ids, 0).first;
    return (left > right) - (left < right);
}

void fold_groups(const fold_t *self, fold_group_t *out)
{
    for (size_t index = 0; index < self->count; index++) {
        const group_t *group = &self->groups[index];
        out[index] = (fold_group_t){group->status, group->text, group->size, group->ids};
    }
    //  A group always holds an id: it is made for one.
    qsort(out, self->count, sizeof *out, s_by_first_id);
}

const nodeset_t *fold_reduced(const fold_t *self, int64_t *value, bool *overflow)
{
    //  A sum's parts may leave int64 on the way: only the whole decides.
    bool fits = self->value >= INT64_MIN && self->value <= INT64_MAX;
    *value = fits ? (int64_t)self->value : 0;
    *overflow = self->overflow || !fits;
    return nodeset_empty(self->reduced) ? NULL : self->reduced;
}

//  --- Wire form
//  -------------------------------------------------------------------------

typedef struct {
    uint8_t *data;
    size_t used, size;
} out_t;

static uint8_t *s_room(out_t *out, size_t size)
{
    if (out->used + size > out->size) {
        out->size = (out->used + size) * 2;
        out->data = (uint8_t *)mem_realloc(out->data, out->size);
    }
    out->used += size;
    return out->data + out->used - size;
}

static void s_put_ranges(out_t *out, const nodeset_t *ids)
{
    nodeset_encode(ids, s_room(out, nodeset_encoded_size(ids)));
}

uint8_t *fold_encode(const fold_t *self, size_t *size)
{
    out_t out = {NULL, 0, 0};
    *s_room(&out, 1) = (uint8_t)self->reduce;
    if (self->reduce != REDUCE_NONE) {
        *s_room(&out, 1) = self->overflow;
        uint8_t *at = s_room(&out, 16);
        wire_put_u64(at, (uint64_t)((unsigned __int128)self->value >> 64));
        wire_put_u64(at + 8, (uint64_t)self->value);
        s_put_ranges(&out, self->reduced);
    }
    fold_group_t *groups = (fold_group_t *)zmalloc(self->count * sizeof *groups);
    fold_groups(self, groups);
    for (size_t index = 0; index < self->count; index++) {
        *s_room(&out, 1) = groups[index].status;
        wire_put_u32(s_room(&out, 4), (uint32_t)groups[index].size);
        if (groups[index].size)
            memcpy(s_room(&out, groups[index].size), groups[index].text,
                   groups[index].size);
        s_put_ranges(&out, groups[index].ids);
    }
    free(groups);
    *size = out.used;
    return out.data;
}

typedef struct {
    const uint8_t *data;
    size_t left;
} in_t;

static const uint8_t *s_take(in_t *in, size_t size)
{
    if (in->left < size)
        return NULL;
    const uint8_t *at = in->data;
    in->data += size;
    in->left -= size;
    return at;
}

//  A set into ids (empty before): at least one id unless empty is allowed.
static const char *s_get_ranges(in_t *in, nodeset_t *ids, bool empty)
{
    size_t used;
    const char *error = nodeset_decode(in->data, in->left, &used, ids, empty);
    if (!error)
        s_take(in, used);
    return error;
}

static const char *s_decode(fold_t *self, in_t *in)
{
    if (self->reduce != REDUCE_NONE) {
        const uint8_t *at = s_take(in, 17);
        if (!at)
            return "a fold is cut short";
        if (at[0] > 1)
            return "a fold's overflow flag is not 0 or 1";
        self->overflow = at[0];
        self->value = (__int128)(((unsigned __int128)wire_get_u64(at + 1) << 64) |
                                 wire_get_u64(at + 9));
        const char *error = s_get_ranges(in, self->reduced, true);
        if (error)
            return error;
        if (nodeset_empty(self->reduced) && (self->value || self->overflow))
            return "a fold's reduction has a value but no ids";
        nodeset_merge(self->all, self->reduced);
    }
    int64_t previous_first = (int64_t)INT32_MIN - 1;
    while (in->left) {
        const uint8_t *at = s_take(in, 5);
        if (!at)
            return "a fold is cut short";
        uint8_t status = at[0];
        if (status > WIRE_UNAVAILABLE)
            return "a fold's status is unknown";
        size_t size = wire_get_u32(at + 1);
        const uint8_t *text = s_take(in, size);
        if (!text)
            return "a fold is cut short";
        if (*s_slot(self, status, text, size))
            return "a fold holds one answer twice";
        nodeset_t *ids = nodeset_new();
        const char *error = s_get_ranges(in, ids, false);
        if (!error && nodeset_range(ids, 0).first <= previous_first)
            error = "a fold's groups are out of order";
        if (!error && nodeset_overlaps(self->all, ids))
            error = "a fold holds an id twice";
        if (!error) {
            previous_first = nodeset_range(ids, 0).first;
            nodeset_merge(self->all, ids);
            nodeset_merge(s_group(self, status, text, size)->ids, ids);
        }
        nodeset_destroy(&ids);
        if (error)
            return error;
    }
    return NULL;
}

fold_t *fold_decode(const uint8_t *data, size_t size, const char **reason)
{
    in_t in = {data, size};
    const uint8_t *reduce = s_take(&in, 1);
    if (!reduce || *reduce >= REDUCE_KINDS) {
        *reason = reduce ? "a fold's reduction is unknown" : "a fold is cut short";
        return NULL;
    }
    fold_t *self = fold_new((reduce_t)*reduce);
    *reason = s_decode(self, &in);
    if (*reason)
        fold_destroy(&self);
    return self;
}
