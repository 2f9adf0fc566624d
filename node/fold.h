/*  fold — the answers of many nodes to one tree-wide command, folded: answers with
    the same status and text form one group, whose nodes are a node set. A node folds
    its own answer with its children's folds and sends one fold up; the controller
    prints a line per group, groups in the order of their first id. With a reduction
    (sum, min, max), numeric answers fold into one value and the ids that gave it
    instead; an Ok answer that is not a number becomes an error group of its own.
    count counts the Ok answers, whatever they say.

    A fold may be given a limit (--max-reply): the texts of its groups then total at
    most that many bytes, and an answer that would need a new group past it is counted
    in one group of its own, FOLD_TOO_LARGE. So no node, the controller included, holds
    or sends more than the limit of answers, however many nodes answer differently;
    which answers make it in depends on the order they arrive in.

    Pure: no sockets, no clock. The wire form is encoded and checked here:

        reduction:1 [overflow:1 value:16 ranges]  groups...
        group:  status:1  text-length:4  text  ranges
        ranges: count:4  (first:4 last:4)...   ascending, never touching

    The decoder takes one encoding per fold only (groups in the order of their first
    id, no two with the same answer, no id in two places), so a fold read and written
    again gives the same bytes. */
#ifndef MQTREE_FOLD_H
#define MQTREE_FOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/nodeset.h"

typedef enum {
    REDUCE_NONE = 0,
    REDUCE_SUM,
    REDUCE_MIN,
    REDUCE_MAX,
    REDUCE_COUNT,
    REDUCE_KINDS
} reduce_t;

//  "sum", "min", "max", "count" (NULL for none); and back from a word (REDUCE_NONE if
//  it names none).
const char *fold_reduce_name(reduce_t reduce);
reduce_t fold_reduce_named(const char *word, size_t length);

//  What an answer that is not a number becomes under a reduction.
#define FOLD_NOT_A_NUMBER "Result is not a number"
//  What an answer becomes when its text does not fit in the fold's limit (an error).
#define FOLD_TOO_LARGE "Reply too large"

typedef struct _fold_t fold_t;

typedef struct {
    uint8_t status; //  a wire_status_t
    const uint8_t *text;
    size_t size;
    const nodeset_t *ids;
} fold_group_t;

fold_t *fold_new(reduce_t reduce);
void fold_destroy(fold_t **self_p);

//  The texts of its groups will total at most bytes from now on (0: no limit; a limit
//  holds the FOLD_TOO_LARGE group's text beyond it).
void fold_limit(fold_t *self, size_t bytes);
//  Emptied of every answer; its reduction and limit stay.
void fold_clear(fold_t *self);

//  One node's answer.
void fold_add(fold_t *self, int32_t id, uint8_t status, const void *text, size_t size);
//  Another fold's answers (a child's subtree): it must have the same reduction and
//  no id of this one's. Returns false, adding nothing, otherwise.
bool fold_merge(fold_t *self, const fold_t *other);

reduce_t fold_reduction(const fold_t *self);

//  Every id it holds an answer of (the fold's own set, valid while it lives).
const nodeset_t *fold_ids(const fold_t *self);

//  Its groups, in the order of their first id: how many, and each into out
//  (fold_size entries; views into the fold).
size_t fold_size(const fold_t *self);
void fold_groups(const fold_t *self, fold_group_t *out);

//  The reduction's value and the ids that gave it (NULL when none did, or with no
//  reduction); *overflow when a sum is outside int64 (the value is then 0). Sums are
//  kept in 128 bits, so parts that leave int64 on the way change nothing: only the
//  whole sum decides, whatever the tree's shape and the answers' order.
const nodeset_t *fold_reduced(const fold_t *self, int64_t *value, bool *overflow);

uint8_t *fold_encode(const fold_t *self, size_t *size);
//  NULL, with *reason pointed at a static description, when data is not a fold.
fold_t *fold_decode(const uint8_t *data, size_t size, const char **reason);

#endif
