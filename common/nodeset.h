/*  nodeset — sets of node ids, kept as sorted ranges that neither overlap nor touch,
    written as ClusterShell writes numeric node sets: "1-5,9,20-22" (ascending, each
    run of consecutive ids as one range). Users type them after exec and ping; folded
    replies print them. Ids are signed: a negative one is written with its sign, so
    "-5--3" is -5, -4, -3 and "-2-1" is -2 to 1. */
#ifndef MQTREE_NODESET_H
#define MQTREE_NODESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int32_t first, last; //  first <= last
} nodeset_range_t;

typedef struct _nodeset_t nodeset_t;

nodeset_t *nodeset_new(void);
void nodeset_destroy(nodeset_t **self_p);

//  Adds the ids first..last (nothing if first > last).
void nodeset_add_range(nodeset_t *self, int32_t first, int32_t last);
void nodeset_add(nodeset_t *self, int32_t id);
//  Adds every id of other.
void nodeset_merge(nodeset_t *self, const nodeset_t *other);
//  Takes out every id of other.
void nodeset_subtract(nodeset_t *self, const nodeset_t *other);

bool nodeset_contains(const nodeset_t *self, int32_t id);
//  Whether the two sets share an id.
bool nodeset_overlaps(const nodeset_t *self, const nodeset_t *other);
bool nodeset_empty(const nodeset_t *self);
//  How many ids it holds.
uint64_t nodeset_count(const nodeset_t *self);
//  Its ranges, in ascending order: how many, and one of them.
size_t nodeset_ranges(const nodeset_t *self);
nodeset_range_t nodeset_range(const nodeset_t *self, size_t index);

//  The compact form, "1-4,6" ("" when empty). The caller frees it.
char *nodeset_format(const nodeset_t *self);

//  The wire form: count:4 (first:4 last:4)..., ascending, never touching (big-endian,
//  as wire.h). nodeset_encode writes nodeset_encoded_size bytes at out.
size_t nodeset_encoded_size(const nodeset_t *self);
void nodeset_encode(const nodeset_t *self, uint8_t *out);
//  Reads one set from the start of data into (empty before, or adds to it): NULL,
//  with *used the bytes it took; or a static reason, into untouched, when the bytes
//  are not one set in its only form (or it is empty, unless may_be_empty).
const char *nodeset_decode(const uint8_t *data, size_t size, size_t *used,
                           nodeset_t *into, bool may_be_empty);

//  What a user typed where a command takes ids: a list, separated by commas, of ids,
//  ranges (first-last), whole subtrees ("N/": node N and every node below it) and
//  "all" (every node). A list with one plain id and nothing else is not a set: the
//  command names one node (nodeset_is_set).
typedef struct {
    nodeset_t *ids;      //  ids and ranges as typed
    nodeset_t *subtrees; //  the roots of the subtrees named
    bool all;
} nodeset_spec_t;

//  Whether word (length bytes) is a set rather than one id: "all", or holding a comma,
//  a slash or a range.
bool nodeset_is_set(const char *word, size_t length);

//  Parses word into spec (its sets made here; the caller releases them with
//  nodeset_spec_release, also after a failure). Returns 0, or -1 with *reason
//  pointed at a static description of what is wrong ("a range must go up", ...).
int nodeset_parse(const char *word, size_t length, nodeset_spec_t *spec,
                  const char **reason);
void nodeset_spec_release(nodeset_spec_t *spec);

#endif
