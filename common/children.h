/*  children — the processes a node (controller or worker) has spawned as its child
    nodes: the ROUTER they connect to, spawning with posix_spawn, reaping, and the
    table that maps node id to pid and process state.

    The same unit serves the controller (node -1) and every worker, because "the
    parent process of a node is its parent node" holds at every level. */
#ifndef MQTREE_CHILDREN_H
#define MQTREE_CHILDREN_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "fanout.h"
#include "log.h"
#include "wire.h"

typedef struct {
    int32_t id;
    pid_t pid;
    bool ready;   //  its HELLO was heard: it is connected and can be sent to
    bool stopped; //  seen stopped through waitpid(WUNTRACED), not yet continued
    //  The CREATE request to answer when the child says HELLO (0: none).
    uint64_t create_request;
    int64_t create_deadline_us;
    int create_timer; //  the owner's timer for that deadline, 0 if none
    //  The REMOVE request to answer once the killed child is reaped (0: none).
    uint64_t remove_request;
    //  Heartbeats: when the last one arrived, and whether its absence was reported.
    int64_t last_beat_ms;
    bool lost;
} child_t;

typedef struct {
    int32_t self_id;
    const char *worker_path; //  the mqtree-worker binary
    const char *run_dir;     //  ipc endpoints live here
    bool tcp;                //  tcp://127.0.0.1 instead of ipc
    bool bst;                //  a binary search tree: requests are routed by key
    log_level_t log_level;   //  passed on to every child
    size_t children_max;     //  spawn refuses beyond it (see limits.h); 0: none
    size_t max_reply;        //  passed on to every child (--max-reply); 0: its default
} children_config_t;

typedef struct _children_t children_t;

//  Binds the ROUTER children connect to. Returns NULL on failure.
children_t *children_new(const children_config_t *config);

//  SIGKILLs every child still running and reaps them.
void children_destroy(children_t **self_p);

zsock_t *children_router(children_t *self);
const char *children_endpoint(children_t *self);

//  Spawns the worker process for node id. Returns the new entry (not yet ready),
//  or NULL with errno set. An older process of the same id that is not reaped yet
//  is SIGKILLed and forgotten: one id, one live process. EMFILE when the node
//  already has children_max children.
child_t *children_spawn(children_t *self, int32_t id);

//  The reply text for a spawn that failed with error (an errno): the limit for
//  EMFILE at the limit, else the system's reason. The caller frees it.
char *children_spawn_error(children_t *self, int error);

//  Children in the table: running, starting, or killed and not yet reaped (each
//  still holds a connection, so each still costs a descriptor).
size_t children_count(children_t *self);

child_t *children_find(children_t *self, int32_t id);

//  Takes one message from the ROUTER, if one is waiting: returns 1 with a valid
//  message from a child (its routing frame removed) in *msg, *child and *header;
//  0 for a message dropped as malformed or foreign (logged); -1 if none is waiting.
int children_recv(children_t *self, zmsg_t **msg, child_t **child, wire_header_t *header);

//  A HELLO from child: true, and the child marked ready, if it names the child and
//  the pid we spawned; false (and logged as dropped) otherwise.
bool children_hello(children_t *self, child_t *child, const wire_header_t *header,
                    zmsg_t *msg);

//  Iteration over the table; entries must not be removed while iterating.
child_t *children_first(children_t *self);
child_t *children_next(children_t *self);

//  Sends msg to child id (its routing id is added here). Returns -1, msg destroyed,
//  if the child's connection is gone.
int children_send(children_t *self, int32_t id, zmsg_t **msg);

//  Sends a request with an empty path (header->node set to each child in turn, and
//  a copy of body if given) to every child that is ready and not stopped, and, with
//  a fanout, records each one reached as awaited.
void children_fan_out(children_t *self, wire_header_t *header, zframe_t *body,
                      fanout_t *fanout);

//  SIGKILLs the child's process; it stays in the table until it is reaped.
void children_kill(children_t *self, child_t *child);

//  Called by children_reap for every process status change that waitpid reports.
//  child is NULL for a process that is not in the table (a reparented orphan).
//  For an exit, the entry has already left the table (a process spawned from the
//  handler may take its id) and is freed right after the call. Processes replaced
//  by a newer one of the same id are reaped silently.
typedef void(children_event_fn)(void *arg, child_t *child, pid_t pid, int status);

//  Collects every status change waiting in the kernel. Returns how many.
int children_reap(children_t *self, children_event_fn *handler, void *arg);

//  The socket file of a node's ROUTER: its name in the run directory, and its path.
//  Workers bind the path (libzmq unlinks a stale file there first and the socket
//  file at close): safe, since no one but root and us can change any directory on
//  the way (run_dir.h). The controller removes a removed node's file by name,
//  relative to the run directory's descriptor (run_dir_unlink).
char *children_ipc_name(int32_t id);
char *children_ipc_path(const char *run_dir, int32_t id);

#endif
