/*  fanout — one request fanned out to a node's children and their answers gathered:
    the node waits for the children it asked until its deadline, a child's death or
    stop, or the last answer, whichever comes first, then answers for its whole
    subtree at once. pingall is aggregated this way at every level, so the controller
    receives one message per child of its own, and a hung subtree anywhere costs one
    deadline, never a sum of them. Pure bookkeeping: the caller sends and times. */
#ifndef MQTREE_FANOUT_H
#define MQTREE_FANOUT_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    uint64_t request_id;
    int64_t deadline_ms;
    int timer_id;      //  the caller's deadline timer, 0 if none
    zlistx_t *waiting; //  child ids not answered yet (as idmap keys)
    zchunk_t *ids;     //  ids that answered, 4 bytes each, big-endian
} fanout_t;

fanout_t *fanout_new(uint64_t request_id, int64_t deadline_ms);
void fanout_destroy(fanout_t **self_p);

//  A child was asked and its answer is awaited.
void fanout_expect(fanout_t *self, int32_t child);

//  Records one id that answered (the node's own).
void fanout_add_id(fanout_t *self, int32_t id);

//  A child's answer: the ids of its subtree that answered, packed. Returns false
//  (and records nothing) if that child was not awaited, or the ids are malformed.
bool fanout_answer(fanout_t *self, int32_t child, const byte *ids, size_t size);

//  A child will not answer (its process ended or stopped). Returns true if it was
//  awaited.
bool fanout_forget(fanout_t *self, int32_t child);

bool fanout_done(fanout_t *self);

//  The deadline a node gives the children it asks: a little less than its own, so
//  its answer still reaches its parent in time when a child never answers. The
//  margin shrinks with the time left, so a 200-deep chain still fits in a timeout.
int64_t fanout_child_deadline(int64_t deadline_ms, int64_t now_ms);

#endif
