/*  op_runner — the node's op thread: runs `exec` ops one at a time, in arrival order,
    off the routing loop, so a node busy computing keeps routing and answering.

    Pipe protocol (an inproc PAIR, so frames move without copying):
        loop -> runner:  request-id:8  deadline-us:8  op  args
        runner -> loop:  request-id:8  status:1  text     an op that ran
                         request-id:8                     an op dropped unrun
    A request whose deadline has passed when its turn comes is dropped: nobody waits
    for its answer, and running it late would change state behind the user's back.
    The loop still hears of it, to keep its count of ops on the thread.

    The pipe's queues are unbounded both ways. zactor's pipe has the default high-water
    mark of 1000 messages: with more than that in flight the loop blocks sending work
    while the runner blocks sending results, and the node deadlocks. */
#ifndef MQTREE_OP_RUNNER_H
#define MQTREE_OP_RUNNER_H

#include <czmq.h>
#include <stddef.h>

typedef struct _op_runner_t op_runner_t;

op_runner_t *op_runner_new(void);

//  Ends the thread once its current op is done.
void op_runner_destroy(op_runner_t **self_p);

//  The loop's end of the pipe: results arrive here.
//  The longest result text an op may build (see ops_set_reply_max). Call before
//  the first op.
void op_runner_set_reply_max(op_runner_t *self, size_t bytes);

zsock_t *op_runner_sock(op_runner_t *self);

//  Hands one EXEC request's op and args frames to the runner (frames are taken).
void op_runner_submit(op_runner_t *self, uint64_t request_id, int64_t deadline_us,
                      zframe_t **op, zframe_t **args);

//  The loop took back one result.
void op_runner_taken(op_runner_t *self);

//  Runs a small op (little argument text, not sleep) right here, when no op is
//  pending on the thread, so order is kept: 0 or -1 as ops_run; -2 if not.
int op_runner_run_here(op_runner_t *self, zframe_t *op, zframe_t *args, char **result);

#endif
