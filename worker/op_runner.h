/*  op_runner — the node's op thread: runs `exec` ops one at a time, in arrival order,
    off the routing loop, so a node busy computing keeps routing and answering.

    Pipe protocol (inproc, so frames move without copying):
        loop -> runner:  request-id:8  deadline-ms:8  op  args
        runner -> loop:  request-id:8  status:1  text
    A request whose deadline has passed when its turn comes is dropped: nobody waits
    for its answer, and running it late would change state behind the user's back. */
#ifndef MQTREE_OP_RUNNER_H
#define MQTREE_OP_RUNNER_H

#include <czmq.h>

zactor_t *op_runner_new(void);

//  Hands one EXEC request's op and args frames to the runner (frames are taken).
void op_runner_submit(zactor_t *runner, uint64_t request_id, int64_t deadline_ms,
                      zframe_t **op, zframe_t **args);

#endif
