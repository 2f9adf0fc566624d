/*  nodeset — sorted, disjoint id ranges (see nodeset.h): owns the set operations, the
    ClusterShell-style text both ways, the syntax users type, and the wire form. */
#include "nodeset.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numbers.h"
#include "wire.h"
#include "mem.h"

struct _nodeset_t {
    //  Ascending, no two overlapping or touching; unless unsorted: ranges added out of
    //  order are appended and put in order once, when the set is next read, so that
    //  building a set costs O(n log n) in any order (a list typed descending, the ids
    //  of a walk of the tree), never O(n^2).
    nodeset_range_t *ranges;
    size_t count, size;
    bool unsorted;
};

nodeset_t *nodeset_new(void)
{
    return (nodeset_t *)zmalloc(sizeof(nodeset_t));
}

void nodeset_destroy(nodeset_t **self_p)
{
    nodeset_t *self = *self_p;
    if (!self)
        return;
    free(self->ranges);
    free(self);
    *self_p = NULL;
}

static int s_by_first(const void *a, const void *b)
{
    int32_t left = ((const nodeset_range_t *)a)->first;
    int32_t right = ((const nodeset_range_t *)b)->first;
    return (left > right) - (left < right);
}

//  Puts the ranges in order and joins those that overlap or touch. A reader's
//  business, so the set is logically unchanged: const is cast away here only.
static const nodeset_t *s_sorted(const nodeset_t *set)
{
    nodeset_t *self = (nodeset_t *)set;
    if (!self->unsorted)
        return self;
    qsort(self->ranges, self->count, sizeof *self->ranges, s_by_first);
    size_t kept = 0;
    for (size_t index = 0; index < self->count; index++) {
        nodeset_range_t range = self->ranges[index];
        if (kept && range.first <= (int64_t)self->ranges[kept - 1].last + 1) {
            if (range.last > self->ranges[kept - 1].last)
                self->ranges[kept - 1].last = range.last;
        } else
            self->ranges[kept++] = range;
    }
    self->count = kept;
    self->unsorted = false;
    return self;
}

void nodeset_add_range(nodeset_t *self, int32_t first, int32_t last)
{
    if (first > last)
        return;
    if (self->count && !self->unsorted) {
        nodeset_range_t *tail = &self->ranges[self->count - 1];
        if (first >= tail->first && first <= (int64_t)tail->last + 1) {
            //  Over or right after the last range, which it only extends.
            if (last > tail->last)
                tail->last = last;
            return;
        }
        self->unsorted = first < tail->first;
    }
    if (self->count == self->size) {
        self->size = self->size ? self->size * 2 : 4;
        self->ranges =
            (nodeset_range_t *)mem_realloc(self->ranges, self->size * sizeof *self->ranges);
    }
    self->ranges[self->count++] = (nodeset_range_t){first, last};
}

void nodeset_add(nodeset_t *self, int32_t id)
{
    nodeset_add_range(self, id, id);
}

void nodeset_merge(nodeset_t *self, const nodeset_t *other)
{
    //  Appended as they are: put in order when next read.
    for (size_t index = 0; index < other->count; index++)
        nodeset_add_range(self, other->ranges[index].first, other->ranges[index].last);
}

void nodeset_subtract(nodeset_t *self, const nodeset_t *other)
{
    //  Each range less the ranges of other over it: at most one more range per range
    //  of other, built apart and swapped in.
    s_sorted(self);
    s_sorted(other);
    nodeset_t rest = {NULL, 0, 0, false};
    size_t cut = 0;
    for (size_t index = 0; index < self->count; index++) {
        int64_t first = self->ranges[index].first, last = self->ranges[index].last;
        while (cut < other->count && other->ranges[cut].last < first)
            cut++;
        for (size_t next = cut; next < other->count && other->ranges[next].first <= last;
             next++) {
            if (other->ranges[next].first > first)
                nodeset_add_range(&rest, (int32_t)first, other->ranges[next].first - 1);
            first = (int64_t)other->ranges[next].last + 1;
        }
        if (first <= last)
            nodeset_add_range(&rest, (int32_t)first, (int32_t)last);
    }
    free(self->ranges);
    *self = rest;
}

bool nodeset_contains(const nodeset_t *self, int32_t id)
{
    s_sorted(self);
    size_t low = 0, high = self->count;
    while (low < high) {
        size_t middle = (low + high) / 2;
        if (self->ranges[middle].last < id)
            low = middle + 1;
        else
            high = middle;
    }
    return low < self->count && self->ranges[low].first <= id;
}

bool nodeset_overlaps(const nodeset_t *self, const nodeset_t *other)
{
    s_sorted(self);
    s_sorted(other);
    size_t one = 0, two = 0;
    while (one < self->count && two < other->count) {
        nodeset_range_t a = self->ranges[one], b = other->ranges[two];
        if (a.last < b.first)
            one++;
        else if (b.last < a.first)
            two++;
        else
            return true;
    }
    return false;
}

bool nodeset_empty(const nodeset_t *self)
{
    return self->count == 0;
}

uint64_t nodeset_count(const nodeset_t *self)
{
    s_sorted(self);
    uint64_t ids = 0;
    for (size_t index = 0; index < self->count; index++)
        ids +=
            (uint64_t)((int64_t)self->ranges[index].last - self->ranges[index].first + 1);
    return ids;
}

size_t nodeset_ranges(const nodeset_t *self)
{
    return s_sorted(self)->count;
}

nodeset_range_t nodeset_range(const nodeset_t *self, size_t index)
{
    return s_sorted(self)->ranges[index];
}

char *nodeset_format(const nodeset_t *self)
{
    s_sorted(self);
    //  At most "-2147483648--2147483647," per range.
    char *text = (char *)mem_alloc(self->count * 24 + 1);
    size_t used = 0;
    for (size_t index = 0; index < self->count; index++) {
        nodeset_range_t range = self->ranges[index];
        const char *comma = index ? "," : "";
        if (range.first == range.last)
            used += (size_t)sprintf(text + used, "%s%d", comma, range.first);
        else
            used +=
                (size_t)sprintf(text + used, "%s%d-%d", comma, range.first, range.last);
    }
    text[used] = '\0';
    return text;
}

//  --- Wire form -----------------------------------------------------------------------

size_t nodeset_encoded_size(const nodeset_t *self)
{
    return 4 + 8 * s_sorted(self)->count;
}

void nodeset_encode(const nodeset_t *self, uint8_t *out)
{
    s_sorted(self);
    wire_put_u32(out, (uint32_t)self->count);
    for (size_t index = 0; index < self->count; index++) {
        wire_put_u32(out + 4 + 8 * index, (uint32_t)self->ranges[index].first);
        wire_put_u32(out + 8 + 8 * index, (uint32_t)self->ranges[index].last);
    }
}

const char *nodeset_decode(const uint8_t *data, size_t size, size_t *used,
                           nodeset_t *into, bool may_be_empty)
{
    if (size < 4)
        return "a set is cut short";
    uint32_t count = wire_get_u32(data);
    if (count == 0 && !may_be_empty)
        return "a set is empty";
    if ((size - 4) / 8 < count)
        return "a set is cut short";
    int64_t previous_last = (int64_t)INT32_MIN - 2;
    for (uint32_t index = 0; index < count; index++) {
        const uint8_t *at = data + 4 + 8 * (size_t)index;
        int32_t first = (int32_t)wire_get_u32(at), last = (int32_t)wire_get_u32(at + 4);
        if (first > last || first <= previous_last + 1)
            return "a set's ranges are out of order";
        previous_last = last;
    }
    //  Checked first: a refused set leaves into as it was.
    for (uint32_t index = 0; index < count; index++) {
        const uint8_t *at = data + 4 + 8 * (size_t)index;
        nodeset_add_range(into, (int32_t)wire_get_u32(at), (int32_t)wire_get_u32(at + 4));
    }
    *used = 4 + 8 * (size_t)count;
    return NULL;
}

//  --- What users type -----------------------------------------------------------------

bool nodeset_is_set(const char *word, size_t length)
{
    if (length == 3 && memcmp(word, "all", 3) == 0)
        return true;
    //  A '-' past the first byte ends the first id of a range; the first is a sign.
    for (size_t at = 0; at < length; at++)
        if (word[at] == ',' || word[at] == '/' || (word[at] == '-' && at > 0))
            return true;
    return false;
}

//  One id of an item: strict (numbers.h), at most the longest int32's length.
static int s_id(const char *begin, size_t length, int32_t *id)
{
    char text[16];
    if (length == 0 || length >= sizeof text)
        return -1;
    memcpy(text, begin, length);
    text[length] = '\0';
    return id_parse(text, id);
}

//  One item between commas.
static const char *s_item(const char *item, size_t length, nodeset_spec_t *spec)
{
    if (length == 0)
        return "an empty item";
    if (length == 3 && memcmp(item, "all", 3) == 0) {
        spec->all = true;
        return NULL;
    }
    int32_t first, last;
    if (item[length - 1] == '/') {
        if (s_id(item, length - 1, &first) != 0)
            return "a subtree is an id and '/'";
        nodeset_add(spec->subtrees, first);
        return NULL;
    }
    //  The dash of a range: the first one past the first id's sign.
    const char *dash =
        length > 1 ? (const char *)memchr(item + 1, '-', length - 1) : NULL;
    if (!dash) {
        if (s_id(item, length, &first) != 0)
            return "not an id";
        nodeset_add(spec->ids, first);
        return NULL;
    }
    size_t left = (size_t)(dash - item);
    if (s_id(item, left, &first) != 0 || s_id(dash + 1, length - left - 1, &last) != 0)
        return "a range is two ids joined by '-'";
    if (first > last)
        return "a range must go up";
    nodeset_add_range(spec->ids, first, last);
    return NULL;
}

int nodeset_parse(const char *word, size_t length, nodeset_spec_t *spec,
                  const char **reason)
{
    *spec = (nodeset_spec_t){nodeset_new(), nodeset_new(), false};
    *reason = NULL;
    size_t start = 0;
    while (!*reason && start <= length) {
        const char *comma = (const char *)memchr(word + start, ',', length - start);
        size_t end = comma ? (size_t)(comma - word) : length;
        *reason = s_item(word + start, end - start, spec);
        start = end + 1;
    }
    return *reason ? -1 : 0;
}

void nodeset_spec_release(nodeset_spec_t *spec)
{
    nodeset_destroy(&spec->ids);
    nodeset_destroy(&spec->subtrees);
    spec->all = false;
}
