/*  pingall — the controller's pingalls in flight: the nodes there were when each was
    sent, and the ids that answered so far; at the end, those that did not. The
    answer is the tree's state at the line, as typed lines would see it: a node
    created since was never asked, and one removed since is reported as it was. */
#ifndef MQTREE_PINGALL_H
#define MQTREE_PINGALL_H

#include <czmq.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _pingalls_t pingalls_t;

pingalls_t *pingalls_new(void);
void pingalls_destroy(pingalls_t **self_p);

//  A pingall was sent: ids are the nodes of the tree then (copied).
void pingalls_start(pingalls_t *self, uint64_t request_id, const int32_t *ids,
                    size_t count);

//  An answer: the fold (node/fold.h) of the nodes that answered. Returns -1 (nothing
//  recorded) if there is no such pingall or the answer is not a fold.
int pingalls_answer(pingalls_t *self, uint64_t request_id, const byte *answer, size_t size);

//  Ends a pingall: the ids asked that did not answer, ascending, in a fresh array the
//  caller frees (never NULL), their number in *count.
int32_t *pingalls_end(pingalls_t *self, uint64_t request_id, size_t *count);

#endif
