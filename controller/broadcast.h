/*  broadcast — the controller's tree-wide commands in flight (pingall, and exec or
    ping to a node set): what each asked, the answers merged as they come (each a
    fold of node -1's subtree, fold.h), and at the end what the user is told. The
    answer is the tree's state at the line, as typed lines would see it: a node
    created since was never asked, and one removed since is reported as it was. */
#ifndef MQTREE_BROADCAST_H
#define MQTREE_BROADCAST_H

#include <czmq.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/nodeset.h"
#include "../node/fold.h"
#include "output.h"

typedef struct {
    int kind;           //  the command answered: CMD_PINGALL, CMD_EXEC or CMD_PING
    char *set;          //  exec and ping: the set as typed
    nodeset_t *targets; //  the nodes asked
    nodeset_t *missing; //  what the set names that is not in the tree
    fold_t *answers;    //  what came back so far, merged
} broadcast_t;

//  A broadcast with empty sets and no answer; set is copied (NULL: none). limit: its
//  answers' (fold_limit, --max-reply), 0 for none.
broadcast_t *broadcast_new(int kind, reduce_t reduce, const char *set, size_t limit);
void broadcast_destroy(broadcast_t **self_p);

//  The targets that did not answer, ascending, in a fresh array the caller frees
//  (never NULL), their number in *count: pingall's answer.
int32_t *broadcast_unavailable(const broadcast_t *self, size_t *count);

//  The lines of its folded reply, in the order of their first id: each group of
//  answers, the reduction, the ids not found and those that did not answer (for
//  ping "Ok:<ids>: 1" and "Ok:<ids>: 0"). Texts are escaped (text.h). Returns how
//  many; free them with broadcast_lines_free.
size_t broadcast_lines(const broadcast_t *self, result_group_t **lines);
void broadcast_lines_free(result_group_t **lines, size_t count);

typedef struct _broadcasts_t broadcasts_t;

broadcasts_t *broadcasts_new(void);
void broadcasts_destroy(broadcasts_t **self_p);

//  A broadcast was sent as request_id (taken).
void broadcasts_start(broadcasts_t *self, uint64_t request_id, broadcast_t **broadcast);

//  An answer: a fold (node/fold.h). Returns -1 (nothing recorded) if there is no
//  such broadcast or the answer is not a fold of its kind, or names a node twice.
int broadcasts_answer(broadcasts_t *self, uint64_t request_id, const byte *answer,
                      size_t size);

//  Ends a broadcast: it is the caller's (NULL if there is none).
broadcast_t *broadcasts_end(broadcasts_t *self, uint64_t request_id);

#endif
