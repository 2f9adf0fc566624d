/*  node — one node of the tree, the core both binaries share: the parent link, the
    children (node/children.h), routing a request down by its path or by key, the
    handlers of each message kind, fan-out and fan-in (fanout.h), heartbeats
    (heartbeat.h) and deadlines, on an injected clock.

    The controller is node -1: it has no parent link, and what would go up reaches it
    through on_up; it hands its own requests to node_request as if they came from a
    parent. A worker is a node with a parent link and an op runner behind on_exec.
    The core calls up only through these handlers: nothing in node/ knows its owner. */
#ifndef MQTREE_NODE_H
#define MQTREE_NODE_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/loop.h"
#include "../common/timers.h"
#include "../common/wire.h"
#include "children.h"

typedef struct {
    int32_t id;
    const char *parent_endpoint; //  NULL for the root: what goes up goes to on_up
    const char *route;           //  its routing id at the parent (NULL: its id)
    pid_t pid;                   //  said in HELLO; 0: getpid() (tests set their own)
    children_config_t children;  //  how children are started (self_id is set here)
    clock_source_t clock;        //  now_us NULL: CLOCK_MONOTONIC
} node_config_t;

typedef struct {
    //  An EXEC for this node (taken, or left to be destroyed): a request's, or its
    //  own part of a broadcast. It answers with node_reply or node_op_reply. NULL:
    //  answered with an error, and the node is no target of broadcasts (node -1).
    void (*on_exec)(void *owner, wire_msg_t **msg);
    //  Whether an op changes the node it runs on (ops_changes): a broadcast's
    //  answers of such an op are passed up at once (fanout.h). NULL: none does.
    bool (*op_changes)(const wire_bytes_t *op);
    //  The root only: a reply or event that would go up (taken).
    void (*on_up)(void *owner, wire_msg_t **msg);
    //  A reaped process that is no child of this node (an orphan given to us).
    void (*on_other)(void *owner, pid_t pid, int status);
    //  The node has handled a batch of messages or run its timers (in its loop, or
    //  node_poll): the end of a turn, for the owner's bookkeeping (NULL: none).
    void (*on_woken)(void *owner);
    //  A JOIN from a worker on the --listen endpoint (taken), with the routing id to
    //  answer it on (node_join_reply). NULL: dropped.
    void (*on_join)(void *owner, const char *route, wire_msg_t **msg);
} node_handlers_t;

typedef struct _node_t node_t;

//  Binds the children's endpoint and connects to the parent. With a loop, the
//  node's sockets and timers are registered on it; without, the caller drives it
//  with node_poll. NULL on failure (logged).
node_t *node_new(const node_config_t *config, loop_t *loop,
                 const node_handlers_t *handlers, void *owner);

//  Kills every child still running and, for processes, reaps them.
void node_destroy(node_t **self_p);

//  Says HELLO to the parent: the node is ready.
void node_start(node_t *self);

//  A request from above (taken): run here, or passed down one hop.
void node_request(node_t *self, wire_msg_t **msg);

//  Sends a reply or event up (taken).
void node_send_up(node_t *self, wire_msg_t **msg);
//  An answer of this node's: to a request for it, or its own part of a broadcast
//  (which joins the broadcast's answer instead of going up alone).
void node_reply(node_t *self, uint64_t request_id, wire_status_t status,
                const void *text, size_t size);
//  The same for a REPLY the owner has (taken): an op's result.
void node_op_reply(node_t *self, wire_msg_t **reply);

//  Answers a JOIN (taken) on the connection route.
void node_join_reply(node_t *self, const char *route, wire_msg_t **msg);

//  Binds the children's ROUTER to endpoint as well (the controller's --listen).
int node_listen(node_t *self, const char *endpoint);

//  Whether anything came from the parent yet (a joined worker is welcomed by its
//  parent's first message), and whether the parent told this node to LEAVE.
bool node_parent_heard(node_t *self);
bool node_left(node_t *self);
zsock_t *node_upstream(node_t *self);
//  The ROUTER its children talk to (tests that drive nodes without a loop wait on it).
zsock_t *node_router(node_t *self);

//  Reaps every child process that changed state (after SIGCHLD).
void node_reap(node_t *self);
//  One waitpid status of pid: for tests, and for node_reap.
void node_child_status(node_t *self, pid_t pid, int status);

//  Handles the messages waiting on the node's sockets (from its parent a batch,
//  from its children all), then runs the timers that are due: what has arrived
//  counts before a deadline does. Returns how many messages and timers it handled.
int node_poll(node_t *self);

size_t node_children_count(node_t *self);
//  The messages the node received from its children and sent them, since the start.
void node_counts(node_t *self, uint64_t *received, uint64_t *sent);
child_t *node_child(node_t *self, int32_t id);
const char *node_endpoint(node_t *self);
timers_t *node_timers(node_t *self);

//  Ends a process of this host's tree (children_kill_pid): SIGKILL, or in the tests
//  their spawner's kill.
void node_kill_pid(node_t *self, pid_t pid);
int node_heartbeat_interval(node_t *self);

#endif
