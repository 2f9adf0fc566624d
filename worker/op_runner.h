/*  op_runner — the node's op thread: runs `exec` ops one at a time, in arrival order,
    off the routing loop, so a node busy computing keeps routing and answering.
    The thread starts with the first op submitted and may be stopped when idle
    (op_runner_stop): an idle worker has no thread beyond libzmq's two.

    The pipe (an inproc PAIR, so frames move without copying) carries wire messages:
    EXEC requests in, REPLY results out (wire.h). An EXEC whose deadline has passed
    when its turn comes is dropped without a reply: nobody waits for its answer, and
    running it late would change state behind the user's back.

    The pipe's queues are unbounded both ways. zactor's pipe has the default high-water
    mark of 1000 messages: with more than that in flight the loop blocks sending work
    while the runner blocks sending results, and the node deadlocks. */
#ifndef MQTREE_OP_RUNNER_H
#define MQTREE_OP_RUNNER_H

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>

#include "../common/wire.h"

typedef struct _op_runner_t op_runner_t;

op_runner_t *op_runner_new(void);

//  Ends the thread, if started, once its current op is done.
void op_runner_destroy(op_runner_t **self_p);

//  The longest result text an op may build (see ops_set_reply_max). Call before
//  the first op.
void op_runner_set_reply_max(op_runner_t *self, size_t bytes);

//  Whether the run op may start programs (--allow-run). Call before the first op.
void op_runner_set_run(op_runner_t *self, bool allowed);

//  The loop's end of the pipe: REPLY results arrive here (their node field unset).
zsock_t *op_runner_sock(op_runner_t *self);

//  Hands one EXEC to the thread (taken), starting the thread if needed: 0, or -1
//  if no thread can be started (exec is left to the caller).
int op_runner_submit(op_runner_t *self, wire_msg_t **exec);

//  Reads one result from op_runner_sock, if one is there: 1, 0 for a message that
//  is not one (cannot happen), -1 for none.
int op_runner_recv(op_runner_t *self, wire_msg_t **reply);

//  Whether a submitted op may still give a result: ops pending, or results sent and
//  not yet read. While not busy, nothing arrives on op_runner_sock.
bool op_runner_busy(op_runner_t *self);

//  Ends the thread if it is idle (not busy); the next submit starts another.
void op_runner_stop(op_runner_t *self);
bool op_runner_running(op_runner_t *self);

//  Runs a small op (little argument text, not sleep) right here, when no op is
//  pending on the thread, so order is kept: 0 or -1 as ops_run; -2 if not.
int op_runner_run_here(op_runner_t *self, const wire_msg_t *exec, char **result);

#endif
