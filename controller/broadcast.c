/*  broadcast — the controller's tree-wide commands in flight, and the lines that
    answer them (see broadcast.h). */
#define _GNU_SOURCE
#include "broadcast.h"

#include <inttypes.h>
#include <stdio.h>

#include "../common/idmap.h"
#include "../common/process.h"
#include "../common/text.h"
#include "../common/wire.h"
#include "parser.h"
#include "../common/mem.h"

broadcast_t *broadcast_new(int kind, reduce_t reduce, const char *set, size_t limit)
{
    broadcast_t *self = (broadcast_t *)zmalloc(sizeof(broadcast_t));
    self->kind = kind;
    self->set = set ? mem_strdup(set) : NULL;
    self->targets = nodeset_new();
    self->missing = nodeset_new();
    self->answers = fold_new(reduce);
    fold_limit(self->answers, limit);
    return self;
}

void broadcast_destroy(broadcast_t **self_p)
{
    broadcast_t *self = *self_p;
    if (!self)
        return;
    free(self->set);
    nodeset_destroy(&self->targets);
    nodeset_destroy(&self->missing);
    fold_destroy(&self->answers);
    free(self);
    *self_p = NULL;
}

//  The targets that did not answer.
static nodeset_t *s_silent(const broadcast_t *self)
{
    nodeset_t *silent = nodeset_new();
    nodeset_merge(silent, self->targets);
    nodeset_subtract(silent, fold_ids(self->answers));
    return silent;
}

int32_t *broadcast_unavailable(const broadcast_t *self, size_t *count)
{
    nodeset_t *silent = s_silent(self);
    uint64_t ids = nodeset_count(silent);
    int32_t *list = (int32_t *)mem_alloc((ids + 1) * sizeof(int32_t));
    assert(list);
    *count = 0;
    for (size_t index = 0; index < nodeset_ranges(silent); index++) {
        nodeset_range_t range = nodeset_range(silent, index);
        for (int64_t id = range.first; id <= range.last; id++)
            list[(*count)++] = (int32_t)id;
    }
    nodeset_destroy(&silent);
    return list;
}

//  --- The lines of a folded reply ----------------------------------------------------

typedef struct {
    int32_t first; //  the first id: lines go in that order
    result_group_t line;
} line_t;

typedef struct {
    line_t *list;
    size_t count;
} lines_t;

static void s_line(lines_t *lines, const nodeset_t *ids, result_status_t status,
                   char *text)
{
    lines->list = (line_t *)mem_realloc(lines->list, (lines->count + 1) * sizeof(line_t));
    assert(lines->list);
    lines->list[lines->count++] =
        (line_t){nodeset_range(ids, 0).first, {status, nodeset_format(ids), text}};
}

static int s_by_first(const void *a, const void *b)
{
    int32_t left = ((const line_t *)a)->first, right = ((const line_t *)b)->first;
    return (left > right) - (left < right);
}

size_t broadcast_lines(const broadcast_t *self, result_group_t **out)
{
    lines_t lines = {NULL, 0};
    bool ping = self->kind == CMD_PING;
    int64_t value;
    bool overflow;
    const nodeset_t *reduced = fold_reduced(self->answers, &value, &overflow);
    if (reduced)
        s_line(&lines, reduced, overflow ? RESULT_ERROR : RESULT_OK,
               overflow ? mem_strdup("Overflow") : process_format("%" PRId64, value));
    size_t count = fold_size(self->answers);
    fold_group_t *groups = (fold_group_t *)zmalloc((count + 1) * sizeof *groups);
    fold_groups(self->answers, groups);
    for (size_t index = 0; index < count; index++) {
        result_status_t status = groups[index].status == WIRE_OK ? RESULT_OK
                                 : groups[index].status == WIRE_ERROR
                                     ? RESULT_ERROR
                                     : RESULT_UNAVAILABLE;
        //  A node's text is data: escaped, so it stays on its line (text.h).
        char *text =
            ping && status == RESULT_OK
                ? mem_strdup("1")
                : text_escape((const char *)groups[index].text, groups[index].size);
        s_line(&lines, groups[index].ids, status, text);
    }
    free(groups);
    if (!nodeset_empty(self->missing))
        s_line(&lines, self->missing, RESULT_ERROR, mem_strdup("Not found"));
    nodeset_t *silent = s_silent(self);
    if (!nodeset_empty(silent))
        s_line(&lines, silent, ping ? RESULT_OK : RESULT_UNAVAILABLE,
               mem_strdup(ping ? "0" : ""));
    nodeset_destroy(&silent);
    qsort(lines.list, lines.count, sizeof(line_t), s_by_first);
    *out = (result_group_t *)mem_alloc((lines.count + 1) * sizeof(result_group_t));
    assert(*out);
    for (size_t index = 0; index < lines.count; index++)
        (*out)[index] = lines.list[index].line;
    free(lines.list);
    return lines.count;
}

void broadcast_lines_free(result_group_t **lines, size_t count)
{
    if (!*lines)
        return;
    for (size_t index = 0; index < count; index++) {
        free((char *)(*lines)[index].ids);
        free((char *)(*lines)[index].text);
    }
    free(*lines);
    *lines = NULL;
}

//  --- In flight ----------------------------------------------------------------------

struct _broadcasts_t {
    zhashx_t *table; //  request id -> broadcast_t
};

broadcasts_t *broadcasts_new(void)
{
    broadcasts_t *self = (broadcasts_t *)zmalloc(sizeof(broadcasts_t));
    //  No destructor: an ended broadcast is the caller's.
    self->table = idmap_new();
    return self;
}

void broadcasts_destroy(broadcasts_t **self_p)
{
    broadcasts_t *self = *self_p;
    if (!self)
        return;
    for (broadcast_t *broadcast = (broadcast_t *)zhashx_first(self->table); broadcast;
         broadcast = (broadcast_t *)zhashx_next(self->table))
        broadcast_destroy(&broadcast);
    zhashx_destroy(&self->table);
    free(self);
    *self_p = NULL;
}

void broadcasts_start(broadcasts_t *self, uint64_t request_id, broadcast_t **broadcast)
{
    assert(request_id);
    zhashx_update(self->table, idmap_request_key(request_id), *broadcast);
    *broadcast = NULL;
}

int broadcasts_answer(broadcasts_t *self, uint64_t request_id, const byte *answer,
                      size_t size)
{
    broadcast_t *broadcast =
        request_id
            ? (broadcast_t *)zhashx_lookup(self->table, idmap_request_key(request_id))
            : NULL;
    const char *reason;
    fold_t *fold = broadcast ? fold_decode(answer, size, &reason) : NULL;
    bool taken = fold && fold_merge(broadcast->answers, fold);
    fold_destroy(&fold);
    return taken ? 0 : -1;
}

broadcast_t *broadcasts_end(broadcasts_t *self, uint64_t request_id)
{
    void *key = idmap_request_key(request_id);
    broadcast_t *broadcast =
        request_id ? (broadcast_t *)zhashx_lookup(self->table, key) : NULL;
    if (broadcast)
        zhashx_delete(self->table, key);
    return broadcast;
}
