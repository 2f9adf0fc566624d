/*  fanout — one broadcast (wire.h) fanned out to a node's children and their answers
    gathered: the node passes it to each child on the way to a target, runs its own
    op if it is one, and waits for those answers until its deadline, a child's death
    (or stop, when it asks for presence alone: a stopped child may still run an op
    after SIGCONT, so an op waits for it), or the last answer, whichever comes first,
    then answers for its whole subtree at once with one fold (fold.h): identical
    answers grouped, reductions combined. pingall and every tree-wide exec are
    gathered this way at every level, so the controller receives one message per
    child of its own (two for an op that changes nodes, below), and a hung subtree
    anywhere costs one deadline, never a sum of them.

    An answer sent at the deadline, with children still silent, is partial
    (WIRE_PARTIAL): the node then passes each late answer up as it comes, until the
    last one (WIRE_OK). So whether a level's answer reaches its parent in time never
    depends on that level's timer firing before its parent's: only the controller
    keeps time in reserve, for the last answers to climb the tree.

    A node's own answer to an op that changes nodes (set, timer, run: the owner says
    which) is not held for its subtree's: it goes up as a partial answer as soon as
    it is known, as a single exec's reply would. Held, it was lost with the node when
    the node was stopped, and a change that took effect was reported failed (at most
    once). One level up it waits with the rest of that subtree as any answer does: its
    parent, which runs, passes it on with them, or at its own deadline if the node
    stays stopped. (Passing every answer
    on at once at every level made a chain of 290 carry 42,000 messages for one `set`,
    too slow for its deadline; held this way a node sends two at most.)

    fanout_t is the bookkeeping of one; fanouts_t runs a node's: it sends down,
    times, and sends answers up through the node's function. */
#ifndef MQTREE_FANOUT_H
#define MQTREE_FANOUT_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "../common/timers.h"
#include "../common/wire.h"
#include "children.h"
#include "fold.h"

typedef struct {
    uint64_t request_id;
    int64_t deadline_us;
    int64_t asked_us;  //  when the request came (the caller's, to time the wait)
    int timer_id;      //  the deadline timer (timers.h), 0 if none
    bool answered;     //  a partial answer went up (at the deadline, or the node's own)
    bool lingering;    //  its deadline passed: late answers follow as they come
    bool effects;      //  it runs an op (not presence alone, as pingall)
    bool streams;      //  its op changes nodes: the node's own answer goes up at once
    zhashx_t *waiting; //  child ids not answered yet, and our own (an idmap set)
    fold_t *fold;      //  the answers gathered since the last one went up
} fanout_t;

//  limit: the fold's (fold_limit), 0 for none.
fanout_t *fanout_new(uint64_t request_id, int64_t deadline_us, reduce_t reduce,
                     size_t limit);
void fanout_destroy(fanout_t **self_p);

//  A child was asked (or the node's own op started) and its answer is awaited.
void fanout_expect(fanout_t *self, int32_t child);

//  Records one node's answer (the node's own).
void fanout_add(fanout_t *self, int32_t id, uint8_t status, const void *text,
                size_t size);

//  A child's answer: the fold of its subtree's answers (fold.h), encoded; complete
//  unless the child answered partially at its deadline (then more of its subtree
//  may answer later, and it stays awaited). Returns false (and records nothing) if
//  that child was not awaited, or the answer is not a fold, or names a node already
//  gathered.
bool fanout_answer(fanout_t *self, int32_t child, const byte *answer, size_t size,
                   bool complete);

//  The answers gathered so far went up in a partial answer: forgets them, and marks the
//  fanout answered.
void fanout_sent(fanout_t *self);

//  A child will not answer (its process ended or stopped). Returns true if it was
//  awaited.
bool fanout_forget(fanout_t *self, int32_t child);

bool fanout_done(fanout_t *self);

//  The sets a broadcast carries (wire.h): its targets, then the nodes on the way to
//  them (its reach), each made here; both NULL when it is for every node below.
//  Returns false, both NULL, when the bytes are not exactly two sets.
bool fanout_sets(const wire_msg_t *request, nodeset_t **targets, nodeset_t **reach);

//  The deadline a node gives the children it asks: a little less than its own, so
//  that its children's answers usually reach it before it answers itself, in one
//  message. Each level keeps a fixed fraction of the time left, 1/FANOUT_SHARE,
//  and no fixed amount: a fixed amount per level (1 ms before) adds up with depth
//  and left nothing below depth ~240, while a fraction shrinks the time left
//  geometrically: at depth 500, 1/512 leaves a 2000 ms timeout's children ~700 ms.
//  (Late answers are passed up anyway, see above: this margin is not a guarantee.)
#define FANOUT_SHARE 512
int64_t fanout_child_deadline(int64_t deadline_us, int64_t now_us);

//  The deadline the controller gives its own children: it keeps 1/FANOUT_RESERVE of
//  the time for the last, late answers to climb the tree (≈ 0.1 ms a level, more on
//  a loaded machine: 125 ms of a 2000 ms timeout covers a climb of 500 levels at
//  0.25 ms, and one late timer).
#define FANOUT_RESERVE 16
int64_t fanout_root_deadline(int64_t deadline_us, int64_t now_us);

//  --- The fanouts of a node --------------------------------------------------------

//  send_up: a message for the parent (taken). run: the node's own op, an EXEC
//  (taken or not; the caller destroys what is left) whose answer comes back through
//  fanouts_own, at once or later.
typedef void(fanout_send_fn)(void *arg, wire_msg_t **msg);
typedef void(fanout_run_fn)(void *arg, wire_msg_t **exec);
typedef struct _fanouts_t fanouts_t;

//  Whether an op (a broadcast's op name) changes the nodes it runs on (ops.h).
typedef bool(fanout_changes_fn)(const wire_bytes_t *op);
//  run NULL: the node runs no op of its own and is no target (node -1, the
//  controller, answers for its subtree only). reply_max: the limit of every fold it
//  gathers and sends (--max-reply, fold_limit), 0 for none.
fanouts_t *fanouts_new(int32_t self_id, size_t reply_max, children_t *children,
                       timers_t *timers, fanout_send_fn *send_up, fanout_run_fn *run,
                       void *arg);
void fanouts_destroy(fanouts_t **self_p);

//  Which ops change nodes, whose node's own answer goes up at once (above). None
//  unless told (node -1 answers the controller itself: nothing of its could be lost).
void fanouts_set_changes(fanouts_t *self, fanout_changes_fn *changes);

//  A BROADCAST for this node: asks every reachable child on the way to a target,
//  runs its own op if it is a target, answers up when all have answered (at once if
//  none was asked), or at the request's deadline with what it has. A broadcast with
//  no request id, or whose sets are not two node sets, is dropped.
void fanouts_start(fanouts_t *self, const wire_msg_t *request);

//  The node's own answer to request_id: false if it is no broadcast's (a plain
//  exec's, to send up); true if it was taken (or dropped as late).
bool fanouts_own(fanouts_t *self, uint64_t request_id, uint8_t status, const void *text,
                 size_t size);

//  A reply from child: false if it answers none of our fanouts (someone else's, to
//  pass up); true if it was ours (taken into account, or dropped as malformed).
bool fanouts_answer(fanouts_t *self, child_t *child, const wire_msg_t *reply);

//  A child will not answer: its process is gone (gone), or it is stopped or silent.
//  Fanouts waiting for it only answer now: all of them when it is gone, those that
//  ask for presence alone (pingall, ping SET) when it is stopped or silent; one that
//  runs an op waits for it to its deadline (it may run the op after SIGCONT).
void fanouts_forget(fanouts_t *self, int32_t child, bool gone);

#endif
